"""Interoperability with Digital Bazaar's libraries (the oracle), both directions.

What Badgesmith signs verifies in the oracle (eddsa-rdfc-2022,
Ed25519Signature2020, VC-JWT) — on credentials with every optional field we
support, non-ASCII text, numbers like 1.5 and 2.0, many recipients — and what
the oracle signs verifies in Badgesmith, baked or not, while every tampering
is rejected by the right check.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from issuer.badge.bake import bake_png, bake_svg
from issuer.badge.credential import Award, Recipient, build_credential, evidence_for_url
from issuer.badge.recipient import identity_object
from issuer.badge.sign import default_verification_method, sign_credential
from keys.ed25519 import KeyPair
from schemas.loader import offline_loader
from verifier.fetch import build_fetch
from verifier.pipeline import VerifyOptions, verify_bytes

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SEED = bytes.fromhex("9b937b81322d816cfab9d5a3baacc9b2a5febe4b149f126b3630f93a29527017")
OTHER_SEED = bytes(range(32))
def _tiny_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 160, 40)).save(out, format="PNG")
    return out.getvalue()


TINY_PNG = _tiny_png()
TINY_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def rich_credential(key: KeyPair, i: int = 0, *, credits: float = 1.5, did_subject: bool = False,
                    valid_for: timedelta | None = timedelta(days=3 * 365)) -> dict:
    """A credential with every optional field Badgesmith writes, and non-ASCII text."""
    did = key.public_key.did_key
    issuer = {"id": did, "type": ["Profile"], "name": "Asociación de Bibliotecas del Lago — Sección Infantil",
              "url": "https://badges.lakeshore.example", "email": "ce@lakeshore.example",
              "description": "Continuing education for librarians: 図書館 ✓"}
    achievement = {
        "id": "https://badges.lakeshore.example/achievements/youth-services-cert", "type": ["Achievement"],
        "name": "Certified Youth Services Librarian — Niveau 2 «avancé»",
        "description": "Awarded for 2.0 years of practice and 30 CEUs. Zoë's 📚 programme.",
        "criteria": {"narrative": "# Requirements\n\n* 30 CEUs\n* A portfolio review"},
        "image": {"id": "https://badges.lakeshore.example/achievements/youth-services-cert/image.png",
                  "type": "Image", "caption": "A gold rosette"},
        "achievementType": "Certification", "creditsAvailable": 2.0, "fieldOfStudy": "Library Science",
        "humanCode": "CYSL-2", "tag": ["youth-services", "certification", "ñandú"],
        "alignment": [{"type": ["Alignment"], "targetName": "Youth Services Competencies",
                       "targetUrl": "https://www.ala.org/alsc/edcareeers/alsccorecomps",
                       "targetFramework": "ALSC Core Competencies", "targetCode": "II.1"}],
    }
    status = {"id": "https://badges.lakeshore.example/status/revocation/1#94567",
              "type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "94567",
              "statusListCredential": "https://badges.lakeshore.example/status/revocation/1"}
    recipient = Recipient(identity=identity_object(f"learner{i}@example.org", salt=f"s{i:06d}"),
                          did="did:example:learner" + str(i) if did_subject else None,
                          name=f"Zoë Ångström-Núñez {i}")
    award = Award(credits_earned=credits, valid_from=NOW - timedelta(days=1),
                  valid_until=(NOW + valid_for) if valid_for else None,
                  evidence=(evidence_for_url(f"https://lms.example/attendance/{i}", name="Attendance ✓"),),
                  results=({"type": ["Result"], "status": "Completed"},),
                  narrative="Completed with distinction.", status=(status,))
    return build_credential(issuer=issuer, achievement=achievement, recipient=recipient, award=award,
                            now=NOW, new_id=lambda: f"urn:uuid:7f4c6a1e-2b9d-4e3f-8a6b-{i:012d}",
                            description="Ein Zertifikat für Jugendbibliothekare.")


@pytest.fixture(scope="module")
def key():
    return KeyPair.from_seed(SEED)


def _write(tmp_path: Path, name: str, content) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))
    return path


def _ours(data: bytes, **options):
    return verify_bytes(data, loader=offline_loader(), fetch=build_fetch(documents=None, offline=True),
                        now=NOW, options=VerifyOptions(allow_unreachable_status=True, **options))


@pytest.mark.oracle
@pytest.mark.parametrize("fmt, expected", [("di", "di-eddsa-rdfc-2022"), ("ed25519-2020", "ed25519-2020"),
                                           ("jwt", "vc-jwt")])
def test_oracle_verifies_what_badgesmith_signs(oracle, key, tmp_path, fmt, expected):
    for i, credits in enumerate([1.5, 2.0, 2, 0.25, 1e-3]):
        signed = sign_credential(rich_credential(key, i, credits=credits, did_subject=i % 2 == 1), key,
                                 fmt=fmt, loader=offline_loader(), created=NOW)
        path = _write(tmp_path, f"c{i}.{'jwt' if fmt == 'jwt' else 'json'}", signed)
        result = oracle.verify(path, now=NOW.isoformat())
        assert result["verified"], result
        assert result["format"] == expected
        assert _ours(path.read_bytes()).verified


@pytest.mark.oracle
def test_oracle_verifies_a_credential_without_optional_fields(oracle, key, tmp_path):
    bare = build_credential(issuer={"id": key.public_key.did_key, "type": ["Profile"], "name": "X"},
                            achievement={"id": "urn:uuid:1", "type": ["Achievement"], "name": "A",
                                         "description": "B", "criteria": {"narrative": "C"}},
                            recipient=Recipient(did="did:example:abc"), award=Award(credential_schema=False),
                            now=NOW)
    signed = sign_credential(bare, key, fmt="di", loader=offline_loader(), created=NOW)
    assert oracle.verify(_write(tmp_path, "bare.json", signed), now=NOW.isoformat())["verified"]


@pytest.mark.oracle
def test_oracle_verifies_badgesmith_baked_images(oracle, key, tmp_path):
    signed = sign_credential(rich_credential(key), key, fmt="di", loader=offline_loader(), created=NOW)
    text = json.dumps(signed, ensure_ascii=False)
    png = _write(tmp_path, "b.png", bake_png(TINY_PNG, text))
    svg = _write(tmp_path, "b.svg", bake_svg(TINY_SVG, signed))
    token = sign_credential(rich_credential(key), key, fmt="jwt", loader=offline_loader(), created=NOW)
    jwt_svg = _write(tmp_path, "j.svg", bake_svg(TINY_SVG, token))
    for path, container in [(png, "png"), (svg, "svg"), (jwt_svg, "svg")]:
        result = oracle.verify(path, now=NOW.isoformat())
        assert result["verified"] and result["container"] == container, result


@pytest.fixture(scope="module")
def oracle_signed(oracle, key, tmp_path_factory):
    """Credentials the oracle signed: {format: text}, issuer did:key of SEED."""
    tmp = tmp_path_factory.mktemp("oracle")
    unsigned = rich_credential(key)
    unsigned["issuer"]["id"] = "did:key:SELF"
    source = _write(tmp, "unsigned.json", unsigned)
    created = NOW.isoformat().replace("+00:00", "Z")
    return {
        "di": oracle.sign(source, SEED.hex(), created=created),
        "ed25519-2020": oracle.sign(source, SEED.hex(), suite="ed25519-2020", created=created),
        "jwt": oracle.sign(source, SEED.hex(), jwt=True),
    }


@pytest.mark.oracle
@pytest.mark.parametrize("fmt", ["di", "ed25519-2020", "jwt"])
def test_badgesmith_verifies_what_the_oracle_signs_plain_and_baked(oracle_signed, fmt):
    text = oracle_signed[fmt]
    for data in [text.encode(), bake_png(TINY_PNG, text),
                 bake_svg(TINY_SVG, text if fmt == "jwt" else json.loads(text))]:
        report = _ours(data)
        assert report.verified, report.to_text()


def _tamper_field(credential: dict) -> dict:
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["creditsEarned"] = 20
    return changed


def _corrupt_proof(credential: dict) -> dict:
    changed = copy.deepcopy(credential)
    proof = changed["proof"] if isinstance(changed["proof"], dict) else changed["proof"][0]
    value = proof["proofValue"]
    proof["proofValue"] = value[:-4] + ("2222" if not value.endswith("2222") else "3333")
    return changed


def _extra_context(credential: dict) -> dict:
    changed = copy.deepcopy(credential)
    changed["@context"].append("https://evil.example/context.json")
    return changed


def _undefined_term(credential: dict) -> dict:
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["favouriteColour"] = "green"
    return changed


@pytest.mark.oracle
@pytest.mark.parametrize("fmt", ["di", "ed25519-2020"])
@pytest.mark.parametrize("change, check, code", [
    (_tamper_field, "proof", "PROOF_INVALID"),
    (_corrupt_proof, "proof", "PROOF_INVALID"),
    (_extra_context, "context", "CONTEXT_NOT_ALLOWED"),
    (_undefined_term, "context", "UNDEFINED_TERM"),
])
def test_changes_to_oracle_signed_credentials_are_rejected(oracle_signed, fmt, change, check, code):
    report = _ours(json.dumps(change(json.loads(oracle_signed[fmt]))).encode())
    assert not report.verified
    assert report.check(check).code == code, report.to_text()


@pytest.mark.oracle
def test_proof_by_another_did_key_is_not_the_issuers(oracle_signed, tmp_path):
    other = KeyPair.from_seed(OTHER_SEED)
    credential = json.loads(oracle_signed["di"])
    credential.pop("proof")
    resigned = sign_credential(credential, other, fmt="di", loader=offline_loader(), created=NOW)
    report = _ours(json.dumps(resigned).encode())
    assert report.check("proof").code == "KEY_NOT_ISSUERS"


@pytest.mark.oracle
def test_proof_by_another_key_naming_the_issuers_key_is_invalid(oracle_signed, key):
    other = KeyPair.from_seed(OTHER_SEED)
    credential = json.loads(oracle_signed["di"])
    credential.pop("proof")
    forged = sign_credential(credential, other, fmt="di", loader=offline_loader(), created=NOW,
                             verification_method=default_verification_method(key))
    report = _ours(json.dumps(forged).encode())
    assert report.check("proof").code == "PROOF_INVALID"


@pytest.mark.oracle
def test_expired_and_not_yet_valid_oracle_credentials_fail_validity(oracle, key, tmp_path):
    for name, start, end, code in [("expired", NOW - timedelta(days=400), NOW - timedelta(days=1), "EXPIRED"),
                                   ("future", NOW + timedelta(days=10), None, "NOT_YET_VALID")]:
        unsigned = rich_credential(key)
        unsigned["issuer"]["id"] = "did:key:SELF"
        unsigned["validFrom"] = start.isoformat().replace("+00:00", "Z")
        if end:
            unsigned["validUntil"] = end.isoformat().replace("+00:00", "Z")
        else:
            unsigned.pop("validUntil", None)
        signed = oracle.sign(_write(tmp_path, f"{name}.json", unsigned), SEED.hex())
        report = _ours(signed.encode())
        assert report.check("validity").code == code
        assert report.check("proof").outcome == "passed"


def _b64(data: dict) -> str:
    import base64
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.oracle
def test_jwt_with_changed_payload_or_alg_none_is_rejected(oracle_signed):
    header, payload, signature = oracle_signed["jwt"].split(".")
    import base64
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["creditsEarned"] = 99
    changed = ".".join([header, _b64(claims), signature])
    assert _ours(changed.encode()).check("proof").code == "PROOF_INVALID"
    none = ".".join([_b64({"alg": "none", "typ": "JWT"}), payload, ""])
    assert _ours(none.encode()).check("proof").code == "JWT_UNSIGNED"  # read, but signed by nobody
    none_signed = ".".join([_b64({"alg": "none", "typ": "JWT"}), payload, signature])
    assert _ours(none_signed.encode()).check("proof").code == "JWT_ALG_REFUSED"


@pytest.mark.oracle
def test_control_characters_in_text_canonicalize_as_in_rdf_canonize(oracle, key, tmp_path):
    """pyld writes \\b, \\f and other control characters raw; RDFC-1.0 escapes them. We must match."""
    credential = rich_credential(key)
    credential["credentialSubject"]["narrative"] = "tab\there, bell\x07, backspace\b, form feed\f, del\x7f"
    signed = sign_credential(credential, key, fmt="di", loader=offline_loader(), created=NOW)
    assert oracle.verify(_write(tmp_path, "ctrl.json", signed), now=NOW.isoformat())["verified"]
    unsigned = copy.deepcopy(credential)
    unsigned["issuer"]["id"] = "did:key:SELF"
    theirs = oracle.sign(_write(tmp_path, "ctrl-unsigned.json", unsigned), SEED.hex())
    assert _ours(theirs.encode()).verified
