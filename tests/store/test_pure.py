"""Store parts that need no database: event classes, rows, DSN masking, journal, sink."""

from __future__ import annotations

import logging
import typing
from typing import TYPE_CHECKING

import orjson
import pytest

from tests.store.events_factory import INSTRUMENT, T0_NS, every_event
from thalex_trio.domain import events
from thalex_trio.domain.events import EventClass, RunId, TopOfBookSnapshot, event_class
from thalex_trio.domain.market import TopOfBook
from thalex_trio.store.dsn import DsnMaskingFilter, mask_dsn
from thalex_trio.store.journal import Journal, read_journal
from thalex_trio.store.rows import TABLES, copy_line, table_of
from thalex_trio.store.sink import StoreSink

if TYPE_CHECKING:
    from pathlib import Path

RUN = RunId("run-pure")


def test_every_event_type_is_covered_and_maps_to_a_table_of_matching_width() -> None:
    samples = every_event(RUN)
    assert {type(e) for e in samples} == set(typing.get_args(events.StoreEvent))
    for event in samples:
        spec = table_of(event)
        row = spec.values(event, 1, 2)
        assert TABLES[spec.name] is spec
        assert len(row) == len(spec.columns)
        assert spec.execution is (event_class(event) is EventClass.EXECUTION)
        assert orjson.loads(orjson.dumps(row)) == list(row)  # journal-safe values
        assert spec.line(event, 1, 2) == copy_line(row)  # the compiled line agrees


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("postgresql://bot:s3cr@t!@db.example:5432/x", "postgresql://bot:***@db.example:5432/x"),
        ("postgres://bot:pw@h/x?sslmode=require", "postgres://bot:***@h/x?sslmode=require"),
        (
            "postgresql://postgres:@/postgres?host=/tmp/pg",
            "postgresql://postgres:@/postgres?host=/tmp/pg",
        ),
        ("host=h user=bot password=hunter2 dbname=x", "host=h user=bot password=*** dbname=x"),
        ("host=h password='a b c' dbname=x", "host=h password=*** dbname=x"),
        (
            "postgresql://h/x?user=bot&password=pw&sslmode=require",
            "postgresql://h/x?user=bot&password=***&sslmode=require",
        ),
    ],
)
def test_passwords_are_masked(dsn: str, expected: str) -> None:
    assert mask_dsn(dsn) == expected


def test_log_filter_masks_messages_and_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.store.mask")
    logger.addFilter(DsnMaskingFilter())
    with caplog.at_level(logging.INFO, logger="tests.store.mask"):
        logger.info("connecting to %s", "postgresql://u:topsecret@h/db")
        logger.info("password=topsecret in the message")
    assert "topsecret" not in caplog.text
    assert caplog.text.count("***") == 2


def test_journal_appends_claims_and_skips_a_torn_last_line(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl", fsync=False)
    assert journal.is_empty()
    assert journal.append([("fills", "1\t2\trun\n"), ("risk_events", "1\t3\t\\N\n")]) == 2
    with journal.path.open("ab") as file:
        file.write(b'["fills", "1\\t4\\tru')  # a crash mid-write
    claimed = journal.claim()
    assert len(claimed) == 1
    assert journal.append([("fills", "1\t5\trun\n")]) == 1  # appends go to a fresh file
    assert read_journal(claimed[0]) == {
        "fills": ["1\t2\trun\n"],
        "risk_events": ["1\t3\t\\N\n"],
    }
    journal.discard(claimed[0])
    assert not journal.is_empty()
    assert [read_journal(p) for p in journal.claim()] == [{"fills": ["1\t5\trun\n"]}]


def test_sink_samples_market_data_under_pressure_and_never_drops_execution() -> None:
    sink = StoreSink(market_capacity=100, batch_rows=1000, sample_every=10)
    book = TopOfBookSnapshot(RUN, T0_NS, TopOfBook(INSTRUMENT, None, None, T0_NS))
    for _ in range(1000):
        sink.emit(book)
    execution = [e for e in every_event(RUN) if event_class(e) is EventClass.EXECUTION]
    for _ in range(100):
        for event in execution:
            sink.emit(event)
    pending = sink.take_nowait()
    skipped = sink.skipped_market_rows["top_of_book"]
    assert len(pending.market) + skipped == 1000
    assert 50 < len(pending.market) <= 100  # kept everything below half, then 1 in 10
    assert len(pending.execution) == 100 * len(execution)
    assert [seq for seq, _ in pending.execution] == list(range(1, len(pending.execution) + 1))
    assert sink.take_nowait().is_empty
