"""The JSON-RPC correlator, sans-IO: ids out, replies matched by id, notifications passed on.

Results may come back in any order (API.md §2.3), so every request is remembered by id until its
reply arrives. Bad input never raises out of `receive`: a frame that is not JSON, an unknown
channel, a payload that does not decode or a reply for an id we never sent is counted by kind,
logged once with a truncated sample, and skipped.
"""

from __future__ import annotations

import collections
import logging
from typing import TYPE_CHECKING, TypeVar, assert_never

from attrs import frozen

from thalex_trio.domain.market import BookUpdate, Ticker
from thalex_trio.thalex.codec import DecodeFailure, ThalexCodec, WireDecodeError
from thalex_trio.thalex.errors import ThalexRpcError, error_from_reply
from thalex_trio.thalex.frames import (
    ThalexErrorFrame,
    ThalexNotification,
    ThalexResultFrame,
)
from thalex_trio.thalex.wire_requests import ThalexCall

if TYPE_CHECKING:
    from collections.abc import Mapping

    from thalex_trio.domain.instrument import Instrument

T = TypeVar("T")

_log = logging.getLogger(__name__)


@frozen
class RpcReply:
    """A success reply matched to its request; `raw` decodes with `RpcCorrelator.decode`."""

    request_id: int
    request: ThalexCall[object]
    raw: object


@frozen
class RpcFailure:
    """An error reply matched to its request, as a typed exception."""

    request_id: int
    request: ThalexCall[object]
    error: ThalexRpcError


Received = RpcReply | RpcFailure | ThalexNotification | Ticker | BookUpdate | None
"""What one frame turns into; None means it was skipped (and counted). A ticker or book of an
instrument the caller converts (see `receive`) comes out as its domain value."""


class RpcCorrelator:
    """Allocates request ids, matches replies by id, and counts what it had to skip."""

    def __init__(self, codec: ThalexCodec, *, first_id: int = 1) -> None:
        self.codec = codec
        self._next_id = first_id
        self._pending: dict[int, ThalexCall[object]] = {}
        self._abandoned: set[int] = set()
        self.skipped: collections.Counter[DecodeFailure] = collections.Counter()
        """Frames skipped, by kind of bad input."""
        self._logged: set[DecodeFailure] = set()

    @property
    def pending(self) -> int:
        """Requests sent and not yet answered."""
        return len(self._pending)

    def send(self, request: ThalexCall[object]) -> tuple[int, bytes]:
        """Allocate an id for `request`; returns the id and the frame to send."""
        request_id = self._next_id
        self._next_id += 1
        self._pending[request_id] = request
        return request_id, self.codec.encode_request(request_id, request)

    def abandon(self, request_id: int) -> None:
        """The caller stopped waiting (cancelled); a late reply is dropped without complaint."""
        if self._pending.pop(request_id, None) is not None:
            self._abandoned.add(request_id)

    def fail_all(self) -> list[tuple[int, ThalexCall[object]]]:
        """Forget every pending request (connection lost) and return them for failing."""
        pending = list(self._pending.items())
        self._pending.clear()
        return pending

    def decode(self, request: ThalexCall[T], raw: object) -> T:
        """Decode a reply's raw result as `request`'s result type; counts a failure."""
        try:
            return self.codec.decode_result(request, raw)
        except WireDecodeError as exc:
            self._skip(exc)
            raise

    def receive(
        self, frame: bytes | str, domain_instruments: Mapping[str, Instrument] | None = None
    ) -> Received:
        """Turn one received frame into a reply, a failure, a notification, or None.

        Tickers and books of `domain_instruments` (by name) come out as domain values, decoded
        straight from the parsed frame (`ThalexCodec.decode_market_frame`). One whose values do
        not convert (off the grid, a time out of range) comes out as the wire notification
        instead, so the consumer's own conversion meets the value and reports it.
        """
        try:
            if domain_instruments:
                try:
                    decoded = self.codec.decode_market_frame(frame, domain_instruments)
                except WireDecodeError:
                    raise
                except ValueError:  # the frame decodes; a value in it does not convert
                    decoded = self.codec.decode_frame(frame)
            else:
                decoded = self.codec.decode_frame(frame)
        except WireDecodeError as exc:
            self._skip(exc)
            return None
        if isinstance(decoded, (ThalexNotification, Ticker, BookUpdate)):
            return decoded
        request_id = decoded.id
        request = self._pending.pop(request_id, None) if type(request_id) is int else None
        if request is None:
            if type(request_id) is int and request_id in self._abandoned:
                self._abandoned.discard(request_id)
                return None
            self._skip(
                WireDecodeError(
                    DecodeFailure.UNKNOWN_ID, f"reply for unknown id {request_id!r}", frame
                )
            )
            return None
        assert type(request_id) is int  # only int ids are ever pending
        match decoded:
            case ThalexResultFrame():
                return RpcReply(request_id, request, decoded.result)
            case ThalexErrorFrame():
                error = error_from_reply(decoded.code, decoded.message, request, request_id)
                return RpcFailure(request_id, request, error)
            case _:
                assert_never(decoded)

    def _skip(self, exc: WireDecodeError) -> None:
        self.skipped[exc.kind] += 1
        if exc.kind in self._logged:
            _log.debug("skipped %s frame: %s", exc.kind.value, exc.detail)
            return
        self._logged.add(exc.kind)
        _log.warning(
            "skipped %s frame (first of its kind; later ones are counted): %s; sample: %s",
            exc.kind.value,
            exc.detail,
            exc.sample,
        )
