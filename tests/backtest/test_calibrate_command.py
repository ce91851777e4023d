"""`thalex-trio calibrate` on a shared Binance capture and on synthetic event arrays."""

from __future__ import annotations

import math
import tomllib
from typing import TYPE_CHECKING

import numpy as np
import pytest

from thalex_trio.cli import main
from thalex_trio.sim.events import concat_events
from thalex_trio.sim.market.params import SyntheticParams
from thalex_trio.sim.market.synthetic import SyntheticMarket

from .conftest import GOLDEN_FILE

if TYPE_CHECKING:
    from pathlib import Path


def test_a_shared_capture_gives_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    # A few minutes of BTCUSDT: enough for sigma; its trades hardly ever reach beyond the
    # touch, so the bid side's A and k do not fit, which is reported rather than guessed.
    assert main(["calibrate", "--data", str(GOLDEN_FILE), "--instrument", "BTCUSDT"]) == 0
    out = capsys.readouterr().out
    sigmas = [float(line.split()[-1]) for line in out.splitlines() if line.startswith("sigma")]
    assert len(sigmas) == 3
    assert all(math.isfinite(s) and s > 0 for s in sigmas)
    assert "side   A (1/s)" in out
    assert "suggested gamma" in out


def test_synthetic_event_arrays_give_a_snippet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    market = SyntheticMarket(
        SyntheticParams(seed=3, options=None, arrival_a_per_s=5.0, refill_probability=1.0)
    )
    data = tmp_path / "synthetic.npz"
    np.savez(data, events=concat_events(list(market.chunks(300.0))))
    out_file = tmp_path / "strategy.toml"
    argv = ["calibrate", "--data", str(data), "--instrument", "BTC-PERPETUAL"]
    argv += ["--tick-size", "1", "--lot-size", "0.001", "--out", str(out_file)]
    assert main(argv) == 0
    assert "config snippet written" in capsys.readouterr().out
    snippet = tomllib.loads(out_file.read_text())["strategy"]
    assert set(snippet) == {
        "gamma_per_tick",
        "fallback_sigma_ticks_per_sqrt_s",
        "fallback_a_per_s",
        "fallback_k_per_tick",
    }
    assert all(math.isfinite(v) and v > 0 for v in snippet.values())
    # Loose: the recovery itself is test_calibration's; this checks the plumbing and units.
    assert snippet["fallback_sigma_ticks_per_sqrt_s"] == pytest.approx(4.2, rel=0.2)
    assert snippet["fallback_k_per_tick"] == pytest.approx(0.3, rel=0.3)


@pytest.mark.parametrize(
    "extra",
    [
        ["--tick-size", "0"],
        ["--lot-size", "-1"],
        ["--target-skew-ticks", "nan"],
    ],
)
def test_bad_arguments_exit_2(extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--data", str(GOLDEN_FILE), *extra]) == 2
    assert "must be > 0" in capsys.readouterr().err


def test_missing_or_unreadable_data_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calibrate", "--data", str(tmp_path / "nope.gz")]) == 2
    junk = tmp_path / "junk.txt"
    junk.write_text("not a capture\n")
    assert main(["calibrate", "--data", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err
    assert "cannot read the data" in err


def test_out_without_a_full_fit_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "strategy.toml"
    # The capture's sell orders never reach past the touch often enough for a bid-side fit.
    assert main(["calibrate", "--data", str(GOLDEN_FILE), "--out", str(out_file)]) == 2
    assert "no gamma suggested" in capsys.readouterr().err
    assert not out_file.exists()
