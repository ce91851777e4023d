"""`public/login` token checks (API.md §3.1): RS256/384/512, a known `kid`, `iat` within 30 s
of server time and strictly later than any `iat` seen before for the same key."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import jwt

if TYPE_CHECKING:
    from collections.abc import Callable

    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

ALGORITHMS = ("RS256", "RS384", "RS512")
"""The signing algorithms the exchange accepts."""

IAT_WINDOW_S = 30.0
"""How far `iat` may be from the server's wall clock, either way."""


class AuthError(ValueError):
    """A token the exchange refuses (error code 19); the message never quotes the token."""


class KeyRegistry:
    """API keys the server knows: key id -> public key and the account it logs in to."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[RSAPublicKey, str]] = {}

    def register(self, key_id: str, public_key: RSAPublicKey, account_number: str) -> None:
        """Accept tokens signed by `public_key` under `kid` = `key_id`."""
        self._keys[key_id] = (public_key, account_number)

    def lookup(self, key_id: str) -> tuple[RSAPublicKey, str] | None:
        """The public key and account of `key_id`, if registered."""
        return self._keys.get(key_id)

    def __len__(self) -> int:
        return len(self._keys)


class JwtVerifier:
    """Verifies login tokens against the registry; remembers the last `iat` per key."""

    def __init__(self, registry: KeyRegistry, wall_clock: Callable[[], float]) -> None:
        self.registry = registry
        self._wall_clock = wall_clock
        self._last_iat: dict[str, float] = {}

    def verify(self, token: str) -> tuple[str, str]:
        """The key id and its account; raises AuthError."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("token is not a JWT") from None
        kid, alg = header.get("kid"), header.get("alg")
        if alg not in ALGORITHMS:
            raise AuthError(f"signing algorithm {alg!r} is not one of {', '.join(ALGORITHMS)}")
        if not isinstance(kid, str):
            raise AuthError("token header has no kid")
        known = self.registry.lookup(kid)
        if known is None:
            raise AuthError(f"unknown key {kid[:40]!r}")
        public_key, account = known
        try:
            claims = jwt.decode(
                token,
                public_key,
                algorithms=[alg],
                options={"verify_iat": False, "require": ["iat"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"token rejected: {type(exc).__name__}") from None
        raw_iat = claims.get("iat")
        if not isinstance(raw_iat, int | float) or isinstance(raw_iat, bool):
            raise AuthError("iat is not a number")
        iat = float(raw_iat)
        if not math.isfinite(iat):
            raise AuthError("iat is not a number")
        now_s = self._wall_clock()
        if abs(iat - now_s) > IAT_WINDOW_S:
            raise AuthError(f"iat is {iat - now_s:+.1f} s from server time (limit 30 s)")
        last = self._last_iat.get(kid)
        if last is not None and iat <= last:
            raise AuthError("iat is not later than the previous token's (replay)")
        self._last_iat[kid] = iat
        return kid, account
