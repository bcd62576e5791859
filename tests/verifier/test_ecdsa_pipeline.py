"""ECDSA credentials made by Digital Bazaar's libraries verify through the whole pipeline.

The fixtures in ``ecdsa_interop/`` were made by ``ecdsa_interop/sign-ecdsa.mjs`` (Digital Bazaar's
ecdsa-rdfc-2019 and ecdsa-sd-2023 cryptosuites, pinned in its package.json) from
``ecdsa_interop/unsigned.json`` with Badgesmith's pinned contexts; each names a fresh P-256 or
P-384 did:key issuer. When that folder has its ``node_modules`` (``npm ci`` there), the last test
makes new ones and checks them too.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.loader import offline_loader
from verifier.pipeline import verify_bytes

HERE = Path(__file__).resolve().parent / "ecdsa_interop"
ROOT = HERE.parents[2]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _no_fetch(url: str) -> bytes:
    raise AssertionError(f"nothing should be fetched, not {url}")


def _verify(credential: dict):
    return verify_bytes(json.dumps(credential).encode(), loader=offline_loader(), fetch=_no_fetch, now=NOW)


def _fixture(name: str) -> dict:
    return json.loads((HERE / name).read_text("utf-8"))


def _proof(report):
    return next(c for c in report.checks if c.check == "proof")


@pytest.mark.parametrize("name, fmt", [
    ("rdfc-2019-p256.json", "di-ecdsa-rdfc-2019"),
    ("rdfc-2019-p384.json", "di-ecdsa-rdfc-2019"),
    ("sd-2023-derived.json", "di-ecdsa-sd-2023"),
    ("sd-2023-derived-without-name.json", "di-ecdsa-sd-2023"),
])
def test_oracle_made_ecdsa_credential_verifies(name, fmt):
    report = _verify(_fixture(name))
    assert report.verified, report.failures()
    assert report.format == fmt
    assert _proof(report).code == "PROOF_OK"


def test_derived_sd_credential_shows_only_what_was_disclosed():
    hidden = _fixture("sd-2023-derived-without-name.json")
    assert "name" not in hidden and _verify(hidden).verified


@pytest.mark.parametrize("name", ["rdfc-2019-p256.json", "rdfc-2019-p384.json", "sd-2023-derived.json"])
@pytest.mark.parametrize("change", ["achievement name", "validFrom", "add a statement"])
def test_altered_ecdsa_credential_fails_the_proof(name, change):
    credential = copy.deepcopy(_fixture(name))
    if change == "achievement name":
        credential["credentialSubject"]["achievement"]["name"] = "Advanced Storytime"
    elif change == "validFrom":
        credential["validFrom"] = "2026-09-01T00:00:00Z"
    else:
        credential["credentialSubject"]["achievement"]["description"] = "Anything at all."
    report = _verify(credential)
    assert not report.verified
    assert _proof(report).code == "PROOF_INVALID"


def test_sd_derived_proof_with_a_disclosed_statement_removed_fails():
    credential = copy.deepcopy(_fixture("sd-2023-derived.json"))
    del credential["name"]  # a selectively disclosed statement dropped after deriving
    assert _proof(_verify(credential)).code == "PROOF_INVALID"


def test_sd_base_proof_is_refused_as_the_holders():
    report = _verify(_fixture("sd-2023-base.json"))
    assert not report.verified
    proof = _proof(report)
    assert proof.code == "PROOF_MALFORMED" and "base proof" in proof.message
    assert "specification" in proof.message and "Verify Derived Proof" in proof.message


def test_ecdsa_proof_claiming_another_issuer_is_not_the_issuers():
    credential = copy.deepcopy(_fixture("rdfc-2019-p256.json"))
    other = _fixture("rdfc-2019-p384.json")
    credential["proof"] = other["proof"]  # a valid signature by someone else, over something else
    assert not _verify(credential).verified


@pytest.mark.skipif(shutil.which("node") is None or not (HERE / "node_modules").is_dir(),
                    reason="node or ecdsa_interop/node_modules (npm ci there) is missing")
@pytest.mark.parametrize("args", [["rdfc", "P-256"], ["rdfc", "P-384"], ["sd", "P-256", "/name"]])
def test_freshly_made_oracle_credentials_verify(args, tmp_path):
    done = subprocess.run(["node", "sign-ecdsa.mjs", "unsigned.json", str(ROOT / "schemas" / "contexts"), *args],
                          cwd=HERE, capture_output=True, text=True, timeout=120, check=True)
    signed = json.loads(done.stdout)["signed"]
    assert _verify(signed).verified
