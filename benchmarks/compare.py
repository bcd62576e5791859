"""Our sign/verify beside Digital Bazaar's, in one process tree, alternating; prints the ratios.

    .venv/bin/python benchmarks/compare.py [N] [ROUNDS]

Three credential shapes, N distinct credentials each (default 300):

- ``common``: the demo's CEU award (the fast path);
- ``inline``: the same with an inline ``@context`` object defining two more
  terms, used on the subject (pyld, with the safe-mode and spelling checks);
- ``lang``: the same with language-tagged values (value objects with
  ``@language``) and a language map (pyld likewise).

Each round measures, shape by shape, this process (sign = add an
eddsa-rdfc-2022 proof; verify = the proof check alone), then plain pyld (the
same signature computed with ``jsonld.normalize``, no caches of ours), then
``node benchmarks/oracle_bench.mjs`` with the interop harness's Digital
Bazaar libraries and offline loader (``vc.issue`` / ``vc.verifyCredential``,
as the harness's bench.mjs). Ed25519 is deterministic, so every proofValue
must equal Digital Bazaar's for the same credential: the benchmark also
checks that both canonicalize every credential byte for byte alike.

Prints one line per measurement, then one JSON line with the medians over
ROUNDS (default 3) and the ratios ours / Digital Bazaar and ours / plain pyld
(the median of each round's ratio).
Needs node and the harness's node_modules (``cd tests/interop && npm ci``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from pyld import jsonld  # noqa: E402
from sign_verify import ISSUER_SEED, demo_credentials  # noqa: E402

from keys import eddsa_rdfc_2022  # noqa: E402
from keys.data_integrity import verify_proof  # noqa: E402
from keys.ed25519 import KeyPair  # noqa: E402
from keys.multikey import encode_multibase  # noqa: E402
from schemas.loader import offline_loader  # noqa: E402

CREATED = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
VOCAB = "https://badges.lakeshore.example/vocab#"
HARNESSES = (ROOT / "tests" / "interop", ROOT / ".oracle", ROOT.parent / "shared" / "oracle")


def _inline(credential: dict) -> dict:
    credential = copy.deepcopy(credential)
    credential["@context"] = [*credential["@context"],
                              {"cohort": VOCAB + "cohort", "mentor": {"@id": VOCAB + "mentor", "@type": "@id"}}]
    number = credential["id"].rsplit("-", 1)[1]
    credential["credentialSubject"]["cohort"] = f"Spring 2026, group {int(number) % 7}"
    credential["credentialSubject"]["mentor"] = f"https://badges.lakeshore.example/staff/{int(number) % 5}"
    return credential


def _lang(credential: dict) -> dict:
    credential = copy.deepcopy(credential)
    credential["@context"] = [*credential["@context"],
                              {"summary": {"@id": VOCAB + "summary", "@container": "@language"}}]
    credential["name"] = {"@value": credential["name"], "@language": "en"}
    achievement = credential["credentialSubject"]["achievement"]
    achievement["description"] = {"@value": achievement["description"], "@language": "en-CA"}
    credential["credentialSubject"]["summary"] = {"en": "Attended the webinar.", "fr": "A suivi le webinaire."}
    return credential


SHAPES = {"common": lambda c: c, "inline": _inline, "lang": _lang}


def _harness() -> Path:
    for folder in HARNESSES:
        if (folder / "node_modules" / "@digitalbazaar" / "vc").is_dir():
            return folder
    raise SystemExit("compare.py: the interop harness is not installed; run `cd tests/interop && npm ci`.")


def _ours(credentials: list[dict], key: KeyPair, method: str) -> dict:
    loader = offline_loader()
    for credential in credentials[:20]:  # warm-up, as the node side does
        signed = eddsa_rdfc_2022.sign(credential, key, verification_method=method, loader=loader, created=CREATED)
        verify_proof(signed, signed["proof"][0], key.public_key, loader=loader)
    start = time.perf_counter()
    signed = [eddsa_rdfc_2022.sign(c, key, verification_method=method, loader=loader, created=CREATED)
              for c in credentials]
    sign_s = time.perf_counter() - start
    start = time.perf_counter()
    ok = sum(verify_proof(s, s["proof"][0], key.public_key, loader=loader) for s in signed)
    verify_s = time.perf_counter() - start
    assert ok == len(credentials), "a benchmark credential failed to verify"
    return {"sign_per_s": len(credentials) / sign_s, "verify_per_s": len(credentials) / verify_s,
            "proof_values": [s["proof"][0]["proofValue"] for s in signed]}


def _plain_pyld(credentials: list[dict], key: KeyPair, method: str) -> dict:
    """The same signatures with pyld's normalize as it comes (what a plain pyld signer costs)."""
    loader = offline_loader()

    def normalize(document: dict) -> bytes:
        return jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                           "documentLoader": loader, "base": None}).encode()

    def sign(credential: dict) -> str:
        options = {"@context": credential["@context"], "type": "DataIntegrityProof",
                   "cryptosuite": "eddsa-rdfc-2022", "created": CREATED.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "verificationMethod": method, "proofPurpose": "assertionMethod"}
        data = hashlib.sha256(normalize(options)).digest() + hashlib.sha256(normalize(credential)).digest()
        return encode_multibase(key.sign(data))

    sign(credentials[0])
    sample = credentials[: max(len(credentials) // 3, 20)]  # pyld is slow: a third is enough for a rate
    start = time.perf_counter()
    values = [sign(c) for c in sample]
    return {"sign_per_s": len(sample) / (time.perf_counter() - start), "proof_values": values}


def _digital_bazaar(harness: Path, credentials: list[dict], seed: bytes) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(credentials, handle)
    try:
        done = subprocess.run(["node", str(ROOT / "benchmarks" / "oracle_bench.mjs"), str(harness), handle.name,
                               seed.hex(), CREATED.strftime("%Y-%m-%dT%H:%M:%SZ")],
                              capture_output=True, text=True, timeout=1800, check=False)
    finally:
        os.unlink(handle.name)
    if done.returncode != 0:
        raise SystemExit(f"compare.py: oracle_bench.mjs failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(n: int = 300, rounds: int = 3) -> None:
    harness = _harness()
    key = KeyPair.from_seed(ISSUER_SEED)
    multikey = key.public_key.to_multikey()
    method = f"did:key:{multikey}#{multikey}"
    base = demo_credentials(n, key)
    shapes = {name: [make(c) for c in base] for name, make in SHAPES.items()}
    load_before = os.getloadavg()
    runs: dict[str, dict[str, list[float]]] = {name: {} for name in shapes}
    for round_ in range(rounds):
        for name, credentials in shapes.items():
            ours = _ours(credentials, key, method)
            theirs = _digital_bazaar(harness, credentials, ISSUER_SEED)
            assert ours["proof_values"] == theirs["proof_values"], f"{name}: signatures differ from Digital Bazaar's"
            plain = _plain_pyld(credentials, key, method) if name != "common" or round_ == 0 else None
            if plain is not None:
                assert plain["proof_values"] == ours["proof_values"][:len(plain["proof_values"])], \
                    f"{name}: signatures differ from plain pyld's"
            row = {"ours_sign": ours["sign_per_s"], "ours_verify": ours["verify_per_s"],
                   "db_sign": theirs["sign_per_s"], "db_verify": theirs["verify_per_s"]}
            if plain is not None:
                row["pyld_sign"] = plain["sign_per_s"]
            for metric, value in row.items():
                runs[name].setdefault(metric, []).append(value)
            print(f"round {round_ + 1} {name:6}: " + ", ".join(f"{k} {v:.0f}/s" for k, v in row.items()),
                  file=sys.stderr)
    result: dict = {"n": n, "rounds": rounds, "harness": str(harness.relative_to(ROOT.parent)),
                    "node": theirs["node"], "cores": os.cpu_count(),
                    "load_1min": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
                    "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    for name, metrics in runs.items():
        # Rates: medians over the rounds. Ratios: the median of each round's own ratio, since the
        # two sides of a round ran moments apart (a shared machine's load changes between rounds).
        shape = {metric: round(statistics.median(values)) for metric, values in metrics.items()}
        for ours, theirs, label in (("ours_sign", "db_sign", "sign_vs_db"),
                                    ("ours_verify", "db_verify", "verify_vs_db"),
                                    ("ours_sign", "pyld_sign", "sign_vs_plain_pyld")):
            if theirs in metrics:
                pairs = list(zip(metrics[ours], metrics[theirs]))
                shape[label] = round(statistics.median(a / b for a, b in pairs), 2)
        result[name] = shape
    print(json.dumps(result))


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
