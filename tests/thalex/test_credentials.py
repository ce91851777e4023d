"""Key loading, JWT signing, and keeping the key out of reprs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import jwt
import pytest

from thalex_trio.thalex.credentials import Credentials, CredentialsError, JwtSigner, Secret

from .keys import private_pem, rsa_key

if TYPE_CHECKING:
    from pathlib import Path


def test_token_is_rs512_with_kid_and_strictly_increasing_fractional_iat() -> None:
    signer = JwtSigner(Credentials("K123456789", Secret(private_pem())))
    public = rsa_key().public_key()
    tokens = [signer.token(1_700_000_000.25), signer.token(1_700_000_000.25), signer.token(5.0)]
    header = jwt.get_unverified_header(tokens[0])
    assert header["alg"] == "RS512"
    assert header["kid"] == "K123456789"
    iats = [jwt.decode(t, public, algorithms=["RS512"])["iat"] for t in tokens]
    assert iats[0] == 1_700_000_000.25
    assert iats[0] < iats[1] < iats[2]  # a stalled or backwards clock still moves iat up


def rsa_key_never_in_repr(tmp_path: Path) -> None:
    pem = private_pem()
    path = tmp_path / "key.pem"
    path.write_bytes(pem)
    path.chmod(0o600)
    credentials = Credentials.from_file("K1", path, account="A1")
    signer = JwtSigner(credentials)
    for text in (repr(credentials), str(credentials), repr(credentials.private_key), repr(signer)):
        assert b"PRIVATE KEY" not in text.encode()
        assert pem.decode()[40:80] not in text
    assert credentials.private_key.reveal() == pem


def test_world_readable_key_file_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(private_pem())
    path.chmod(0o600)
    with caplog.at_level(logging.WARNING):
        Credentials.from_file("K1", path)
    assert not caplog.records
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        Credentials.from_file("K1", path)
    assert any("chmod 600" in r.getMessage() for r in caplog.records)


def rsa_key_from_environment_with_escaped_newlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THALEX_KEY", private_pem().decode().replace("\n", "\\n"))
    credentials = Credentials.from_env("K1", "THALEX_KEY")
    assert credentials.private_key.reveal() == private_pem()
    JwtSigner(credentials)  # loads
    monkeypatch.delenv("THALEX_KEY")
    with pytest.raises(CredentialsError, match="THALEX_KEY"):
        Credentials.from_env("K1", "THALEX_KEY")


def test_bad_key_error_does_not_quote_it() -> None:
    garbage = (
        b"-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END RSA PRIVATE KEY-----\n"
    )
    with pytest.raises(CredentialsError) as caught:
        JwtSigner(Credentials("K1", Secret(garbage)))
    assert "c2VjcmV0" not in str(caught.value)
    assert caught.value.__context__ is None or caught.value.__suppress_context__
