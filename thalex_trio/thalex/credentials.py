"""API key loading and JWT signing; the private key never reaches a log, an error or a repr.

The key comes from a file or an environment variable. A token is RS512-signed with header
`kid` = key id and payload `iat` = current time, fractional and strictly increasing for the
same key (the exchange rejects a reused or older `iat`, API.md §3.1).
"""

from __future__ import annotations

import logging
import os
import stat
from typing import TYPE_CHECKING

import jwt
from attrs import field, frozen
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

if TYPE_CHECKING:
    from pathlib import Path

_log = logging.getLogger(__name__)

JWT_ALGORITHM = "RS512"
"""The signing algorithm the official connector uses."""

_MIN_IAT_STEP_S = 1e-6


class CredentialsError(ValueError):
    """The key could not be found or loaded; the message never quotes key material."""


class Secret:
    """Bytes that print as `<redacted>` in every repr and str."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def reveal(self) -> bytes:
        """The secret itself; only for handing to the signer."""
        return self._value

    def __repr__(self) -> str:
        return "Secret(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


@frozen
class Credentials:
    """An API key: its id (`kid`), its PEM private key, and the account to select."""

    key_id: str
    private_key: Secret = field(repr=False)
    account: str | None = None

    @classmethod
    def from_file(cls, key_id: str, path: Path, *, account: str | None = None) -> Credentials:
        """Read the PEM key from `path`; warns when the file is readable by others."""
        try:
            mode = path.stat().st_mode
            pem = path.read_bytes()
        except OSError as exc:
            raise CredentialsError(f"cannot read key file {path}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            _log.warning(
                "key file %s is accessible by group or others (mode %o); chmod 600 it",
                path,
                stat.S_IMODE(mode),
            )
        return cls(key_id, Secret(pem), account)

    @classmethod
    def from_env(cls, key_id: str, variable: str, *, account: str | None = None) -> Credentials:
        """Read the PEM key from environment variable `variable` (literal `\\n` allowed)."""
        value = os.environ.get(variable)
        if not value:
            raise CredentialsError(f"environment variable {variable} is not set")
        if "\n" not in value:
            value = value.replace("\\n", "\n")  # one-line secrets in CI systems
        return cls(key_id, Secret(value.encode()), account)


class JwtSigner:
    """Signs login tokens for one key, with a strictly increasing fractional `iat`."""

    def __init__(self, credentials: Credentials) -> None:
        self.key_id = credentials.key_id
        try:
            key = load_pem_private_key(credentials.private_key.reveal(), password=None)
        except (ValueError, TypeError):
            # `from None`: the parser's context must not carry key bytes into a traceback.
            raise CredentialsError(
                f"private key of {credentials.key_id} is not an unencrypted PEM key"
            ) from None
        if not isinstance(key, RSAPrivateKey):
            raise CredentialsError(f"private key of {credentials.key_id} is not an RSA key")
        self._key = key
        self._last_iat = 0.0

    def __repr__(self) -> str:
        return f"JwtSigner(key_id={self.key_id!r}, key=<redacted>)"

    def token(self, now_s: float) -> str:
        """A fresh JWT; `iat` is `now_s`, nudged past the previous one if the clock stalled."""
        # At least a microsecond apart: the exchange may not compare finer than that.
        iat = max(now_s, self._last_iat + _MIN_IAT_STEP_S)
        self._last_iat = iat
        return jwt.encode(
            {"iat": iat}, self._key, algorithm=JWT_ALGORITHM, headers={"kid": self.key_id}
        )
