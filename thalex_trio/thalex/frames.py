"""Decoded JSON-RPC frames: requests (server side), results, errors and notifications."""

from __future__ import annotations

from attrs import frozen

from thalex_trio.thalex.channels import Channel
from thalex_trio.thalex.wire_account import (
    ThalexAccountSummary,
    ThalexMmProtectionPayload,
    ThalexPortfolioPayload,
)
from thalex_trio.thalex.wire_market import (
    ThalexBookPayload,
    ThalexIndex,
    ThalexInstrumentsPayload,
    ThalexLwt,
    ThalexRecentTrades,
    ThalexSystemEvent,
    ThalexTicker,
)
from thalex_trio.thalex.wire_orders import ThalexOrdersPayload, ThalexTradesPayload
from thalex_trio.thalex.wire_requests import ThalexRequest

RequestId = int | str | None
"""A JSON-RPC id: we send ints; a server echoes whatever scalar it got (null if none)."""

NotificationPayload = (
    ThalexBookPayload
    | ThalexTicker
    | ThalexLwt
    | ThalexRecentTrades
    | ThalexIndex
    | ThalexInstrumentsPayload
    | ThalexSystemEvent
    | ThalexOrdersPayload
    | ThalexTradesPayload
    | ThalexPortfolioPayload
    | ThalexAccountSummary
    | ThalexMmProtectionPayload
)
"""Closed union of the `notification` payloads the bot subscribes to."""


@frozen
class ThalexNotification:
    """A subscription push: `{"channel_name", "notification", "snapshot"?}`."""

    channel: Channel
    payload: NotificationPayload
    snapshot: bool = False


@frozen
class ThalexResultFrame:
    """A success response; `result` is still raw JSON until matched with its request."""

    id: RequestId
    result: object


@frozen
class ThalexErrorFrame:
    """An error response `{"id", "error": {"code", "message"}}`."""

    id: RequestId
    code: int
    message: str


@frozen
class ThalexRequestFrame:
    """A request as a server reads it: the id to echo and the typed params."""

    id: RequestId
    request: ThalexRequest


ClientFrame = ThalexResultFrame | ThalexErrorFrame | ThalexNotification
"""What a client can receive; handle with `match` and `assert_never`."""
