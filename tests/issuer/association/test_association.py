"""An association of three divisions on one database (a SQLite file, then a throwaway PostgreSQL cluster):
setting it up, parentOrg and the division list, one learner across divisions, the association learner page,
the association transcript with nested verification, association pathways awarded once, and who can issue."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timezone

import pytest

from app import create_app
from errors import BadgesmithError, Code, ConfigError, Conflict, InputError, NotFound
from issuer.association.learner_record import association_view, create_association_link, find_member
from issuer.association.pathways import (achievement_key, add_association_pathway, association_progress,
                                         award_association_due, award_association_pathways)
from issuer.association.setup import association_profile, create_division, divisions, open_association
from issuer.association.transcript import issue_association_transcript
from issuer.awarding.awards import issue_single
from issuer.awarding.documents import instance_documents
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.awarding.status_changes import change_status
from issuer.badge.recipient import lookup_key
from issuer.records.learners import learner_page_url
from schemas.loader import offline_loader
from verifier.fetch import Offline, layered
from verifier.pipeline import verify_bytes

from .three_divisions import NOW, build_association

JANE = "Jane.Doe@Example.org"
LATER = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
LEADERSHIP = '''id = "leadership-certificate"
name = "Association Leadership Certificate"
achievement_type = "Certificate"
description = "Recognises members who completed a course in each of three divisions."
criteria = "Awarded on completing the Leadership pathway."
tags = ["leadership"]
'''


@pytest.fixture
def assoc(tmp_path, db_url):
    built = build_association(tmp_path, None if db_url.startswith("sqlite") else db_url)
    yield built
    built.close()


def _issue(issuer, slug, day, *, email=JANE, credits=None, name="Jane Doe"):
    return issue_single(issuer, slug, IssueRequest(email=email, name=name, date=day, credits=credits)).record


def _cross_division_record(assoc):
    """Jane's credentials from the three divisions (one revoked, one superseded by a correction)."""
    # Revoked before the other academic course, so the academic division's own pathway is not completed.
    revoked = _issue(assoc.academic, "cataloging-basics", date(2026, 3, 1))
    change_status(assoc.academic, revoked.id, "revoke", reason="issued in error")
    kept = [_issue(assoc.youth, "storytime-early-literacy", date(2025, 10, 15)),
            _issue(assoc.academic, "information-literacy-instruction", date(2026, 2, 1)),
            _issue(assoc.support, "support-staff-foundations", date(2026, 5, 4))]
    first = _issue(assoc.youth, "inclusive-teen-programming", date(2026, 6, 1), credits=2)
    corrected = assoc.youth.reissue(first, IssueRequest(email=JANE, name="Jane Doe", date=date(2026, 6, 1),
                                                       credits=3)).record
    return kept + [corrected], [revoked, first]


def _association_with_clock(assoc, now):
    opened = open_association(assoc.association.issuer.settings.home)
    opened.issuer.now = lambda: now
    return opened


def _fetch(assoc, opened):
    return layered(*(instance_documents(i) for i in (*assoc.all, opened.issuer)), Offline())


# -- setting up -----------------------------------------------------------------------------------------------


def test_divisions_share_the_database_and_lookup_secret_and_keep_their_own_keys_and_dids(assoc):
    association = assoc.association
    assert association.record.is_association
    found = divisions(association)
    assert [d.name for d in found] == ["Academic Libraries Division", "Library Support Staff Certification",
                                       "Youth Services Division"]
    assert {d.did for d in found} == {i.did for i in assoc.all}
    assert len({i.did for i in assoc.all} | {association.did}) == 4
    assert {i.settings.database_url for i in assoc.all} == {association.issuer.settings.database_url}
    assert {i.settings.lookup_secret for i in assoc.all} == {association.lookup_secret}
    assert len({i.key.public_key.to_multikey() for i in assoc.all}) == 3
    # One learner across divisions: the same address gives the same key everywhere.
    keys = {lookup_key("jane.doe@example.org", i.settings.lookup_secret) for i in assoc.all}
    assert len(keys) == 1


def test_every_division_profile_and_credential_names_the_association_as_parent_org(assoc):
    association = assoc.association
    record = _issue(assoc.academic, "cataloging-basics", date(2026, 3, 1))
    issuer = json.loads(record.credential)["issuer"]
    parent = {"id": association.did, "type": ["Profile"], "name": association.name, "url": association.url}
    assert issuer["id"] == assoc.academic.did and issuer["parentOrg"] == parent
    assert all(i.profile()["parentOrg"] == parent for i in assoc.all)
    assert "parentOrg" not in association.issuer.profile()
    listed = association_profile(association)["divisions"]
    assert {d["id"] for d in listed} == {i.did for i in assoc.all}
    assert all(d["type"] == ["Profile"] for d in listed)


def test_the_served_profiles_name_the_parent_and_list_the_divisions(assoc):
    division_app = create_app({"TESTING": True, "HOME": str(assoc.youth.settings.home)})
    body = division_app.test_client().get("/issuer", headers={"Accept": "application/ld+json"}).get_json()
    assert body["parentOrg"]["id"] == assoc.association.did
    association_app = create_app({"TESTING": True, "HOME": str(assoc.association.issuer.settings.home)})
    body = association_app.test_client().get("/issuer", headers={"Accept": "application/ld+json"}).get_json()
    assert {d["name"] for d in body["divisions"]} == {i.settings.name for i in assoc.all}


def test_a_division_joined_by_database_url_needs_the_association_lookup_secret(assoc, tmp_path):
    url = assoc.association.issuer.settings.database_url
    with pytest.raises(InputError) as caught:
        create_division(tmp_path / "west", association=url, name="West Region", url="https://west.lla.example")
    assert caught.value.code == Code.USAGE
    west = create_division(tmp_path / "west", association=url, name="West Region", url="https://west.lla.example",
                           lookup_secret=assoc.association.lookup_secret)
    try:
        assert west.profile()["parentOrg"]["id"] == assoc.association.did
        assert west.settings.lookup_secret == assoc.association.lookup_secret
    finally:
        west.close()


def test_an_instance_that_is_no_association_is_refused_as_one(assoc, tmp_path):
    with pytest.raises(NotFound) as caught:
        create_division(tmp_path / "x", association=str(assoc.youth.settings.home), name="X", url="https://x.example")
    assert caught.value.code == Code.ASSOCIATION_NOT_FOUND
    with pytest.raises(NotFound) as caught:
        open_association(assoc.youth.settings.home)
    assert caught.value.code == Code.ASSOCIATION_NOT_FOUND


# -- who can issue --------------------------------------------------------------------------------------------


def test_a_division_key_signing_for_another_division_is_refused(assoc):
    academic_home = assoc.academic.settings.home
    assoc.academic.close()
    shutil.copy(assoc.youth.settings.keys_dir / "key-1.pem", academic_home / "keys" / "key-1.pem")
    with pytest.raises(Conflict) as caught:
        Issuer.open(academic_home, now=lambda: NOW)
    assert caught.value.code == Code.KEY_OF_ANOTHER_ISSUER
    assert "Youth Services Division" in caught.value.message
    # Nothing was signed or changed: the youth division's row still carries its own name and URL.
    youth = assoc.association.registry.get_issuer(assoc.youth.did)
    assert (youth.name, youth.url) == ("Youth Services Division", "https://youth.lla.example")


def test_the_association_key_never_signs_for_a_division(assoc):
    support_home = assoc.support.settings.home
    assoc.support.close()
    shutil.copy(assoc.association.issuer.settings.keys_dir / "key-1.pem", support_home / "keys" / "key-1.pem")
    with pytest.raises(Conflict) as caught:
        Issuer.open(support_home, now=lambda: NOW)
    assert caught.value.code == Code.KEY_OF_ANOTHER_ISSUER
    # And the association itself knows no division's achievements: it cannot award one.
    with pytest.raises(NotFound) as caught:
        assoc.association.issuer.issue("storytime-early-literacy", IssueRequest(email=JANE))
    assert caught.value.code == Code.ACHIEVEMENT_NOT_FOUND


# -- the learner record ---------------------------------------------------------------------------------------


def test_the_association_record_lists_every_division_with_ceus_per_year_and_division(assoc):
    kept, left_out = _cross_division_record(assoc)
    opened = _association_with_clock(assoc, LATER)
    try:
        view = association_view(opened, find_member(opened, "jane.doe@EXAMPLE.org"))
    finally:
        opened.close()
    shown = {e.id for g in view.groups for e in g.entries}
    assert shown == {r.id for r in kept}
    assert not shown & {r.id for r in left_out}
    assert {g.title for g in view.groups} == {i.settings.name for i in assoc.all}
    assert view.ceus_by_year == ((2025, 1.5), (2026, 8.0))  # 2 + 3 + 3 (the correction's 3, not the first 2)
    assert dict(view.ceus_by_division) == {"Academic Libraries Division": 2.0,
                                           "Library Support Staff Certification": 3.0,
                                           "Youth Services Division": 4.5}
    assert [e.name for e in view.inactive] == ["Cataloging Basics with RDA"]  # revoked, not replaced
    pages = {e.page for g in view.groups for e in g.entries}
    assert any(p.startswith("https://academic.lla.example/credentials/") for p in pages)


def test_the_association_learner_page_is_served_by_the_association_site(assoc):
    kept, _ = _cross_division_record(assoc)
    association = assoc.association
    token, _ = create_association_link(association, JANE)
    assert learner_page_url(association.issuer, token).startswith("https://lla.example/learners/")
    client = create_app({"TESTING": True, "HOME": str(association.issuer.settings.home)}).test_client()
    response = client.get(f"/learners/{token}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    for name in ("Academic Libraries Division", "Library Support Staff Certification", "Youth Services Division",
                 "Continuing-education units per division", "Teaching Information Literacy"):
        assert name in html
    assert f"https://lssc.lla.example/credentials/{kept[2].id.removeprefix('urn:uuid:')}" in html
    # A division's own site does not open the association's link.
    division = create_app({"TESTING": True, "HOME": str(assoc.youth.settings.home)}).test_client()
    assert division.get(f"/learners/{token}").status_code == 404
    transcript = client.get(f"/learners/{token}/transcript.json")
    assert transcript.status_code == 200
    assert len(transcript.get_json()["credentialSubject"]["verifiableCredential"]) == 4


def test_a_learner_no_division_ever_awarded_is_not_found(assoc):
    with pytest.raises(NotFound) as caught:
        create_association_link(assoc.association, "nobody@example.org")
    assert caught.value.code == Code.LEARNER_NOT_FOUND


# -- the transcript -------------------------------------------------------------------------------------------


def test_the_association_transcript_embeds_every_division_and_verifies_nested(assoc):
    kept, left_out = _cross_division_record(assoc)
    opened = _association_with_clock(assoc, LATER)
    try:
        result = issue_association_transcript(opened, JANE)
        document = result.document
        assert document["issuer"]["id"] == opened.did
        embedded = document["credentialSubject"]["verifiableCredential"]
        assert {c["id"] for c in embedded} == {r.id for r in kept}
        assert {c["issuer"]["id"] for c in embedded} == {i.did for i in assoc.all}
        assert document["partial"] is True  # the revoked and the superseded credential are left out
        assert "Youth Services Division: 4.5" in document["description"]
        raw = json.dumps(document).encode()
        report = verify_bytes(raw, loader=offline_loader(), fetch=_fetch(assoc, opened), now=LATER)
        assert report.verified, report.to_text()
        assert len(report.embedded) == 4
        # Revoked after the transcript was signed: nested verification names that credential.
        change_status(assoc.support, kept[2].id, "revoke", reason="exam voided")
        report = verify_bytes(raw, loader=offline_loader(), fetch=_fetch(assoc, opened), now=LATER)
        assert not report.verified
        failing = [cid for cid, nested in report.embedded if not nested.verified]
        assert failing == [kept[2].id]
        assert any(kept[2].id in warning for warning in report.warnings)
    finally:
        opened.close()


# -- association pathways -------------------------------------------------------------------------------------


def _leadership(assoc, tmp_path):
    folder = tmp_path / "association-files"
    folder.mkdir()
    (folder / "leadership.toml").write_text(LEADERSHIP, "utf-8")
    assoc.association.issuer.add_achievement(folder / "leadership.toml")
    parts = [achievement_key("https://youth.lla.example", "storytime-early-literacy"),
             achievement_key("https://academic.lla.example", "cataloging-basics"),
             achievement_key("https://lssc.lla.example", "support-staff-foundations")]
    (folder / "leadership-pathway.toml").write_text(
        'id = "leadership"\nname = "Leadership"\nawards = "leadership-certificate"\n\n[requirements]\n'
        f"all = {json.dumps(parts)}\n", "utf-8")
    return add_association_pathway(assoc.association, folder / "leadership-pathway.toml")


def test_an_association_pathway_across_three_divisions_is_awarded_once_by_the_association(assoc, tmp_path):
    pathway = _leadership(assoc, tmp_path)
    association = assoc.association
    _issue(assoc.youth, "storytime-early-literacy", date(2026, 1, 10))
    _issue(assoc.academic, "cataloging-basics", date(2026, 2, 10))
    assert award_association_pathways(association, JANE) == []  # two of three divisions
    step = association_progress(association, JANE).pathways[0]
    assert (step.pathway, step.complete, len(step.done), len(step.left)) == (pathway.id, False, 2, 1)
    _issue(assoc.support, "support-staff-foundations", date(2026, 3, 10))
    issued = award_association_due(association)
    assert len(issued) == 1
    create_association_link(association, JANE)  # awards what is newly complete, and here nothing is
    assert len(association_view(association, find_member(association, JANE)).groups[0].entries) == 4
    award = json.loads(issued[0].record.credential)
    assert award["issuer"]["id"] == association.did
    assert award["credentialSubject"]["achievement"]["name"] == "Association Leadership Certificate"
    assert award["validFrom"].startswith("2026-03-10")  # the day the last division's course completed it
    evidence = {e["id"].split("/credentials/")[0] for e in award["evidence"]}
    assert evidence == {"https://youth.lla.example", "https://academic.lla.example", "https://lssc.lla.example"}
    assert award_association_due(association) == [] and award_association_pathways(association, JANE) == []
    assert association_progress(association, JANE).pathways[0].awarded


def test_a_typo_in_a_division_achievement_url_suggests_the_closest_url_not_achievement_add(assoc, tmp_path):
    folder = tmp_path / "typo"
    folder.mkdir()
    (folder / "leadership.toml").write_text(LEADERSHIP, "utf-8")
    assoc.association.issuer.add_achievement(folder / "leadership.toml")
    (folder / "p.toml").write_text('id = "p"\nname = "P"\nawards = "leadership-certificate"\n[requirements]\n'
                                   'all = ["https://youth.lla.example/achievements/storytime-erly-literacy"]\n',
                                   "utf-8")
    with pytest.raises(InputError) as caught:
        add_association_pathway(assoc.association, folder / "p.toml")
    assert caught.value.code == Code.PATHWAY_INVALID
    message = str(caught.value)
    assert "did you mean 'https://youth.lla.example/achievements/storytime-early-literacy'?" in message
    assert "achievement add" not in message and "achievement list" in message


def test_a_revoked_or_superseded_component_counts_toward_no_association_pathway(assoc, tmp_path):
    _leadership(assoc, tmp_path)
    _issue(assoc.youth, "storytime-early-literacy", date(2026, 1, 10))
    _issue(assoc.support, "support-staff-foundations", date(2026, 3, 10))
    revoked = _issue(assoc.academic, "cataloging-basics", date(2026, 2, 10))
    change_status(assoc.academic, revoked.id, "revoke", reason="issued in error")
    assert award_association_due(assoc.association) == []
    assert not association_progress(assoc.association, JANE).pathways[0].complete


def test_an_association_pathway_names_only_known_achievements_and_awards_its_own(assoc, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "p.toml").write_text('id = "p"\nname = "P"\nawards = "nothing-here"\n[requirements]\n'
                                   'all = ["https://youth.lla.example/achievements/storytime"]\n', "utf-8")
    with pytest.raises(InputError) as caught:
        add_association_pathway(assoc.association, folder / "p.toml")
    assert caught.value.code == Code.PATHWAY_INVALID
    reading_only = open_association(assoc.association.issuer.settings.database_url)
    try:
        with pytest.raises(ConfigError):
            award_association_due(reading_only)
    finally:
        reading_only.close()
