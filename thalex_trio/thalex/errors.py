"""Typed exceptions for Thalex error replies, by code (API.md §10), plus session failures.

Each RPC error carries the request that caused it and its id. Messages name the method and
the id only: a request's params may hold a secret (the login token), so they never go into
the text, and the login request's repr hides its token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from thalex_trio.thalex.frames import RequestId
    from thalex_trio.thalex.wire_requests import ThalexCall


class ThalexError(Exception):
    """Base of everything this package raises about the exchange or the connection."""


class ThalexRpcError(ThalexError):
    """The exchange answered a request with an error object."""

    code: int = 0

    def __init__(
        self, code: int, message: str, request: ThalexCall[object] | None, request_id: RequestId
    ) -> None:
        method = request.method if request is not None else "?"
        super().__init__(f"{method} (id {request_id!r}) failed with code {code}: {message}")
        self.code = code
        self.message = message
        self.request = request
        self.request_id = request_id


class OrderNotFound(ThalexRpcError):
    """1: amend or cancel of an order that is filled, cancelled or unknown."""


class DuplicateOrderId(ThalexRpcError):
    """2: the client order id is already in use on this session."""


class Throttled(ThalexRpcError):
    """4: the message rate was exceeded; the limiter backs off."""


class UnknownInstrument(ThalexRpcError):
    """5: no such instrument."""


class InvalidRequest(ThalexRpcError):
    """6: bad or missing params, or an invalid account."""


class NotLoggedIn(ThalexRpcError):
    """7: a private method before `public/login`."""


class InvalidPrice(ThalexRpcError):
    """13: invalid or non-positive price."""


class InvalidAmount(ThalexRpcError):
    """14: amount off the volume tick or below the minimum order amount."""


class PriceNotOnTick(ThalexRpcError):
    """15: price not a multiple of the tick size."""


class AuthenticationFailed(ThalexRpcError):
    """19: bad JWT (signature, stale or reused `iat`, unknown key)."""


class InsufficientMargin(ThalexRpcError):
    """24: the order needs more margin than the account has."""


class PriceCollarBreach(ThalexRpcError):
    """43: a limit price beyond the instrument's price collar, with `collar` "reject"."""


class PersistentSession(ThalexRpcError):
    """52: an operation that needs cancel-on-disconnect on a persistent session."""


ERRORS_BY_CODE: dict[int, type[ThalexRpcError]] = {
    1: OrderNotFound,
    2: DuplicateOrderId,
    4: Throttled,
    5: UnknownInstrument,
    6: InvalidRequest,
    7: NotLoggedIn,
    13: InvalidPrice,
    14: InvalidAmount,
    15: PriceNotOnTick,
    19: AuthenticationFailed,
    24: InsufficientMargin,
    43: PriceCollarBreach,
    52: PersistentSession,
}
"""Error code -> exception class; unlisted codes raise the base ThalexRpcError."""

THROTTLED = 4
"""The throttle error code."""


def error_from_reply(
    code: int, message: str, request: ThalexCall[object] | None, request_id: RequestId
) -> ThalexRpcError:
    """The typed exception for an error reply."""
    return ERRORS_BY_CODE.get(code, ThalexRpcError)(code, message, request, request_id)


class SessionClosed(ThalexError):
    """The connection ended (server close, transport fault) while requests were in flight."""


class HeartbeatTimeout(SessionClosed):
    """The server did not answer a WebSocket ping in time: the connection is dead."""


class ReconnectRequested(ThalexError):
    """The exchange announced on `system` that it will close this connection soon."""
