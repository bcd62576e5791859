"""A transcript claims the CLR 2.0 JSON Schema only when it passes it: a credential issued
``--suspendable`` (two status entries) is embedded unchanged and the claim is dropped (issue 17)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from jsonschema import Draft201909Validator

from issuer.records.transcript import Transcript, build_clr, several_status_entries

CLR_SCHEMA = (Path(__file__).resolve().parents[4] / "shared" / "spec" / "schemas" / "clr-v2p0" / "json-ld"
              / "clr_v2p0_clrcredential_schema.json")
LIST = "https://badges.example/status/3f1c"


def _entry(purpose: str, index: int) -> dict:
    return {"id": f"{LIST}-{purpose}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
            "statusListIndex": str(index), "statusListCredential": f"{LIST}-{purpose}"}


def _credential(n: int, status: dict | list) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": f"urn:uuid:00000000-0000-4000-8000-00000000000{n}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "type": ["Profile"],
                   "name": "Lakeshore"},
        "validFrom": "2026-10-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "identifier": [{
            "type": "IdentityObject", "identityHash": "sha256$" + "0" * 64, "identityType": "emailAddress",
            "hashed": True, "salt": "s"}], "achievement": {
            "id": "https://badges.example/achievements/storytime", "type": ["Achievement"], "name": "Storytime",
            "description": "A course.", "criteria": {"narrative": "Attend."}}},
        "credentialStatus": status,
        "proof": [{"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-10-01T00:00:00Z",
                   "verificationMethod": "did:key:z6Mk#z6Mk", "proofPurpose": "assertionMethod",
                   "proofValue": "z1"}],
    }


def _clr(credentials: list[dict]) -> dict:
    return build_clr(issuer_profile=credentials[0]["issuer"], credentials=credentials,
                     subject={"identifier": credentials[0]["credentialSubject"]["identifier"]},
                     credential_id="urn:uuid:11111111-0000-4000-8000-000000000000",
                     valid_from=datetime(2026, 12, 1, tzinfo=timezone.utc), name="Learning record")


def _schema_errors(document: dict) -> list:
    return list(Draft201909Validator(json.loads(CLR_SCHEMA.read_text("utf-8"))).iter_errors(document))


def test_transcript_of_credentials_with_one_status_object_claims_and_passes_the_clr_schema():
    document = _clr([_credential(1, _entry("revocation", 7)), _credential(2, _entry("revocation", 9))])
    assert [s["id"] for s in document["credentialSchema"]] == [
        "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"]
    assert _schema_errors(document) == []


def test_transcript_with_a_suspendable_credential_drops_the_schema_claim_it_would_fail():
    suspendable = _credential(2, [_entry("revocation", 9), _entry("suspension", 4)])
    document = _clr([_credential(1, _entry("revocation", 7)), suspendable])
    assert "credentialSchema" not in document
    assert document["credentialSubject"]["verifiableCredential"][1] == suspendable  # embedded unchanged
    assert _schema_errors(document)  # the claim would have been false
    transcript = Transcript(document, "Jane", (), 0, ())
    assert transcript.outside_clr_schema == (suspendable["id"],)
    assert several_status_entries([_credential(1, _entry("revocation", 7))]) == ()
