"""Issue 12: an unsigned VC-JWT (``alg: none``, ``header.payload.``) is read, then not verified.

It is a well-formed credential nobody signed: the container and json checks
pass, the proof check fails with JWT_UNSIGNED, the CLI exits 1 (not 2,
"unreadable"), and the web answers with the report.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from app import create_app
from cli import main
from keys.multikey import b64url_encode
from keys.vc_jwt import sign_jwt
from schemas.loader import offline_loader
from verifier.fetch import Offline
from verifier.pipeline import Verifier
from verifier.report import FAILED, PASSED

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def signed(storytime, issuer_key) -> str:
    """The credential as a VC-JWT signed with the issuer's real key."""
    did = issuer_key.public_key.did_key
    return sign_jwt(storytime(), issuer_key, verification_method=f"{did}#{did.removeprefix('did:key:')}")


@pytest.fixture
def unsigned(signed) -> str:
    """The real signed token with its header swapped for ``alg: none`` and its signature dropped."""
    _, payload, _ = signed.split(".")
    return f"{b64url_encode(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}."


def test_the_signed_token_it_is_made_from_verifies(signed):
    report = Verifier(loader=offline_loader(), fetch=Offline(), now=NOW).verify_bytes(signed.encode())
    assert report.verified, report.to_text()


def test_an_unsigned_jwt_is_read_and_fails_its_proof_check_as_unsigned(unsigned):
    report = Verifier(loader=offline_loader(), fetch=Offline(), now=NOW).verify_bytes(unsigned.encode())
    assert not report.verified and report.container == "jwt" and report.format == "vc-jwt"
    assert report.check("container").outcome == PASSED and report.check("json").outcome == PASSED
    assert (report.check("proof").outcome, report.check("proof").code) == (FAILED, "JWT_UNSIGNED")
    assert report.credential["name"] == "Storytime"


def test_badgesmith_verify_an_unsigned_jwt_exits_1_with_the_report(tmp_path, unsigned):
    path = tmp_path / "credential.jwt"
    path.write_text(unsigned + "\n")
    result = CliRunner().invoke(main, ["verify", "--offline", "--json", "--now", "2026-03-01T00:00:00Z", str(path)])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["verified"] is False
    assert [c["code"] for c in report["checks"] if c["outcome"] == "failed"] == ["JWT_UNSIGNED"]


@pytest.mark.parametrize("path, content_type, status", [
    ("/api/verify", "application/jwt", 200),
    ("/api/verify", "text/plain", 200),
])
def test_api_verify_an_unsigned_jwt_is_a_report_not_a_bad_request(unsigned, path, content_type, status):
    client = create_app({"TESTING": True, "RATE_LIMIT": "off", "OFFLINE": True, "NOW": lambda: NOW}).test_client()
    response = client.post(path, data=unsigned, content_type=content_type)
    assert response.status_code == status
    proof = next(c for c in response.get_json()["checks"] if c["check"] == "proof")
    assert proof["code"] == "JWT_UNSIGNED"


def test_verify_page_shows_an_unsigned_jwt_as_not_verified(unsigned):
    client = create_app({"TESTING": True, "RATE_LIMIT": "off", "OFFLINE": True, "NOW": lambda: NOW}).test_client()
    page = client.post("/verify", data={"credential": unsigned})
    assert page.status_code == 200 and "unsigned" in page.get_data(as_text=True)
