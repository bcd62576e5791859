"""Sign and verify N distinct credentials of the demo shape in one process; print one JSON line.

    .venv/bin/python benchmarks/sign_verify.py [N]

Signing = build nothing, just add an eddsa-rdfc-2022 proof; verifying = the
proof check alone (canonicalize + hash + Ed25519 verify), as the issue's
target and Digital Bazaar's bench.mjs measure it.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from issuer.badge.credential import Award, Recipient, build_credential  # noqa: E402
from issuer.badge.recipient import identity_object  # noqa: E402
from keys import eddsa_rdfc_2022  # noqa: E402
from keys.data_integrity import verify_proof  # noqa: E402
from keys.ed25519 import KeyPair  # noqa: E402
from schemas.loader import offline_loader  # noqa: E402

ISSUER_SEED = bytes(range(32))


def demo_credentials(n: int, key: KeyPair) -> list[dict]:
    """N credentials shaped like the demo's CEU award, each with its own recipient and salt."""
    did = f"did:key:{key.public_key.to_multikey()}"
    issuer = {"id": did, "type": ["Profile"], "name": "Lakeshore Library Association",
              "url": "https://badges.lakeshore.example", "email": "ce@lakeshore.example"}
    achievement = {
        "id": "https://badges.lakeshore.example/achievements/storytime-early-literacy",
        "type": ["Achievement"], "name": "Storytime for Early Literacy",
        "description": "A 90-minute webinar on planning storytimes that build early literacy skills.",
        "criteria": {"narrative": "Attend the full webinar and complete the reflection exercise."},
        "image": {"id": "https://badges.lakeshore.example/achievements/storytime-early-literacy/image.png",
                  "type": "Image"},
        "achievementType": "Course", "creditsAvailable": 1.5, "fieldOfStudy": "Library Science",
    }
    now = datetime(2026, 11, 23, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        status = {"id": f"https://badges.lakeshore.example/status/revocation/1#{1000 + i}",
                  "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                  "statusListIndex": str(1000 + i),
                  "statusListCredential": "https://badges.lakeshore.example/status/revocation/1"}
        out.append(build_credential(
            issuer=issuer, achievement=achievement,
            recipient=Recipient(identity=identity_object(f"learner{i}@example.org", salt=f"salt{i:08d}")),
            award=Award(credits_earned=1.5, status=(status,),
                        evidence=({"id": f"https://lms.example/attendance/{i}", "type": ["Evidence"]},)),
            now=now, new_id=lambda i=i: f"urn:uuid:00000000-0000-4000-8000-{i:012d}"))
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    key = KeyPair.from_seed(ISSUER_SEED)
    loader = offline_loader()
    method = f"did:key:{key.public_key.to_multikey()}#{key.public_key.to_multikey()}"
    created = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    warm = demo_credentials(20, key)
    for c in warm:
        eddsa_rdfc_2022.sign(c, key, verification_method=method, loader=loader, created=created)
    credentials = demo_credentials(n, key)
    start, cpu = time.perf_counter(), time.process_time()
    signed = [eddsa_rdfc_2022.sign(c, key, verification_method=method, loader=loader, created=created)
              for c in credentials]
    sign_s, sign_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    ok = sum(verify_proof(s, s["proof"][0], key.public_key, loader=loader) for s in signed)
    verify_s, verify_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert ok == n, "a benchmark credential failed to verify"
    # CPU time per operation too: on a shared machine the wall-clock rates mostly measure the wait for a core.
    print(json.dumps({"sign_per_s": round(n / sign_s, 1), "verify_per_s": round(n / verify_s, 1), "n": n,
                      "sign_cpu_us": round(sign_cpu / n * 1e6, 1), "verify_cpu_us": round(verify_cpu / n * 1e6, 1)}))


if __name__ == "__main__":
    main()
