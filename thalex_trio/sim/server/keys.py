"""The development API key: an RSA pair in `--keys-dir`, made on first run and reused after.

The private key is written as `DIR/<key id>.pem` (PKCS#1, mode 0600), so `live --network sim`
or any Thalex client logs in with that key id and file. The key id is derived from the public
key, so it is stable for a given file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from attrs import frozen
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_BITS = 2048
"""PyJWT refuses shorter RSA keys for RS512."""


@frozen
class DevKey:
    """A development key: its id (`kid`), where its private key lives, and its public key."""

    key_id: str
    private_key_path: Path
    public_key: rsa.RSAPublicKey


def default_keys_dir() -> Path:
    """`${XDG_DATA_HOME:-~/.local/share}/thalex_trio/sim-keys`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "thalex_trio" / "sim-keys"


def key_id_of(public_key: rsa.RSAPublicKey) -> str:
    """`K` + 9 digits from the public key's fingerprint (Thalex key names look like this)."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"K{int.from_bytes(hashlib.sha256(der).digest()[:8], 'big') % 10**9:09d}"


def _load(path: Path) -> DevKey | None:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        return None
    return DevKey(path.stem, path, key.public_key())


def load_dev_keys(keys_dir: Path) -> list[DevKey]:
    """Every `*.pem` RSA key in `keys_dir`, sorted by file name."""
    if not keys_dir.is_dir():
        return []
    keys = [_load(p) for p in sorted(keys_dir.glob("*.pem"))]
    return [k for k in keys if k is not None]


def ensure_dev_key(keys_dir: Path) -> DevKey:
    """The first key in `keys_dir`, generating one (dir 0700, file 0600) if there is none."""
    existing = load_dev_keys(keys_dir)
    if existing:
        return existing[0]
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    key_id = key_id_of(private.public_key())
    path = keys_dir / f"{key_id}.pem"
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    # O_EXCL with mode 0600: the key is never readable by others, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return DevKey(key_id, path, private.public_key())
