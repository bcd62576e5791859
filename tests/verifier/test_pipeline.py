"""The pipeline's own rules: status lists that must verify themselves, trust, recipient, validity, order."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from issuer.badge.credential import Award, Recipient, build_credential
from issuer.badge.recipient import identity_object
from issuer.badge.sign import sign_credential
from issuer.badge.status import build_status_list_credential, new_bitstring, status_entry
from keys.ed25519 import KeyPair
from schemas.loader import offline_loader
from verifier.fetch import DictFetch
from verifier.pipeline import VerifyOptions, verify_bytes
from verifier.report import CHECK_ORDER
from verifier.status import set_bit

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
LIST = "https://badges.example.org/status/revocation/1"
SUSPENSION = "https://badges.example.org/status/suspension/1"


@pytest.fixture(scope="module")
def key():
    return KeyPair.from_seed(b"\x01" * 32)


@pytest.fixture(scope="module")
def stranger():
    return KeyPair.from_seed(b"\x02" * 32)


def _credential(key, *, index=5, valid_until=None, suspension=False, extra_status=(), revocation=True):
    status = [status_entry(LIST, index, "revocation")] if revocation else []
    if suspension:
        status.append(status_entry(SUSPENSION, index, "suspension"))
    status.extend(extra_status)
    unsigned = build_credential(
        issuer={"id": key.public_key.did_key, "type": ["Profile"], "name": "Lakeshore Library Association"},
        achievement={"id": "https://badges.example.org/achievements/a", "type": ["Achievement"], "name": "A",
                     "description": "B", "criteria": {"narrative": "C"}, "achievementType": "Course"},
        recipient=Recipient(identity=identity_object("ana@example.org", salt="pepper")),
        award=Award(credits_earned=1, valid_until=valid_until, status=tuple(status)), now=NOW - timedelta(days=1))
    return json.dumps(sign_credential(unsigned, key, loader=offline_loader(), created=NOW)).encode()


def _list(signer, *, issuer=None, purpose="revocation", url=LIST, set_index=None, valid_until=None, sign=True):
    bits = new_bitstring()
    if set_index is not None:
        bits = set_bit(bits, set_index, True)
    unsigned = build_status_list_credential(url, issuer or signer.public_key.did_key, purpose, bits,
                                            NOW - timedelta(days=2), valid_until=valid_until)
    document = sign_credential(unsigned, signer, loader=offline_loader(), created=NOW) if sign else unsigned
    return json.dumps(document).encode()


def _verify(data, documents, **kwargs):
    options = VerifyOptions(**kwargs.pop("options", {}))
    return verify_bytes(data, loader=offline_loader(), fetch=DictFetch(documents), now=NOW, options=options,
                        **kwargs)


def test_checks_run_in_the_documented_order(key):
    report = _verify(_credential(key), {LIST: _list(key)}, email="ana@example.org", trust={})
    assert [c.check for c in report.checks] == list(CHECK_ORDER)
    assert report.verified


def test_revoked_bit_fails_status(key):
    report = _verify(_credential(key, index=5), {LIST: _list(key, set_index=5)})
    assert report.check("status").code == "REVOKED" and not report.verified


def test_suspended_bit_fails_status_with_its_own_code(key):
    documents = {LIST: _list(key), SUSPENSION: _list(key, purpose="suspension", url=SUSPENSION, set_index=5)}
    report = _verify(_credential(key, suspension=True), documents)
    assert report.check("status").code == "SUSPENDED"


def test_a_forged_credential_shows_no_good_news_but_keeps_its_bad_news(key):
    """The signature fails, so "valid dates" and "not revoked" would rest on unsigned JSON: not checked.
    A claimed revocation still shows (it can only make the verdict worse)."""
    forged = json.loads(_credential(key, index=5))
    forged["credentialSubject"]["achievement"]["name"] = "Chief Librarian"
    data = json.dumps(forged).encode()
    report = _verify(data, {LIST: _list(key)})
    assert report.check("proof").outcome == "failed"
    for check in ("validity", "status", "issuer_trust"):
        assert (report.check(check).outcome, report.check(check).code) == ("skipped", "NOT_CHECKED"), check
    assert "only claimed" in report.check("status").message
    revoked = _verify(data, {LIST: _list(key, set_index=5)})
    assert revoked.check("status").code == "REVOKED" and not revoked.verified


MESSAGE_ENTRY = {"id": "https://badges.example.org/status/message/1#7", "type": "BitstringStatusListEntry",
                 "statusPurpose": "message", "statusListIndex": "7", "statusSize": 2,
                 "statusListCredential": "https://badges.example.org/status/message/1",
                 "statusMessage": [{"status": "0x0", "message": "pending"}, {"status": "0x1", "message": "final"},
                                   {"status": "0x2", "message": "-"}, {"status": "0x3", "message": "-"}]}
REFRESH_ENTRY = {"id": "https://badges.example.org/status/refresh/1#9", "type": "BitstringStatusListEntry",
                 "statusPurpose": "refresh", "statusListIndex": "9",
                 "statusListCredential": "https://badges.example.org/status/refresh/1"}


def test_status_entries_of_other_purposes_are_a_warning_not_a_failure(key):
    """Bitstring Status List defines refresh and message purposes too: they say nothing about revocation,
    so they are not read (nothing is fetched for them) and do not fail the credential."""
    beside = _verify(_credential(key, extra_status=[MESSAGE_ENTRY, REFRESH_ENTRY]), {LIST: _list(key)})
    assert beside.verified
    assert (beside.check("status").outcome, beside.check("status").code) == ("warning", "STATUS_OK")
    assert "Not revoked." in beside.check("status").message and "'message'" in beside.check("status").message
    alone = _verify(_credential(key, revocation=False, extra_status=[REFRESH_ENTRY]), {})
    assert alone.verified
    assert (alone.check("status").outcome, alone.check("status").code) == ("warning", "STATUS_PURPOSE_OTHER")
    revoked = _verify(_credential(key, extra_status=[MESSAGE_ENTRY]), {LIST: _list(key, set_index=5)})
    assert revoked.check("status").code == "REVOKED" and not revoked.verified
    nameless = _verify(_credential(key, revocation=False, extra_status=[{**REFRESH_ENTRY, "statusPurpose": ""}]), {})
    assert nameless.check("status").code == "STATUS_ENTRY_INVALID" and not nameless.verified


def test_a_status_list_that_is_not_a_credential_cannot_establish_status(key):
    report = _verify(_credential(key), {LIST: json.dumps({"hello": "world"}).encode()})
    assert report.check("status").code == "STATUS_LIST_INVALID" and not report.verified


def test_a_status_list_signed_by_someone_else_cannot_speak_for_the_issuer(key, stranger):
    report = _verify(_credential(key), {LIST: _list(stranger)})
    assert report.check("status").code == "STATUS_LIST_INVALID"
    assert "not by the credential's issuer" in report.check("status").message


def test_a_status_list_naming_the_issuer_but_signed_by_another_key_fails(key, stranger):
    report = _verify(_credential(key), {LIST: _list(stranger, issuer=key.public_key.did_key)})
    assert report.check("status").code == "STATUS_LIST_INVALID"


def test_an_unsigned_or_expired_status_list_fails(key):
    unsigned = _verify(_credential(key), {LIST: _list(key, sign=False)})
    assert unsigned.check("status").code == "STATUS_LIST_INVALID"
    expired = _verify(_credential(key), {LIST: _list(key, valid_until=NOW - timedelta(hours=1))})
    assert expired.check("status").code == "STATUS_LIST_INVALID"
    assert "not current" in expired.check("status").message


def test_unreachable_status_fails_unless_allowed(key):
    strict = _verify(_credential(key), {})
    assert strict.check("status").code == "STATUS_UNREACHABLE" and not strict.verified
    lenient = _verify(_credential(key), {}, options={"allow_unreachable_status": True})
    assert lenient.check("status").outcome == "warning" and lenient.verified


def test_trust_list_names_known_issuers_and_warns_or_fails_for_others(key):
    data, documents = _credential(key), {LIST: _list(key)}
    known = _verify(data, documents, trust={key.public_key.did_key: "Lakeshore Library Association"})
    assert known.check("issuer_trust").message == "Issued by Lakeshore Library Association (known issuer)."
    unknown = _verify(data, documents, trust={"did:web:other.example": "Other"})
    assert unknown.check("issuer_trust").outcome == "warning" and unknown.verified
    required = _verify(data, documents, trust={}, options={"require_trusted": True})
    assert required.check("issuer_trust").outcome == "failed" and not required.verified


def test_recipient_check_matches_the_hashed_email_only(key):
    data, documents = _credential(key), {LIST: _list(key)}
    assert _verify(data, documents, email="Ana@Example.org ").check("recipient").outcome == "passed"
    mismatch = _verify(data, documents, email="bob@example.org")
    assert mismatch.check("recipient").code == "RECIPIENT_MISMATCH" and not mismatch.verified
    assert _verify(data, documents).check("recipient") is None


def test_validity_window_has_five_minutes_of_skew(key):
    data = _credential(key, valid_until=NOW - timedelta(minutes=4))
    assert _verify(data, {LIST: _list(key)}).check("validity").outcome == "passed"
    late = _credential(key, valid_until=NOW - timedelta(minutes=6))
    report = _verify(late, {LIST: _list(key)})
    assert report.check("validity").code == "EXPIRED" and "expired on" in report.check("validity").message
    assert "expired on 23 November 2026, 11:54 UTC" in report.check("validity").message  # people's date format
    assert report.to_dict()["credential"]["validUntil"] == "2026-11-23T11:54:00Z"  # ISO for machines


def test_report_summary_names_issuer_achievement_and_credits(key):
    report = _verify(_credential(key), {LIST: _list(key)})
    summary = report.to_dict()["credential"]
    assert summary["issuer"]["name"] == "Lakeshore Library Association"
    assert summary["achievement"]["achievementType"] == "Course"
    assert summary["creditsEarned"] == 1
    assert report.headline().startswith("Verified: A, issued by Lakeshore Library Association")


# -- a status list is the list the credential names -------------------------------------------

def test_another_list_of_the_issuer_served_for_the_url_cannot_vouch_for_the_credential(key):
    """Replaying list 2 (bit clear) at list 1's URL must not hide a revocation."""
    other = "https://badges.example.org/status/revocation/2"
    report = _verify(_credential(key, index=5), {LIST: _list(key, url=other)})
    assert report.check("status").code == "STATUS_LIST_INVALID" and not report.verified
    assert other in report.check("status").message and LIST in report.check("status").message


def test_a_set_bit_in_a_list_that_names_another_url_still_reports_revoked(key):
    report = _verify(_credential(key, index=5), {LIST: _list(key, url=LIST + "-elsewhere", set_index=5)})
    assert report.check("status").code == "REVOKED"


def test_a_copy_of_the_list_under_its_own_name_on_another_host_verifies_with_a_warning(key):
    name = "e5WK8CbZ1GjycuPombrj"
    named, original = f"https://mirror.example.net/status/{name}", f"https://badges.example.org/status/{name}"
    unsigned = build_credential(
        issuer={"id": key.public_key.did_key, "type": ["Profile"], "name": "Lakeshore Library Association"},
        achievement={"id": "https://badges.example.org/achievements/a", "type": ["Achievement"], "name": "A",
                     "description": "B", "criteria": {"narrative": "C"}, "achievementType": "Course"},
        recipient=Recipient(identity=identity_object("ana@example.org", salt="pepper")),
        award=Award(credits_earned=1, status=(status_entry(named, 5, "revocation"),)), now=NOW - timedelta(days=1))
    credential = json.dumps(sign_credential(unsigned, key, loader=offline_loader(), created=NOW)).encode()
    report = _verify(credential, {named: _list(key, url=original)})
    assert report.verified, report.to_text()
    assert report.check("status").outcome == "warning" and original in report.check("status").message
