"""Canonicalization rate for demo-shaped OB 3.0 credentials.

    .venv/bin/python benchmarks/canonicalize.py [N]

Each round canonicalizes a distinct credential and its proof options (what
signing or verifying one eddsa-rdfc-2022 credential costs in RDFC), after a
warm-up. Prints one JSON line; ``signs_per_s`` = rounds per second of wall
time, ``signs_per_cpu_s`` = rounds per second of this process's CPU time.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from keys.rdfc import canonicalize  # noqa: E402
from schemas.loader import offline_loader  # noqa: E402

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]


def demo_credential(i: int) -> dict:
    """A credential of the demo shape, distinct for each ``i``."""
    salt = hashlib.sha256(f"salt{i}".encode()).hexdigest()[:16]
    email = f"learner{i}@example.org"
    return {
        "@context": CONTEXT,
        "id": f"urn:uuid:1b3c6a52-0000-4000-8000-{i:012d}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Continuing Education: Cataloguing Basics #{i}",
        "issuer": {
            "id": "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
            "type": ["Profile"],
            "name": "Continuing Education Office",
            "url": "https://ce.example.org",
            "email": "ce@example.org",
        },
        "validFrom": "2026-03-01T09:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "hashed": True,
                "identityHash": "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest(),
                "identityType": "emailAddress",
                "salt": salt,
            }],
            "achievement": {
                "id": "https://ce.example.org/achievements/cataloguing-basics",
                "type": ["Achievement"],
                "name": "Cataloguing Basics",
                "description": "A six-hour course on descriptive cataloguing.",
                "criteria": {"narrative": "Attend all sessions and pass the final quiz."},
                "image": {"id": "https://ce.example.org/art/cataloguing.png", "type": "Image"},
                "achievementType": "Course",
                "creditsAvailable": 0.6,
            },
            "creditsEarned": 0.6,
        },
        "credentialStatus": {
            "id": f"https://ce.example.org/status/1#{(i * 7919) % 131072}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str((i * 7919) % 131072),
            "statusListCredential": "https://ce.example.org/status/1",
        },
        "credentialSchema": [{
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }],
        "evidence": [{
            "id": f"https://ce.example.org/evidence/{i}",
            "type": ["Evidence"],
            "name": "Final quiz",
            "description": "Passed with 92%.",
        }],
    }


def proof_options(i: int) -> dict:
    return {
        "@context": CONTEXT,
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": f"2026-03-01T09:00:{i % 60:02d}Z",
        "verificationMethod": "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
                              "#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
        "proofPurpose": "assertionMethod",
    }


def main(n: int = 2000, warmup: int = 50) -> None:
    loader = offline_loader()
    docs = [(demo_credential(i), proof_options(i)) for i in range(n + warmup)]
    for doc, opts in docs[:warmup]:
        canonicalize(doc, loader=loader)
        canonicalize(opts, loader=loader)
    start, cpu_start = time.perf_counter(), time.process_time()
    for doc, opts in docs[warmup:]:
        canonicalize(doc, loader=loader)
        canonicalize(opts, loader=loader)
    elapsed = time.perf_counter() - start
    # CPU time too: on a shared machine wall time also counts other processes.
    cpu = time.process_time() - cpu_start
    print(json.dumps({
        "canonicalize_per_s": round(2 * n / elapsed),
        "signs_per_s": round(n / elapsed),
        "signs_per_cpu_s": round(n / cpu),
        "n": n,
    }))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
