"""Claiming an award into a wallet (issue 20): offers are single use, expire, need their PIN when
they have one; a claim issues a copy bound to the holder's DID with its own status entries, which
the award's revocation and suspension carry along; reports count the award once."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from errors import BadgesmithError, Code
from issuer.awarding import claims
from issuer.awarding.issuing import IssueRequest
from issuer.awarding.status_changes import change_status, publish_status_lists
from issuer.records.reports import coordinator_report
from issuer.records.transcript import issue_transcript
from issuer.store.models import WalletOfferRow
from keys.ed25519 import KeyPair
from keys.vc_jwt import decode_jwt

from ..conftest import COURSE, NOW

HOLDER = "did:key:" + KeyPair.from_seed(bytes([7] * 32)).public_key.to_multikey()
OTHER_HOLDER = "did:key:" + KeyPair.from_seed(bytes([8] * 32)).public_key.to_multikey()


def _award(issuer, email="ana@lakeshore.example", *, suspension=False):
    return issuer.issue(COURSE, IssueRequest(email=email, name="Ana Reyes", credits=1.5),
                        suspension=suspension).record


def _code(call) -> str:
    with pytest.raises(BadgesmithError) as caught:
        call()
    return caught.value.code.value


def _write(tmp_path, name, signed):
    path = tmp_path / name
    path.write_text(signed if isinstance(signed, str) else json.dumps(signed))
    return path


def test_claim_issues_a_copy_bound_to_the_holder_with_the_awards_terms_and_its_own_status(issuer, tmp_path,
                                                                                          verify_file):
    award = _award(issuer)
    offer = claims.create_offer(issuer, award.id, protocol="vcapi")
    copy = claims.claim(issuer, offer.secret, HOLDER + "#" + HOLDER.split(":")[-1])
    original = json.loads(award.credential)
    assert copy["id"] != award.id and copy["id"].startswith("urn:uuid:")
    assert copy["credentialSubject"]["id"] == HOLDER  # the DID, not the key id the wallet named
    assert copy["credentialSubject"]["achievement"] == original["credentialSubject"]["achievement"]
    assert copy["credentialSubject"]["creditsEarned"] == 1.5
    assert (copy["validFrom"], copy.get("validUntil")) == (original["validFrom"], original.get("validUntil"))
    assert copy["credentialSubject"]["identifier"] == original["credentialSubject"]["identifier"]
    assert copy["credentialStatus"]["statusListIndex"] != original["credentialStatus"]["statusListIndex"]
    assert copy["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    publish_status_lists(issuer)
    report = verify_file(_write(tmp_path, "copy.json", copy), issuer)
    assert report.verified, report.to_dict()
    [stored] = claims.wallet_copies(issuer, award.id)
    assert (stored.id, stored.holder, stored.format, stored.status) == (copy["id"], HOLDER, "ldp_vc", "active")


def test_claim_as_vc_jwt_is_a_compact_jwt_that_verifies(issuer, tmp_path, verify_file):
    award = _award(issuer)
    offer = claims.create_offer(issuer, award.id, protocol="oid4vci")
    jwt = claims.claim(issuer, offer.secret, HOLDER, format="jwt_vc_json")
    assert isinstance(jwt, str) and jwt.count(".") == 2
    payload = decode_jwt(jwt)[1]
    assert payload["sub"] == HOLDER and payload["credentialSubject"]["id"] == HOLDER
    publish_status_lists(issuer)
    assert verify_file(_write(tmp_path, "copy.jwt", jwt), issuer).verified


def test_an_offer_is_single_use(issuer):
    offer = claims.create_offer(issuer, _award(issuer).id, protocol="vcapi")
    claims.claim(issuer, offer.secret, HOLDER)
    assert _code(lambda: claims.claim(issuer, offer.secret, HOLDER)) == "OFFER_USED"
    assert _code(lambda: claims.open_offer(issuer, offer.secret)) == "OFFER_USED"
    assert _code(lambda: claims.claim(issuer, offer.secret, OTHER_HOLDER)) == "OFFER_USED"


def test_an_offer_expires_after_its_ttl(issuer):
    award = _award(issuer)
    offer = claims.create_offer(issuer, award.id, protocol="vcapi")
    assert offer.expires_at == NOW + timedelta(minutes=10)  # the default
    claims.open_offer(issuer, offer.secret, now=NOW + timedelta(minutes=9, seconds=59))
    later = NOW + timedelta(minutes=10)
    assert _code(lambda: claims.open_offer(issuer, offer.secret, now=later)) == "OFFER_EXPIRED"
    assert _code(lambda: claims.claim(issuer, offer.secret, HOLDER, now=later)) == "OFFER_EXPIRED"
    assert claims.wallet_copies(issuer, award.id) == []
    short = claims.create_offer(issuer, award.id, protocol="vcapi", ttl=timedelta(seconds=30))
    assert _code(lambda: claims.claim(issuer, short.secret, HOLDER, now=NOW + timedelta(seconds=31))) == "OFFER_EXPIRED"


def test_offer_minutes_in_the_settings_sets_the_default_ttl(make_issuer, tmp_path):
    home = tmp_path / "instance"
    issuer = make_issuer()
    (home / "badgesmith.toml").write_text((home / "badgesmith.toml").read_text() + "\n[wallet]\noffer_minutes = 3\n")
    issuer = make_issuer()
    assert issuer.settings.offer_minutes == 3
    offer = claims.create_offer(issuer, _award(issuer).id, protocol="oid4vci")
    assert offer.expires_at == NOW + timedelta(minutes=3)


def test_unknown_and_malformed_secrets_are_offer_unknown(issuer):
    claims.create_offer(issuer, _award(issuer).id, protocol="vcapi")
    for secret in ("x" * 43, "", "../../etc", "a" * 5000):
        assert _code(lambda: claims.open_offer(issuer, secret)) == "OFFER_UNKNOWN"


def test_a_transaction_code_is_required_checked_and_closes_the_offer_after_five_misses(issuer):
    award = _award(issuer)
    offer = claims.create_offer(issuer, award.id, protocol="oid4vci", tx_code=True)
    assert offer.tx_code.isdigit() and len(offer.tx_code) == 6 and offer.tx_code_required
    assert _code(lambda: claims.claim(issuer, offer.secret, HOLDER)) == "TX_CODE_REQUIRED"
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    assert _code(lambda: claims.claim(issuer, offer.secret, HOLDER, tx_code=wrong)) == "TX_CODE_WRONG"
    assert claims.open_offer(issuer, offer.secret, tx_code=offer.tx_code).tx_code_required  # not consumed
    assert claims.claim(issuer, offer.secret, HOLDER, tx_code=offer.tx_code)["credentialSubject"]["id"] == HOLDER

    guessed = claims.create_offer(issuer, award.id, protocol="oid4vci", tx_code=True)
    wrong = "000000" if guessed.tx_code != "000000" else "111111"
    for _ in range(claims.MAX_TX_CODE_FAILURES):
        assert _code(lambda: claims.open_offer(issuer, guessed.secret, tx_code=wrong)) == "TX_CODE_WRONG"
    assert _code(lambda: claims.claim(issuer, guessed.secret, HOLDER, tx_code=guessed.tx_code)) == "OFFER_USED"


def _offer_ids(issuer) -> set[str]:
    with issuer.registry.session(write=False) as s:
        return set(s.scalars(select(WalletOfferRow.id)))


def test_ended_offers_are_pruned_a_day_after_their_end_and_a_replay_stays_refused(issuer):
    award = _award(issuer)
    used = claims.create_offer(issuer, award.id, protocol="vcapi")
    copy = claims.claim(issuer, used.secret, HOLDER)
    expired = claims.create_offer(issuer, award.id, protocol="oid4vci", tx_code=True)
    page = claims.create_offer(issuer, award.id, protocol="link", ttl=timedelta(days=30), tx_code=True)
    end = NOW + timedelta(minutes=10)

    # Within a day of their end they are kept, so a late wallet is told why.
    claims.create_offer(issuer, award.id, protocol="vcapi", now=end + timedelta(hours=23))
    assert {used.id, expired.id, page.id} <= _offer_ids(issuer)
    assert _code(lambda: claims.claim(issuer, used.secret, HOLDER, now=end + timedelta(hours=23))) == "OFFER_USED"
    assert _code(lambda: claims.open_offer(issuer, expired.secret, now=end)) == "OFFER_EXPIRED"

    # Making an offer a day later deletes them; a replay of either is unknown, and gives nothing.
    later = end + timedelta(days=1, seconds=1)
    fresh = claims.create_offer(issuer, award.id, protocol="vcapi", now=later)
    assert not {used.id, expired.id} & _offer_ids(issuer) and {page.id, fresh.id} <= _offer_ids(issuer)
    assert _code(lambda: claims.claim(issuer, used.secret, OTHER_HOLDER, now=later)) == "OFFER_UNKNOWN"
    assert _code(lambda: claims.claim(issuer, expired.secret, HOLDER, tx_code=expired.tx_code,
                                      now=later)) == "OFFER_UNKNOWN"
    assert [c.id for c in claims.wallet_copies(issuer, award.id)] == [copy["id"]]  # the copy stays
    assert claims.find_offer(issuer, page.secret, now=later).id == page.id  # a claim page still open is kept


def test_pruning_is_bounded_per_call(issuer):
    award = _award(issuer)
    ended = {claims.create_offer(issuer, award.id, protocol="vcapi").id for _ in range(5)}
    later = NOW + timedelta(days=2)
    assert [claims.prune_offers(issuer, now=later, limit=2) for _ in range(4)] == [2, 2, 1, 0]
    assert not ended & _offer_ids(issuer)
    assert claims.prune_offers(issuer, now=later) == 0


def test_a_big_prune_spans_several_deletes_and_making_offers_prunes_at_least_the_floor(issuer):
    award = _award(issuer)
    later = NOW + timedelta(days=2)

    def ended_offers(count):
        for _ in range(count):
            claims.create_offer(issuer, award.id, protocol="vcapi", ttl=timedelta(seconds=1))

    ended_offers(520)
    assert claims.prune_offers(issuer, now=later, limit=1000) == 520  # more ids than one DELETE takes
    assert _offer_ids(issuer) == set()
    ended_offers(claims.PRUNE_BATCH + 1)
    fresh = claims.create_offers(issuer, [award.id], protocol="link", ttl=timedelta(days=30), tx_code=True, now=later)
    assert len(_offer_ids(issuer) - {fresh[award.id].id}) == 1  # one offer made, the floor of 200 pruned


def test_open_offer_ends_names_the_latest_open_offer_of_each_award(issuer):
    award, other = _award(issuer), _award(issuer, "bo@lakeshore.example")
    claims.create_offer(issuer, award.id, protocol="link", ttl=timedelta(days=1), tx_code=True)
    claims.create_offer(issuer, award.id, protocol="link", ttl=timedelta(days=30), tx_code=True)
    closed = claims.create_offer(issuer, other.id, protocol="link", ttl=timedelta(days=30), tx_code=True)
    claims.create_offer(issuer, other.id, protocol="vcapi")  # another kind of offer
    for _ in range(claims.MAX_TX_CODE_FAILURES):  # wrong PINs close this page
        _code(lambda: claims.open_offer(issuer, closed.secret, tx_code="x"))
    ends = claims.open_offer_ends(issuer, [award.id, other.id], protocol="link")
    assert ends == {award.id: NOW + timedelta(days=30)}
    assert claims.open_offer_ends(issuer, [award.id], protocol="link", now=NOW + timedelta(days=30)) == {}


def test_only_hashes_of_the_secret_and_pin_are_stored(issuer):
    offer = claims.create_offer(issuer, _award(issuer).id, protocol="oid4vci", tx_code=True)
    with issuer.registry.session(write=False) as s:
        row = s.scalar(select(WalletOfferRow).where(WalletOfferRow.id == offer.id))
        stored = json.dumps({c.name: str(getattr(row, c.name)) for c in WalletOfferRow.__table__.columns})
    assert offer.secret not in stored and offer.tx_code not in stored
    assert row.secret_hash == claims.hash_secret(offer.secret)


def test_a_second_claim_by_the_same_holder_returns_the_same_copy_another_holder_gets_its_own(issuer):
    award = _award(issuer)
    first = claims.claim(issuer, claims.create_offer(issuer, award.id, protocol="vcapi").secret, HOLDER)
    again = claims.claim(issuer, claims.create_offer(issuer, award.id, protocol="oid4vci").secret, HOLDER)
    other = claims.claim(issuer, claims.create_offer(issuer, award.id, protocol="vcapi").secret, OTHER_HOLDER)
    assert again == first
    assert other["id"] != first["id"] and other["credentialSubject"]["id"] == OTHER_HOLDER
    assert sorted(c.holder for c in claims.wallet_copies(issuer, award.id)) == sorted([HOLDER, OTHER_HOLDER])


def test_two_wallets_racing_with_one_offer_get_one_copy(issuer):
    award = _award(issuer)
    offer = claims.create_offer(issuer, award.id, protocol="vcapi")
    results: list[object] = []
    start = threading.Barrier(4)

    def race(holder: str) -> None:
        start.wait()
        try:
            results.append(claims.claim(issuer, offer.secret, holder))
        except BadgesmithError as error:
            results.append(error.code.value)

    threads = [threading.Thread(target=race, args=(h,)) for h in (HOLDER, OTHER_HOLDER, HOLDER, OTHER_HOLDER)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r for r in results if isinstance(r, str)) == ["OFFER_USED"] * 3
    assert len(claims.wallet_copies(issuer, award.id)) == 1


def test_revoking_the_award_revokes_every_wallet_copy(issuer, tmp_path, verify_file):
    award = _award(issuer)
    ldp = claims.claim(issuer, claims.create_offer(issuer, award.id, protocol="vcapi").secret, HOLDER)
    jwt = claims.claim(issuer, claims.create_offer(issuer, award.id, protocol="oid4vci").secret, OTHER_HOLDER,
                       format="jwt_vc_json")
    change_status(issuer, award.id, "revoke", reason="issued in error")
    assert {c.status for c in claims.wallet_copies(issuer, award.id)} == {"revoked"}
    for name, signed in (("ldp.json", ldp), ("copy.jwt", jwt)):
        report = verify_file(_write(tmp_path, name, signed), issuer)
        assert not report.verified
        assert [c.code for c in report.checks if c.check == "status"] == ["REVOKED"]
    assert _code(lambda: claims.create_offer(issuer, award.id, protocol="vcapi")) == "AWARD_NOT_CLAIMABLE"


def test_suspending_and_reinstating_the_award_carries_the_copies(issuer, tmp_path, verify_file):
    award = _award(issuer, suspension=True)
    copy = claims.claim(issuer, claims.create_offer(issuer, award.id, protocol="vcapi").secret, HOLDER)
    assert len(copy["credentialStatus"]) == 2  # revocation and suspension, like the award
    change_status(issuer, award.id, "suspend", reason="under review")
    path = _write(tmp_path, "copy.json", copy)
    assert [c.code for c in verify_file(path, issuer).checks if c.check == "status"] == ["SUSPENDED"]
    change_status(issuer, award.id, "reinstate", reason="cleared")
    assert verify_file(path, issuer).verified
    assert [c.status for c in claims.wallet_copies(issuer, award.id)] == ["active"]


def test_an_offer_for_a_suspended_award_cannot_be_claimed(issuer):
    award = _award(issuer, suspension=True)
    offer = claims.create_offer(issuer, award.id, protocol="vcapi")
    change_status(issuer, award.id, "suspend", reason="under review")
    assert _code(lambda: claims.claim(issuer, offer.secret, HOLDER)) == "AWARD_NOT_CLAIMABLE"
    change_status(issuer, award.id, "reinstate", reason="cleared")
    assert claims.claim(issuer, offer.secret, HOLDER)["credentialSubject"]["id"] == HOLDER  # not consumed


def test_reports_count_the_award_once_however_many_wallet_copies(issuer):
    award = _award(issuer)
    for holder in (HOLDER, OTHER_HOLDER):
        for fmt in ("ldp_vc", "jwt_vc_json"):
            claims.claim(issuer, claims.create_offer(issuer, award.id, protocol="vcapi").secret, holder, format=fmt)
    assert len(claims.wallet_copies(issuer, award.id)) == 4
    report = issuer.registry.report(issuer.issuer_id)
    assert [(t.achievement, t.credentials, t.credits) for t in report.by_achievement] == [(COURSE, 1, 1.5)]
    assert [(t.credentials, t.credits) for t in report.by_learner] == [(1, 1.5)]
    assert len(issuer.registry.find_credentials(issuer.issuer_id)) == 1
    coordinator = coordinator_report(issuer, by="learner").totals
    assert (coordinator.completions, coordinator.ceus) == (1, 1.5)
    transcript = issue_transcript(issuer, "ana@lakeshore.example")
    assert [r.id for r in transcript.records] == [award.id]


def test_claim_pages_in_one_go_skip_awards_that_cannot_be_claimed(issuer):
    kept, revoked = _award(issuer), _award(issuer, "bo@lakeshore.example")
    change_status(issuer, revoked.id, "revoke", reason="issued in error")
    offers = claims.create_offers(issuer, [kept.id, revoked.id, kept.id], protocol="link",
                                  ttl=timedelta(days=30), tx_code=True)
    assert list(offers) == [kept.id] and offers[kept.id].tx_code_required
    assert claims.open_offer(issuer, offers[kept.id].secret, tx_code=offers[kept.id].tx_code).protocol == "link"


def test_claim_pages_for_awards_just_issued_are_made_without_looking_them_up_and_open(issuer):
    """A roster run's new awards (``just_issued``) are not looked up; the others still are, and an id named
    only as just issued gets nothing."""
    new, revoked, other = _award(issuer), _award(issuer, "bo@lakeshore.example"), _award(issuer, "cy@lakeshore.example")
    change_status(issuer, revoked.id, "revoke", reason="issued in error")
    offers = claims.create_offers(issuer, [new.id, revoked.id], protocol="link", ttl=timedelta(days=30),
                                  tx_code=True, just_issued=[new.id, other.id])
    assert list(offers) == [new.id]
    opened = claims.open_offer(issuer, offers[new.id].secret, tx_code=offers[new.id].tx_code)
    assert (opened.credential_id, opened.protocol) == (new.id, "link")


def test_pending_claim_pages_open_only_when_started_and_only_once(issuer):
    """A roster summary's pages are made pending: not open (an attempt says expired) until started with the end
    they were made with; starting again, or an offer that was never pending, changes nothing."""
    first, second = _award(issuer), _award(issuer, "bo@lakeshore.example")
    offers = claims.create_offers(issuer, [first.id, second.id], protocol="link", ttl=timedelta(days=30),
                                  tx_code=True, pending=True)
    assert claims.open_offer_ends(issuer, [first.id, second.id], protocol="link") == {}
    assert _code(lambda: claims.open_offer(issuer, offers[first.id].secret,
                                           tx_code=offers[first.id].tx_code)) == "OFFER_EXPIRED"
    ordinary = claims.create_offer(issuer, first.id, protocol="link", ttl=timedelta(days=5), tx_code=True)
    ends = {offers[first.id].id: offers[first.id].expires_at, ordinary.id: NOW + timedelta(days=90)}
    assert claims.start_offers(issuer, ends) == 1  # the ordinary offer keeps its own end
    assert claims.open_offer_ends(issuer, [first.id, second.id], protocol="link") == {
        first.id: offers[first.id].expires_at}
    assert claims.open_offer(issuer, offers[first.id].secret, tx_code=offers[first.id].tx_code).protocol == "link"
    assert claims.start_offers(issuer, {offers[first.id].id: NOW + timedelta(days=400)}) == 0  # started already


@pytest.mark.parametrize("holder", ["", "not a did", "did:key:", "https://example.org/me", "did:key:z6Mk\n", 7,
                                    "did:example:" + "a" * 1000])
def test_a_holder_that_is_not_a_did_is_refused_and_the_offer_kept(issuer, holder):
    offer = claims.create_offer(issuer, _award(issuer).id, protocol="vcapi")
    assert _code(lambda: claims.claim(issuer, offer.secret, holder)) == "HOLDER_INVALID"
    claims.open_offer(issuer, offer.secret)


def test_bad_protocol_format_and_credential_are_refused(issuer):
    award = _award(issuer)
    assert _code(lambda: claims.create_offer(issuer, award.id, protocol="carrier-pigeon")) == "USAGE"
    assert _code(lambda: claims.create_offer(issuer, "urn:uuid:00000000-0000-0000-0000-000000000000",
                                             protocol="vcapi")) == "CREDENTIAL_NOT_FOUND"
    offer = claims.create_offer(issuer, award.id, protocol="vcapi")
    assert _code(lambda: claims.claim(issuer, offer.secret, HOLDER, format="mso_mdoc")) == "USAGE"
    assert Code.OFFER_UNKNOWN.value == "OFFER_UNKNOWN"


def test_an_unbound_copy_names_the_learner_as_the_award_does(issuer):
    award = _award(issuer)
    copy = claims.claim(issuer, claims.create_offer(issuer, award.id, protocol="vcapi").secret, None, unbound=True)
    original = json.loads(award.credential)["credentialSubject"]
    assert "id" not in copy["credentialSubject"]
    assert copy["credentialSubject"]["identifier"] == original["identifier"]
    assert _code(lambda: claims.claim(issuer, claims.create_offer(issuer, award.id, protocol="vcapi").secret,
                                      None)) == "HOLDER_INVALID"  # no holder only when asked for


def test_a_claim_page_offer_claims_nothing_itself(issuer):
    offer = claims.create_offer(issuer, _award(issuer).id, protocol="link", tx_code=True)
    assert _code(lambda: claims.claim(issuer, offer.secret, HOLDER, tx_code=offer.tx_code)) == "OFFER_UNKNOWN"


def test_a_vc_jwt_award_gives_a_data_integrity_copy_with_the_same_terms(issuer, tmp_path, verify_file):
    award = issuer.issue(COURSE, IssueRequest(email="ana@lakeshore.example", name="Ana Reyes", credits=1.5,
                                              format="jwt")).record
    copy = claims.claim(issuer, claims.create_offer(issuer, award.id, protocol="vcapi").secret, HOLDER)
    original = decode_jwt(award.credential)[1]
    assert copy["credentialSubject"]["achievement"] == original["credentialSubject"]["achievement"]
    assert copy["validFrom"] == original["validFrom"] and copy["credentialSubject"]["creditsEarned"] == 1.5
    assert not {"iss", "jti", "sub", "nbf", "exp", "iat"} & set(copy)  # the JWT's claims are not the credential's
    publish_status_lists(issuer)
    assert verify_file(_write(tmp_path, "copy.json", copy), issuer).verified
