"""A Youth Services Certificate awarded by the pathway (three micro-credentials + 10 CEUs) verifies in the
Digital Bazaar oracle with its status list checked, and names its components and what it is made of."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

from issuer.awarding.awards import issue_single
from issuer.instance.folder import init_instance
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.awarding.pathways import add_pathway
from tests.issuer.series import make_repeatable
from keys.ed25519 import KeyPair
from keys.keystore import save_key

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
PATHWAYS = ROOT / "templates" / "pathways"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
COMPONENTS = [("storytime-early-literacy", date(2026, 9, 1)), ("storytime-early-literacy", date(2026, 10, 1)),
              ("inclusive-teen-programming", date(2026, 10, 5)), ("family-engagement", date(2026, 10, 6)),
              ("early-literacy-programming", date(2026, 11, 1))]


def test_pathway_award_verifies_in_the_oracle_and_names_its_components(oracle, tmp_path):
    home = tmp_path / "instance"
    settings = init_instance(home, name="Lakeshore Library Association", url="https://badges.lakeshore.example",
                             email="ce@lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(bytes(range(32))))
    issuer = Issuer.open(home, now=lambda: NOW)
    try:
        for toml in [EXAMPLES / "ceu-course.toml", EXAMPLES / "micro-credential.toml",
                     *sorted((PATHWAYS / "achievements").glob("*.toml"))]:
            issuer.add_achievement(toml)
        add_pathway(issuer, PATHWAYS / "youth-services.toml")
        make_repeatable(issuer, "storytime-early-literacy")  # two sessions of the course add up CEUs
        given = [issue_single(issuer, slug, IssueRequest(email="ana@example.org", name="Ana Lima", date=day))
                 for slug, day in COMPONENTS]
    finally:
        issuer.close()
    (award,) = given[-1].pathways
    credential = json.loads(award.record.credential)
    assert {e["name"] for e in credential["evidence"]} == {
        "Storytime for Early Literacy", "Inclusive Teen Programming", "Family Engagement in Libraries",
        "Early Literacy Programming"}
    assert len(credential["evidence"]) == 5
    achievement = credential["credentialSubject"]["achievement"]
    assert {a["targetCode"] for a in achievement["alignment"]} == {
        "inclusive-teen-programming", "early-literacy-programming", "family-engagement"}
    for path in (award.files.png, award.files.credential):
        verdict = oracle.verify(path, now=NOW.isoformat(), status_dir=home / "out" / "status", require_status=True)
        assert verdict["verified"], verdict
