"""Verifications per second for DI JSON, VC-JWT and baked PNG; status from a local documents folder.

    .venv/bin/python benchmarks/verify.py [N]

Every verification is the full pipeline (read, context + safe mode, schema,
proof, validity, status list fetched from the documents folder, trust).
Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sign_verify import ISSUER_SEED, demo_credentials  # noqa: E402

from issuer.badge.art import render_badge_png  # noqa: E402
from issuer.badge.bake import bake_png  # noqa: E402
from issuer.badge.sign import sign_credential  # noqa: E402
from issuer.badge.status import build_status_list_credential, new_bitstring  # noqa: E402
from keys.ed25519 import KeyPair  # noqa: E402
from schemas.loader import offline_loader  # noqa: E402
from verifier.fetch import build_fetch  # noqa: E402
from verifier.pipeline import Verifier  # noqa: E402

LIST_URL = "https://badges.lakeshore.example/status/revocation/1"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    key = KeyPair.from_seed(ISSUER_SEED)
    loader = offline_loader()
    now = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    status = sign_credential(build_status_list_credential(LIST_URL, key.public_key.did_key, "revocation",
                                                          new_bitstring(), now), key, loader=loader, created=now)
    credentials = demo_credentials(n, key)
    art = render_badge_png("Storytime for Early Literacy", "Course", "1.5 CEUs", "Lakeshore Library Association")
    inputs = {
        "json_di": [json.dumps(sign_credential(c, key, loader=loader, created=now)).encode() for c in credentials],
        "jwt": [sign_credential(c, key, fmt="jwt", loader=loader, created=now).encode() for c in credentials],
    }
    inputs["png"] = [bake_png(art, data.decode()) for data in inputs["json_di"]]
    rates = {"n": n}
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "list.json").write_text(json.dumps(status))
        Path(folder, "index.json").write_text(json.dumps({LIST_URL: "list.json"}))
        verifier = Verifier(loader=loader, fetch=build_fetch(documents=Path(folder), offline=True), now=now)
        for name, items in inputs.items():
            for data in items[:20]:  # warm-up: contexts, the status list cache
                verifier.verify_bytes(data)
            start = time.perf_counter()
            verified = sum(verifier.verify_bytes(data).verified for data in items)
            elapsed = time.perf_counter() - start
            assert verified == n, f"{name}: only {verified} of {n} verified"
            rates[f"{name}_per_s"] = round(n / elapsed, 1)
    print(json.dumps(rates))


if __name__ == "__main__":
    main()
