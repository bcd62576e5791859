"""Suspension and the one-status-object schemas (issue 17), tested with two independent status-list
libraries: Digital Bazaar's @digitalbazaar/vc-bitstring-status-list 2.0.1 and the Digital Credentials
Consortium's @digitalcredentials/vc-bitstring-status-list 1.0.0 (``dcc/status.mjs`` runs either one
as is, with no policy of ours laid over it; each verifies the list's own proof with its vendor's
Data Integrity code).

The decision (README, *Decisions*): a ``--suspendable`` credential keeps two entries, revocation and
suspension, and a transcript embedding one carries it unchanged and drops its CLR schema claim.
One ``statusPurpose: "message"`` entry with ``statusSize: 2`` would have fitted the schemas, but both
libraries read the single bit at ``statusListIndex`` whatever ``statusSize`` says: the second test
shows them calling a revoked credential clear and reading a neighbour's status as this one's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft201909Validator

from cli import main
from keys import eddsa_rdfc_2022
from keys.ed25519 import KeyPair
from schemas.loader import offline_loader
from verifier.fetch import build_fetch
from verifier.pipeline import verify_bytes
from verifier.status import encode_status_list

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLR_SCHEMA = ROOT.parent / "shared" / "spec" / "schemas" / "clr-v2p0" / "json-ld" / "clr_v2p0_clrcredential_schema.json"
COURSE_TOML = ROOT / "templates" / "achievements" / "ceu-course.toml"
COURSE = "storytime-early-literacy"
JANE = "jane.doe@example.org"

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def status_libraries():
    """``library -> [one result line per credential]`` for the DCC and Digital Bazaar status checks."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so the status-list libraries cannot run")
    for folder in (HERE, HERE / "dcc"):
        if not (folder / "node_modules" / ".package-lock.json").is_file():
            pytest.skip(f"npm packages missing in {folder}: make test runs npm ci there")

    def check(library: str, path: Path, status_dir: Path) -> list[dict]:
        done = subprocess.run(["node", str(HERE / "dcc" / "status.mjs"), str(path), "--status-dir", str(status_dir),
                               "--library", library], capture_output=True, text=True, timeout=120, cwd=HERE / "dcc")
        assert done.returncode == 0, done.stderr[-2000:]
        return [json.loads(line) for line in done.stdout.splitlines()]
    return check


def _run(home: Path, *args: str, code: int = 0):
    result = CliRunner().invoke(main, ["--debug", "--home", str(home), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _bits(results: list[dict]) -> dict[str, dict[str, bool]]:
    """{credential id: {purpose: bit set?}}, after checking the library read (and verified) every list."""
    for line in results:
        assert line["error"] is None and len(line["entries"]) >= 1, line
    return {line["id"]: {e["purpose"]: e["set"] for e in line["entries"]} for line in results}


def test_transcript_with_a_suspendable_credential_is_honest_and_both_libraries_follow_its_two_entries(
        tmp_path, oracle, status_libraries):
    home, status = tmp_path / "instance", tmp_path / "instance" / "out" / "status"
    _run(home, "init", "--name", "Lakeshore Library Association", "--url", "https://badges.lakeshore.example")
    _run(home, "achievement", "add", str(COURSE_TOML))
    suspendable = json.loads(_run(home, "issue", COURSE, "--email", JANE, "--name", "Jane Doe",
                                  "--suspendable", "--json").stdout)["id"]

    path = tmp_path / "transcript.json"
    made = _run(home, "transcript", "--email", JANE, "-o", str(path))
    assert "issued --suspendable" in made.stderr and suspendable in made.stderr
    assert json.loads(_run(home, "transcript", "--email", JANE, "-o", str(tmp_path / "t2.json"),
                           "--json").stdout)["outside_clr_schema"] == [suspendable]
    transcript = json.loads(path.read_text("utf-8"))
    [embedded] = transcript["credentialSubject"]["verifiableCredential"]
    assert [e["statusPurpose"] for e in embedded["credentialStatus"]] == ["revocation", "suspension"]
    # The claim is dropped because it would be false: the official CLR 2.0 schema refuses the array.
    assert "credentialSchema" not in transcript
    schema_errors = list(Draft201909Validator(json.loads(CLR_SCHEMA.read_text("utf-8"))).iter_errors(transcript))
    causes = [cause for error in schema_errors for cause in [error, *error.context]]  # inside its oneOf
    assert any(list(c.absolute_path)[-1:] == ["credentialStatus"] for c in causes), schema_errors
    transcript_without = {**transcript, "credentialSubject": {**transcript["credentialSubject"], "verifiableCredential": [
        {**embedded, "credentialStatus": embedded["credentialStatus"][0]}]}}
    assert not list(Draft201909Validator(json.loads(CLR_SCHEMA.read_text("utf-8"))).iter_errors(transcript_without))

    def ours():
        report = verify_bytes(path.read_bytes(), loader=offline_loader(),
                              fetch=build_fetch(documents=status, offline=True), now=datetime.now(timezone.utc))
        [(cid, inner)] = report.embedded
        assert cid == suspendable and report.verified == (inner.check("status").code == "STATUS_OK")
        return inner.check("status").code

    def both(expected: dict[str, bool]) -> None:
        for library in ("dcc", "db"):
            assert _bits(status_libraries(library, path, status)) == {suspendable: expected}, library

    assert oracle.verify(path)["verified"]  # the transcript's own proof, in Digital Bazaar's vc
    both({"revocation": False, "suspension": False})
    assert ours() == "STATUS_OK"
    _run(home, "suspend", suspendable, "--reason", "Under review")
    both({"revocation": False, "suspension": True})
    assert ours() == "SUSPENDED"
    _run(home, "reinstate", suspendable)
    both({"revocation": False, "suspension": False})
    assert ours() == "STATUS_OK"
    _run(home, "revoke", suspendable, "--reason", "Issued in error")
    both({"revocation": True, "suspension": False})
    assert ours() == "REVOKED"


def test_one_entry_with_status_size_2_is_misread_by_both_libraries(tmp_path, status_libraries):
    """Why suspendable credentials do not use one ``message`` entry of two bits (design (a) of issue 17)."""
    key = KeyPair.from_seed(bytes(range(32)))
    issuer, method = key.did_key, f"{key.did_key}#{key.did_key.removeprefix('did:key:')}"
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    list_url = "https://badges.lakeshore.example/status/messages"
    # Two-bit values, spec order: 0 active, 1 revoked, 2 suspended. Entry 3 (bits 6 and 7) is
    # ours and revoked; entry 2 (bits 4 and 5) is a neighbour's, revoked too.
    bits = bytearray(131072 * 2 // 8)
    bits[0] = 0b0000_0101
    status_list = eddsa_rdfc_2022.sign({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": issuer,
        "validFrom": "2026-12-01T00:00:00Z",
        "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList",
                              "statusPurpose": "message", "encodedList": encode_status_list(bytes(bits))},
    }, key, verification_method=method, loader=offline_loader(), created=now)
    messages = [{"status": "0x0", "message": "active"}, {"status": "0x1", "message": "revoked"},
                {"status": "0x2", "message": "suspended"}]

    def credential(index: int) -> dict:
        return eddsa_rdfc_2022.sign({
            "@context": ["https://www.w3.org/ns/credentials/v2"], "id": f"urn:uuid:00000000-0000-4000-8000-00000000000{index}",
            "type": ["VerifiableCredential"], "issuer": issuer, "validFrom": "2026-12-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:learner", "name": "Jane Doe"},
            "credentialStatus": {"id": f"{list_url}#{index}", "type": "BitstringStatusListEntry",
                                 "statusPurpose": "message", "statusSize": 2, "statusMessage": messages,
                                 "statusListIndex": str(index), "statusListCredential": list_url},
        }, key, verification_method=method, loader=offline_loader(), created=now)

    status = tmp_path / "status"
    status.mkdir()
    (status / "messages.json").write_text(json.dumps(status_list), "utf-8")
    (status / "index.json").write_text(json.dumps({list_url: "messages.json"}), "utf-8")
    revoked, active = tmp_path / "revoked.json", tmp_path / "active.json"
    revoked.write_text(json.dumps(credential(3)), "utf-8")  # value 1 (revoked) at bits 6-7
    active.write_text(json.dumps(credential(5)), "utf-8")  # value 0 (active) at bits 10-11
    for library in ("dcc", "db"):
        # Both read bit 3 (clear: "not revoked") and bit 5 (the neighbour's low bit: "set").
        [on_revoked] = status_libraries(library, revoked, status)
        [on_active] = status_libraries(library, active, status)
        assert [e["set"] for e in on_revoked["entries"]] == [False], (library, on_revoked)
        assert [e["set"] for e in on_active["entries"]] == [True], (library, on_active)
