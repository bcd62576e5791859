"""Server time of one complete OID4VCI pre-authorized claim; print one JSON line.

    .venv/bin/python benchmarks/oid4vci_claim.py [N] [--format ldp_vc|jwt_vc_json] [--profile FILE.prof]

One claim is the three requests a wallet sends after scanning the offer:
``POST /oid4vci/token`` (pre-authorized code and transaction code),
``POST /oid4vci/nonce`` and ``POST /oid4vci/credential`` (proof of possession
checked, offer consumed, the wallet copy signed with eddsa-rdfc-2022 or as a
VC-JWT, self-checked and stored with its own status entry). They go through
the Flask app in process (no sockets), on a SQLite instance made before the
clock starts; the offers are made beforehand too (the learner page makes them),
and the wallet's proof JWT is signed outside the timed requests. Each claim's
server time is the sum of its three requests; reported as CPU time (this
process) and wall time, median and 95th percentile, with the machine's load.
Target (issue 20): one claim in 50 ms or less of server time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from claim_instance import BASE, awarded_instance, summary  # noqa: E402
from issuer.awarding import claims  # noqa: E402
from issuer.awarding.oid4vci import CONFIGURATIONS, PRE_AUTHORIZED_GRANT  # noqa: E402
from keys.ed25519 import KeyPair  # noqa: E402
from keys.multikey import b64url_encode  # noqa: E402


def proof(key: KeyPair, nonce: str) -> str:
    """The wallet's openid4vci-proof+jwt (signed by the benchmark, outside the timed requests)."""
    header = {"alg": "EdDSA", "typ": "openid4vci-proof+jwt", "kid": f"{key.did_key}#{key.did_key[8:]}"}
    claims_ = {"aud": BASE, "iat": int(time.time()), "nonce": nonce}
    signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(json.dumps(claims_).encode())}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode('ascii')))}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claims", nargs="?", type=int, default=200)
    parser.add_argument("--format", choices=sorted(set(CONFIGURATIONS.values())), default="ldp_vc")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the timed requests here")
    args = parser.parse_args()
    configuration = next(k for k, v in CONFIGURATIONS.items() if v == args.format)

    with tempfile.TemporaryDirectory(prefix="badgesmith-oid4vci-bench-") as folder:
        issuer, awards = awarded_instance(Path(folder), args.claims)
        offers = [claims.create_offer(issuer, award.record.id, protocol="oid4vci", tx_code=True) for award in awards]
        client = create_app({"HOME": None, "ISSUER": issuer, "RATE_LIMIT": "off",
                             "CLAIM_RATE_LIMIT": "off"}).test_client()
        wallet_key = KeyPair.generate()
        profiler = cProfile.Profile() if args.profile else None
        cpu_ms: list[float] = []
        wall_ms: list[float] = []

        def timed(request):  # one request's (response, cpu seconds, wall seconds)
            if profiler:
                profiler.enable()
            cpu, wall = time.process_time(), time.perf_counter()
            response = request()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if profiler:
                profiler.disable()
            return response, cpu, wall

        for offer in offers:
            token, c1, w1 = timed(lambda: client.post("/oid4vci/token", data={
                "grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.secret, "tx_code": offer.tx_code}))
            nonce, c2, w2 = timed(lambda: client.post("/oid4vci/nonce"))
            jwt = proof(wallet_key, nonce.get_json()["c_nonce"])
            answer, c3, w3 = timed(lambda: client.post(
                "/oid4vci/credential", json={"credential_configuration_id": configuration, "proofs": {"jwt": [jwt]}},
                headers={"Authorization": f"Bearer {token.get_json()['access_token']}"}))
            if answer.status_code != 200:
                raise SystemExit(f"claim failed: {answer.get_json()}")
            cpu_ms.append((c1 + c2 + c3) * 1000)
            wall_ms.append((w1 + w2 + w3) * 1000)
        if profiler:
            profiler.dump_stats(args.profile)
        issuer.close()

    print(json.dumps({"benchmark": "oid4vci_claim", "format": args.format, "claims": args.claims,
                      "server_cpu_ms_per_claim": summary(cpu_ms), "server_wall_ms_per_claim": summary(wall_ms),
                      "target_ms": 50, "load": [round(x, 2) for x in os.getloadavg()]}))


if __name__ == "__main__":
    main()
