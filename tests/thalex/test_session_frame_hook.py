"""The session's `on_frame` hook (the recorder's tap): every frame, raw, in order, timestamped."""

from __future__ import annotations

import time

import trio
import trio.testing

from thalex_trio.thalex.channels import ticker_channel
from thalex_trio.thalex.credentials import Credentials, Secret
from thalex_trio.thalex.frames import ThalexNotification
from thalex_trio.thalex.session import open_thalex_session
from thalex_trio.thalex.wire_requests import ThalexTickerRequest

from .fake_exchange import FakeThalex, loopback
from .keys import private_pem

URL = "ws://fake/ws/api/v2"


class RecordingFake(FakeThalex):
    """The fake exchange, remembering every frame it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []

    async def send(self, frame: bytes) -> None:
        self.sent.append(frame)
        await super().send(frame)


async def test_the_hook_sees_every_frame_as_sent_before_decoding(
    autojump_clock: trio.testing.MockClock,
) -> None:
    server = RecordingFake()
    seen: list[tuple[str | bytes, int]] = []
    credentials = Credentials("K1", Secret(private_pem()), account="A123")
    before_ns = time.time_ns()
    async with (
        loopback(server) as connect,
        open_thalex_session(
            URL,
            credentials,
            connect=connect,
            wall_clock=lambda: 1_700_000_000.5,
            on_frame=lambda frame, local_ns: seen.append((frame, local_ns)),
        ) as session,
    ):
        await session.subscribe([ticker_channel("BTC-PERPETUAL")])
        async with trio.open_nursery() as nursery:
            for name in ("A", "BB", "CCC"):
                nursery.start_soon(session.request, ThalexTickerRequest(name))
        # The notification the fake sent among the replies was decoded and routed as usual.
        note = session.market_events.receive_nowait()
        assert isinstance(note, ThalexNotification)
        assert note.channel.name == "ticker.BTC-PERPETUAL.100ms"
    after_ns = time.time_ns()
    # Replies, notifications and undecodable junk alike: login, cancel-on-disconnect, two
    # subscribes, three tickers and four extra frames.
    assert len(server.sent) == 11
    assert [frame.encode() if isinstance(frame, str) else frame for frame, _ in seen] == (
        server.sent
    )
    stamps = [local_ns for _, local_ns in seen]
    assert stamps == sorted(stamps)
    assert before_ns <= stamps[0]
    assert stamps[-1] <= after_ns
