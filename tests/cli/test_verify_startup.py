"""`badgesmith verify` loads only the verifier: no issuer, web, database or schema-walking code.

A one-shot verification is process start to exit, so whatever it imports is
paid on every run (the speed itself is measured in benchmarks/cli_verify.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from keys import eddsa_rdfc_2022
from keys.ed25519 import KeyPair
from schemas.loader import offline_loader

ROOT = Path(__file__).resolve().parents[2]
NOT_NEEDED = ("issuer", "app", "flask", "werkzeug", "jinja2", "sqlalchemy", "alembic", "jsonschema",
              "referencing", "PIL", "qrcode", "fpdf", "rich",
              "requests", "urllib3", "aiohttp")  # pyld's network loaders: installed beside us, never used

PROBE = """
import json, sys
sys.argv = ["badgesmith", "verify", sys.argv[1], "--offline", "--json"]
import cli
try:
    cli.run()
except SystemExit as done:
    code = done.code
print(json.dumps({"exit": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}), file=sys.stderr)
"""


def _signed_credential() -> dict:
    key = KeyPair.from_seed(bytes(range(32)))
    did = key.public_key.did_key
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:5e0a4c3e-9d0b-4f7e-8a51-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Storytime",
        "issuer": {"id": did, "type": ["Profile"], "name": "Lakeshore Library Association"},
        "validFrom": "2026-03-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {"id": "https://badges.example.org/achievements/storytime", "type": ["Achievement"],
                            "name": "Storytime", "description": "A webinar.", "criteria": {"narrative": "Attend."},
                            "achievementType": "Course"},
        },
    }
    return eddsa_rdfc_2022.sign(credential, key, verification_method=f"{did}#{did.split(':')[-1]}",
                                loader=offline_loader(), created=datetime(2026, 3, 1, tzinfo=UTC))


def test_verify_imports_only_what_verifying_needs(tmp_path):
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(_signed_credential()))
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    result = json.loads(done.stderr.strip().splitlines()[-1])
    assert json.loads(done.stdout)["verified"] is True
    assert result["exit"] == 0
    loaded = sorted(set(NOT_NEEDED) & set(result["modules"]))
    assert not loaded, f"badgesmith verify imported {loaded}"


def test_pyld_keeps_no_network_loader_even_when_requests_is_installed():
    # requests is installed here (the test extra), so plain pyld would make it its default loader.
    probe = ("import sys, keys, pyld.jsonld as j\n"
             "try:\n    j._default_document_loader('https://www.w3.org/ns/credentials/v2', {})\n"
             "except j.JsonLdError as refused:\n    print('refused', 'requests' in sys.modules)\n"
             "import requests\nprint('importable', bool(requests.get))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["refused", "False", "importable", "True"], done.stderr
