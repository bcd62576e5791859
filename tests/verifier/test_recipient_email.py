"""Issue 12: ``--email`` and ``/api/verify?email=`` match an address typed in NFD to one issued in NFC.

macOS pastes "José" as ``jose\\u0301`` (NFD); the issuer hashed the NFC form. Real
credentials, signed and verified end to end, for the three ways a subject names
an address: a salted sha256 IdentityObject, a plain one, and a ``mailto:`` id.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from app import create_app
from cli import main
from issuer.badge.sign import sign_credential
from schemas.loader import offline_loader

NOW = datetime(2026, 3, 1, tzinfo=UTC)
NFC, NFD = "jos\u00e9@example.org", "jose\u0301@example.org"


def _credential(storytime, key, kind: str) -> bytes:
    unsigned = storytime(NFC)
    subject = unsigned["credentialSubject"]
    if kind == "plain":
        subject["identifier"] = [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": False,
                                  "identityHash": NFC}]
    elif kind == "mailto":
        del subject["identifier"]
        subject["id"] = "mailto:" + quote(NFC)
    return json.dumps(sign_credential(unsigned, key, loader=offline_loader(), created=NOW)).encode()


@pytest.mark.parametrize("kind", ["hashed", "plain", "mailto"])
@pytest.mark.parametrize("typed, code", [(NFD, 0), (NFD.upper(), 0), ("bo@example.org", 1)])
def test_badgesmith_verify_email_matches_the_normal_form(tmp_path, storytime, issuer_key, kind, typed, code):
    path = tmp_path / "credential.json"
    path.write_bytes(_credential(storytime, issuer_key, kind))
    result = CliRunner().invoke(main, ["verify", "--offline", "--json", "--now", "2026-03-01T00:00:00Z",
                                       "--email", typed, str(path)])
    report = json.loads(result.stdout)
    recipient = next(c for c in report["checks"] if c["check"] == "recipient")
    assert recipient["code"] == ("RECIPIENT_MATCH" if code == 0 else "RECIPIENT_MISMATCH")
    assert result.exit_code == code, [c for c in report["checks"] if c["outcome"] == "failed"]


@pytest.mark.parametrize("kind", ["hashed", "plain", "mailto"])
def test_api_verify_email_typed_in_nfd_matches(storytime, issuer_key, kind):
    client = create_app({"TESTING": True, "RATE_LIMIT": "off", "OFFLINE": True, "NOW": lambda: NOW}).test_client()
    response = client.post("/api/verify", query_string={"email": NFD}, data=_credential(storytime, issuer_key, kind),
                           content_type="application/json")
    report = response.get_json()
    assert response.status_code == 200 and report["verified"], report["checks"]
    assert next(c for c in report["checks"] if c["check"] == "recipient")["code"] == "RECIPIENT_MATCH"
