"""A generated RSA key pair for login tests (generated once per test run)."""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@functools.cache
def rsa_key() -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key; PyJWT refuses shorter ones for RS512."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem() -> bytes:
    """The key as PKCS#1 PEM, like the exchange hands it out."""
    return rsa_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
