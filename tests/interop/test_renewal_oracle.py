"""A renewed certification (chained dates, evidence naming the previous one and the counted CEUs)
verifies in the Digital Bazaar oracle once its cycle has started, with its status list checked."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

from issuer.instance.folder import init_instance
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.records.renewals import renew
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from tests.issuer.series import make_repeatable

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_renewed_certification_verifies_in_the_oracle(oracle, tmp_path):
    home = tmp_path / "instance"
    settings = init_instance(home, name="Lakeshore Library Association", url="https://badges.lakeshore.example",
                             email="ce@lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(bytes(range(32))))
    issuer = Issuer.open(home, now=lambda: NOW)
    try:
        for name in ("certification.toml", "micro-credential.toml"):
            issuer.add_achievement(EXAMPLES / name)
        email = "jane@example.org"
        make_repeatable(issuer, "inclusive-teen-programming")  # one course, several sessions: CEUs add up
        previous = issuer.issue("certified-youth-services-librarian",
                                IssueRequest(email=email, name="Jane Doe", date=date(2024, 1, 22))).record
        for month in range(1, 9):  # 8 x 4 CEUs of youth-services micro-credentials
            issuer.issue("inclusive-teen-programming", IssueRequest(email=email, date=date(2024, 2 + month, 1)))
        renewed = renew(issuer, previous.id)
    finally:
        issuer.close()
    credential = json.loads(renewed.awarded.record.credential)
    assert credential["validFrom"] == "2027-01-22T00:00:00Z" and len(credential["evidence"]) == 9
    verdict = oracle.verify(renewed.awarded.files.png, now="2027-02-01T00:00:00Z",
                            status_dir=home / "out" / "status", require_status=True)
    assert verdict["verified"], verdict
