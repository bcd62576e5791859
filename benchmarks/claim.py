"""Server time of one complete wallet claim through the VC-API exchange; print one JSON line.

    .venv/bin/python benchmarks/claim.py [N] [--suite ed25519-2020|eddsa-rdfc-2022] [--profile FILE.prof]

One claim is what the Learner Credential Wallet sends after opening the deep
link: ``POST /wallet/exchanges/<secret>`` with its DIDAuth presentation. The
server verifies the presentation (canonicalisation, signature, holder,
challenge), consumes the offer and issues the wallet copy: status entry
allocated, signed with eddsa-rdfc-2022, self-checked by the verifier and stored,
all in one transaction. Requests go through the Flask app in process (no
sockets) on a SQLite instance made before the clock starts; the offers are made
beforehand (the learner page makes them), and the presentations are signed
beforehand by Digital Bazaar's libraries in node (tests/interop/didauth.mjs),
as the wallet signs them. Reported: CPU time of this process and wall time per
claim, median and 95th percentile, with the machine's load. Target (issue 20):
one claim in 50 ms or less of server time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from claim_instance import awarded_instance, summary  # noqa: E402
from issuer.awarding import wallet_links  # noqa: E402

INTEROP = ROOT / "tests" / "interop"


def presentations(challenges: list[str], suite: str) -> list[dict]:
    """DIDAuth presentations over ``challenges``, signed in one node process (outside the timed requests)."""
    args = ["node", str(INTEROP / "didauth.mjs"), "07" * 32, "--suite", suite,
            "--vc", "1.1" if suite == "ed25519-2020" else "2.0"]
    for challenge in challenges:
        args += ["--challenge", challenge]
    done = subprocess.run(args, cwd=INTEROP, capture_output=True, text=True, timeout=600, check=True)
    lines = done.stdout.splitlines()
    return [json.loads(line) for line in lines] if len(challenges) > 1 else [json.loads(done.stdout)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claims", nargs="?", type=int, default=100)
    parser.add_argument("--suite", choices=("ed25519-2020", "eddsa-rdfc-2022"), default="ed25519-2020")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the timed requests here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="badgesmith-claim-bench-") as folder:
        issuer, awards = awarded_instance(Path(folder), args.claims)
        links = [wallet_links.wallet_links(issuer, award.record.id) for award in awards]
        signed = presentations([link.challenge for link in links], args.suite)
        client = create_app({"HOME": None, "ISSUER": issuer, "RATE_LIMIT": "off",
                             "CLAIM_RATE_LIMIT": "off"}).test_client()
        profiler = cProfile.Profile() if args.profile else None
        cpu_ms: list[float] = []
        wall_ms: list[float] = []
        for link, presentation in zip(links, signed):
            body = json.dumps(presentation)
            path = urlsplit(link.vc_request_url).path
            if profiler:
                profiler.enable()
            cpu, wall = time.process_time(), time.perf_counter()
            answer = client.post(path, data=body, content_type="application/json")
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if profiler:
                profiler.disable()
            if answer.status_code != 200:
                raise SystemExit(f"claim failed: {answer.get_json()}")
            cpu_ms.append(cpu * 1000)
            wall_ms.append(wall * 1000)
        if profiler:
            profiler.dump_stats(args.profile)
        issuer.close()

    print(json.dumps({"benchmark": "claim", "protocol": "vcapi", "suite": args.suite, "claims": args.claims,
                      "server_cpu_ms_per_claim": summary(cpu_ms), "server_wall_ms_per_claim": summary(wall_ms),
                      "target_ms": 50, "load": [round(x, 2) for x in os.getloadavg()]}))


if __name__ == "__main__":
    main()
