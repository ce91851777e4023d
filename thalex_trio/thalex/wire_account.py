"""Wire types of the account: portfolio, summary, MM protection, session results."""

from __future__ import annotations

from attrs import frozen

from thalex_trio.thalex.wire_enums import MmProtectionReason


@frozen
class ThalexPortfolioEntry:
    """`PortfolioEntry`: one position line; `position` is signed (negative is short)."""

    instrument_name: str
    position: float
    mark_price: float | None = None
    iv: float | None = None
    index: float | None = None
    start_price: float | None = None
    average_price: float | None = None
    unrealised_pnl: float | None = None
    realised_pnl: float | None = None
    entry_value: float | None = None
    perpetual_funding_entry_value: float | None = None
    unrealised_perpetual_funding: float | None = None


@frozen
class ThalexPortfolioPayload:
    """`account.portfolio` payload: full snapshot, then changed lines (JSON array)."""

    items: tuple[ThalexPortfolioEntry, ...]


@frozen
class ThalexCashHolding:
    """One currency in the account summary; `collateral_index_price` is null for stable coins."""

    currency: str
    balance: float
    collateral_factor: float
    transactable: bool
    collateral_index_price: float | None = None


@frozen
class ThalexAccountSummary:
    """`AccountSummary` (`account.summary` payload and `private/account_summary` result)."""

    cash: tuple[ThalexCashHolding, ...]
    unrealised_pnl: float
    cash_collateral: float
    margin: float
    required_margin: float
    remaining_margin: float
    session_realised_pnl: float


@frozen
class ThalexMmProtectionUpdate:
    """A `session.mm_protection` item: what is left of a protection group, and why it changed."""

    product: str
    remaining_amount: float
    reason: MmProtectionReason | None = None


@frozen
class ThalexMmProtectionPayload:
    """`session.mm_protection` payload (JSON array)."""

    items: tuple[ThalexMmProtectionUpdate, ...]


@frozen
class ThalexLoginResult:
    """`public/login` result: the account the session now acts on."""

    account_number: str


@frozen
class ThalexCancelOnDisconnectResult:
    """`private/set_cancel_on_disconnect` result: the new matching-engine messages per second."""

    message_rate: int
