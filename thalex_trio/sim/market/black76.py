"""Black-76 on a forward, undiscounted (Thalex option marks are in the quote currency at expiry
value): price and delta for calls and puts."""

from __future__ import annotations

import math

from thalex_trio.domain.enums import OptionType


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _d1_d2(forward: float, strike: float, years: float, iv: float) -> tuple[float, float]:
    vol_t = iv * math.sqrt(years)
    d1 = (math.log(forward / strike) + 0.5 * vol_t * vol_t) / vol_t
    return d1, d1 - vol_t


def price(forward: float, strike: float, years: float, iv: float, kind: OptionType) -> float:
    """Option value; at or after expiry (years <= 0) or with zero vol, the intrinsic value."""
    if years <= 0.0 or iv <= 0.0:
        intrinsic = forward - strike if kind is OptionType.CALL else strike - forward
        return max(intrinsic, 0.0)
    d1, d2 = _d1_d2(forward, strike, years, iv)
    if kind is OptionType.CALL:
        return forward * _norm_cdf(d1) - strike * _norm_cdf(d2)
    return strike * _norm_cdf(-d2) - forward * _norm_cdf(-d1)


def delta(forward: float, strike: float, years: float, iv: float, kind: OptionType) -> float:
    """dPrice/dForward: N(d1) for a call, N(d1) - 1 for a put."""
    if years <= 0.0 or iv <= 0.0:
        itm = forward > strike if kind is OptionType.CALL else forward < strike
        return (1.0 if itm else 0.0) * (1.0 if kind is OptionType.CALL else -1.0)
    d1, _ = _d1_d2(forward, strike, years, iv)
    return _norm_cdf(d1) if kind is OptionType.CALL else _norm_cdf(d1) - 1.0
