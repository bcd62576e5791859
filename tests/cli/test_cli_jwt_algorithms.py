"""cli: RS256/ES256 VC-JWTs — `sign --format jwt --alg`, `init --jwt-alg`, `keys add --alg` (issue 17).

A did:key issuer names only its Ed25519 key, so RSA/P-256 instance keys need did:web; `sign` with a
P-256 key defaults to its own did:key (zDna…), and an RSA key needs a did:web verification method.
"""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from keys.jws_keys import EcKeyPair, RsaKeyPair
from keys.vc_jwt import decode_jwt, verify_jwt
from keys.did import VerificationMethod, resolve_verification_method
from tests.cli.test_cli import Cli, assert_one_error_line

UNSIGNED = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:9a1c1e84-6a44-4f57-9b8f-0c1ad1c6b0f1",
    "type": ["VerifiableCredential"],
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:ana"},
}


def _write(tmp_path: Path, key, issuer: str) -> tuple[Path, Path]:
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.to_pem())
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps({**UNSIGNED, "issuer": issuer}))
    return pem, unsigned


def test_sign_es256_with_a_p256_key_uses_its_did_key_and_verifies(tmp_path):
    key = EcKeyPair.generate()
    pem, unsigned = _write(tmp_path, key, key.did_key)
    token = Cli(tmp_path)("sign", unsigned, "--key", pem, "--format", "jwt", "--alg", "ES256").stdout.strip()
    assert decode_jwt(token).header["alg"] == "ES256"
    result = verify_jwt(token, resolve=lambda kid: resolve_verification_method(kid, fetch=None))
    assert result.verification_method.controller == key.did_key


def test_sign_rs256_needs_a_did_web_verification_method(tmp_path):
    key = RsaKeyPair.generate()
    pem, unsigned = _write(tmp_path, key, "did:web:badges.lakeshore.example")
    cli = Cli(tmp_path)
    refused = cli("sign", unsigned, "--key", pem, "--format", "jwt", "--alg", "RS256", code=2)
    assert_one_error_line(refused, "USAGE")
    assert "did:key cannot carry an RSA key" in refused.stderr
    vm = "did:web:badges.lakeshore.example#rs256-1"
    token = cli("sign", unsigned, "--key", pem, "--format", "jwt", "--verification-method", vm).stdout.strip()
    assert decode_jwt(token).header == {"alg": "RS256", "kid": vm, "typ": "JWT"}
    verify_jwt(token, resolve=lambda kid: VerificationMethod(id=kid, controller=kid.split("#")[0],
                                                             public_key=key.public_key, type="JsonWebKey"))


def test_sign_alg_must_be_the_keys(tmp_path):
    pem, unsigned = _write(tmp_path, EcKeyPair.generate(), "did:example:x")
    result = Cli(tmp_path)("sign", unsigned, "--key", pem, "--format", "jwt", "--alg", "RS256", code=2)
    assert_one_error_line(result, "KEY_INVALID")
    assert "--alg RS256 needs a RSA key" in result.stderr and "P-256" in result.stderr


def test_sign_alg_is_for_jwt_only_and_an_rsa_key_cannot_make_a_data_integrity_proof(tmp_path):
    pem, unsigned = _write(tmp_path, RsaKeyPair.generate(), "did:web:badges.lakeshore.example")
    cli = Cli(tmp_path)
    assert_one_error_line(cli("sign", unsigned, "--key", pem, "--alg", "RS256", code=2), "USAGE")
    result = cli("sign", unsigned, "--key", pem, "--format", "di", code=2)
    assert_one_error_line(result, "USAGE")
    assert "VC-JWTs only" in result.stderr


def test_sign_refuses_a_short_rsa_key(tmp_path):
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pem = tmp_path / "short.pem"
    pem.write_bytes(short)
    unsigned = tmp_path / "u.json"
    unsigned.write_text(json.dumps({**UNSIGNED, "issuer": "did:web:x.example"}))
    result = Cli(tmp_path)("sign", unsigned, "--key", pem, "--format", "jwt", code=2)
    assert_one_error_line(result, "KEY_INVALID")


def test_init_with_rs256_needs_did_web(tmp_path):
    result = Cli(tmp_path / "i")("init", "--name", "X", "--url", "https://x.example", "--jwt-alg", "RS256", code=2)
    assert_one_error_line(result, "USAGE")
    assert "--did-web" in result.stderr
    assert not (tmp_path / "i" / "badgesmith.toml").exists()


def test_keys_add_on_a_did_key_issuer_is_refused_before_a_key_is_made(tmp_path):
    cli = Cli(tmp_path / "i")
    cli("init", "--name", "X", "--url", "https://x.example")
    result = cli("keys", "add", "--alg", "ES256", code=2)
    assert_one_error_line(result, "CONFIG_INVALID")
    assert "did:web" in result.stderr
    assert sorted(p.name for p in (tmp_path / "i" / "keys").glob("*.pem")) == ["key-1.pem"]


def test_keys_add_numbers_keys_and_default_switches_jwt_alg(tmp_path):
    from issuer.instance.settings import load_settings

    cli = Cli(tmp_path / "i")
    cli("init", "--name", "X", "--url", "https://x.example", "--did-web", "x.example")
    assert "es256-1" in cli("keys", "add", "--alg", "ES256").stdout
    assert "es256-2" in cli("keys", "add", "--alg", "ES256", "--default").stdout
    settings = load_settings(tmp_path / "i")
    assert settings.jwt_keys == ("es256-1", "es256-2") and settings.jwt_alg == "ES256"
    assert (tmp_path / "i" / "keys" / "es256-2.pem").stat().st_mode & 0o077 == 0


def test_a_hand_edited_rs256_default_on_did_key_names_the_fix(tmp_path):
    cli = Cli(tmp_path / "i")
    cli("init", "--name", "X", "--url", "https://x.example")
    toml = tmp_path / "i" / "badgesmith.toml"
    toml.write_text(toml.read_text().replace('jwt_alg = "EdDSA"', 'jwt_alg = "RS256"'))
    result = cli("keys", "list", code=2)
    assert_one_error_line(result, "CONFIG_INVALID")
    assert 'did_method = "web"' in result.stderr


def test_a_jwt_alg_without_its_key_names_keys_add(tmp_path):
    cli = Cli(tmp_path / "i")
    cli("init", "--name", "X", "--url", "https://x.example", "--did-web", "x.example")
    toml = tmp_path / "i" / "badgesmith.toml"
    toml.write_text(toml.read_text().replace('jwt_alg = "EdDSA"', 'jwt_alg = "ES256"'))
    cli("achievement", "add", Path(__file__).resolve().parents[2] / "templates" / "achievements" / "ceu-course.toml")
    result = cli("issue", "storytime-early-literacy", "--email", "a@example.org", "--format", "jwt", code=2)
    assert_one_error_line(result, "KEY_NOT_FOUND")
    assert "keys add --alg ES256" in result.stderr
