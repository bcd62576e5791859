"""``badgesmith verify`` inside an association's folder or a division's (README "verify inside an instance").

The association and its divisions share one database, so inside any of their folders the status lists
(as their own division signed them), the did:web documents and the badge URLs of all of them come from
that database, before any of their sites is live. ``--offline`` everywhere: a URL the database does not
answer fails with OFFLINE instead of reaching the network. Made with the real commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from issuer.awarding.documents import forget_status_lists
from issuer.awarding.issuing import Issuer
from tests.cli.test_verify_in_instance import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
JANE = "jane@example.org"


def verdict(*args, home: Path | None = None, code: int = 0) -> dict:
    return json.loads(run("verify", *args, "--offline", "--json", home=home, code=code).stdout)


def status_codes(report: dict) -> list[str]:
    return [c["code"] for c in report["checks"] if c["check"] == "status"]


@pytest.fixture
def lla(tmp_path) -> dict:
    """An association and two divisions (youth with did:web, academic with did:key), one badge each for Jane,
    and the association's transcript of both."""
    homes = {name: tmp_path / name for name in ("lla", "youth", "academic")}
    run("association", "init", "--name", "Lakeshore Library Association", "--url", "https://lla.example",
        homes["lla"])
    for name, url, extra, achievement in (
            ("youth", "https://youth.lla.example", ("--did-web", "youth.lla.example"), "ceu-course.toml"),
            ("academic", "https://academic.lla.example", (), "micro-credential.toml")):
        run("--home", homes[name], "init", "--name", f"{name.title()} Division", "--url", url, *extra,
            "--association", homes["lla"])
        run("--home", homes[name], "achievement", "add", EXAMPLES / achievement)
    made = dict(homes)
    for name, slug in (("youth", "storytime-early-literacy"), ("academic", "inclusive-teen-programming")):
        issued = json.loads(run("--home", homes[name], "issue", slug, "--email", JANE, "--name", "Jane Doe",
                                "--json").stdout)
        made[name + "_id"] = issued["id"]
        made[name + "_file"] = next(p for p in issued["files"] if p.endswith(".json"))
    made["transcript"] = tmp_path / "lla-jane.json"
    run("--home", homes["lla"], "association", "transcript", "--email", JANE, "-o", made["transcript"])
    yield made
    forget_status_lists()


def test_the_association_verifies_its_transcript_and_each_divisions_badge_from_the_shared_database(lla):
    outside = verdict(lla["transcript"], code=1)
    assert any(status_codes(e) == ["STATUS_UNREACHABLE"] for e in outside["embedded"])
    inside = verdict(lla["transcript"], home=lla["lla"])
    assert inside["verified"] is True and len(inside["embedded"]) == 2
    assert all(e["verified"] and status_codes(e) == ["STATUS_OK"] for e in inside["embedded"])
    for name in ("youth", "academic"):
        report = verdict(lla[name + "_file"], home=lla["lla"])
        assert report["verified"] is True and status_codes(report) == ["STATUS_OK"]
    # youth is a did:web: its DID document (public keys from the database) verified the proof, offline.
    youth = json.loads(Path(lla["youth_file"]).read_text("utf-8"))
    assert youth["issuer"]["id"] == "did:web:youth.lla.example"
    assert verdict(lla["youth_file"], code=1)["checks"][4]["outcome"] == "failed"  # outside: no DID document


def test_a_division_serves_its_siblings_too(lla):
    report = verdict(lla["youth_file"], home=lla["academic"])
    assert report["verified"] is True and status_codes(report) == ["STATUS_OK"]
    assert verdict(lla["transcript"], home=lla["youth"])["verified"] is True


def test_a_division_revocation_shows_inside_the_association(lla):
    run("--home", lla["youth"], "revoke", lla["youth_id"], "--reason", "issued in error")
    forget_status_lists()
    report = verdict(lla["youth_file"], home=lla["lla"], code=1)
    assert status_codes(report) == ["REVOKED"]
    transcript = verdict(lla["transcript"], home=lla["lla"], code=1)
    failed = [e for e in transcript["embedded"] if not e["verified"]]
    assert [status_codes(e) for e in failed] == [["REVOKED"]]
    assert failed[0]["credential"]["issuer"]["id"] == "did:web:youth.lla.example"


def test_a_list_changed_but_not_re_signed_is_not_served_stale(lla):
    # A status change that did not (yet) re-sign the list: the kept copy is of an older version, so it is not
    # served (it would say "not revoked"); the verifier must go to the network, refused here by --offline.
    youth = Issuer.open(lla["youth"])
    try:
        youth.set_status(lla["youth_id"], "revoke", reason="no re-signing")
    finally:
        youth.close()
    forget_status_lists()
    report = verdict(lla["youth_file"], home=lla["lla"], code=1)
    assert status_codes(report) == ["STATUS_UNREACHABLE"]
    # The division itself signs its list afresh, so it sees the revocation at once.
    assert status_codes(verdict(lla["youth_file"], home=lla["youth"], code=1)) == ["REVOKED"]


def test_a_badge_url_verifies_inside_its_instance_and_its_association(lla):
    uid = lla["youth_id"].removeprefix("urn:uuid:")
    stored = Path(lla["youth_file"]).read_text("utf-8")
    for home in ("youth", "lla", "academic"):
        for url in (f"https://youth.lla.example/credentials/{uid}",
                    f"https://youth.lla.example/credentials/{uid}.json",
                    f"https://youth.lla.example/credentials/{uid}/credential.json"):
            report = verdict(url, home=lla[home])
            assert report["verified"] is True, (home, url)
            assert report["credential"]["id"] == lla["youth_id"]
    assert json.loads(stored)["id"] == lla["youth_id"]
    # Outside any instance the URL goes to the network (refused offline).
    refused = run("verify", f"https://youth.lla.example/credentials/{uid}", "--offline", code=2)
    assert "OFFLINE" in refused.stderr


@pytest.mark.parametrize("url", [
    "https://youth.lla.example/credentials/00000000-0000-4000-8000-000000000000",  # no such badge
    "https://youth.lla.example/status/revocation/99",  # no such list
    "https://academic.lla.example/credentials/{uid}/badge.png",  # a rendering, not served
    "https://elsewhere.example/credentials/{uid}",  # another site with a badge id of ours
])
def test_a_url_the_database_does_not_hold_still_goes_to_the_network(lla, url):
    url = url.format(uid=lla["academic_id"].removeprefix("urn:uuid:"))
    refused = run("verify", url, "--offline", home=lla["lla"], code=2)
    assert "OFFLINE" in refused.stderr


def test_a_members_live_did_document_comes_before_the_databases(lla):
    # The database knows a division's Ed25519 keys only, not the RS256/ES256 keys its VC-JWTs may be
    # signed with: the live document wins, and the database's copy answers only when the site cannot.
    from errors import Code, UpstreamError
    from issuer.awarding.documents import instance_documents
    from keys.did import did_web_url
    from verifier.fetch import DictFetch

    url = did_web_url("did:web:youth.lla.example")
    live = {"id": "did:web:youth.lla.example", "verificationMethod": [{"id": "did:web:youth.lla.example#es256-1"}]}
    issuer = Issuer.open(lla["lla"])
    try:
        assert json.loads(instance_documents(issuer, then=DictFetch({url: json.dumps(live)}))(url)) == live

        def failing(code):
            def fetch(_url):
                raise UpstreamError(code, "no")
            return fetch

        for code in (Code.OFFLINE, Code.FETCH_FAILED):  # not live yet, or offline: the database's keys
            served = json.loads(instance_documents(issuer, then=failing(code))(url))
            assert served["id"] == "did:web:youth.lla.example" and served != live
        with pytest.raises(UpstreamError) as refused:  # a refusal is never papered over
            instance_documents(issuer, then=failing(Code.FETCH_REFUSED))(url)
        assert refused.value.code == Code.FETCH_REFUSED
    finally:
        issuer.close()
