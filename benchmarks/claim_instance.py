"""What the two wallet-claim benchmarks share: the awarded instance they claim from, and the summary.

Not a benchmark itself (``make bench`` runs the others): ``claim.py`` (VC-API exchange) and
``oid4vci_claim.py`` (OpenID4VCI) set up the same instance and report alike.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from issuer.awarding.issuing import IssueRequest, Issuer  # noqa: E402
from issuer.instance.folder import init_instance  # noqa: E402
from keys.ed25519 import KeyPair  # noqa: E402
from keys.keystore import save_key  # noqa: E402

BASE = "https://badges.lakeshore.example"
COURSE = ROOT / "templates" / "achievements" / "ceu-course.toml"
SLUG = "storytime-early-literacy"  # the id in ceu-course.toml


def awarded_instance(folder: Path, awards: int) -> tuple[Issuer, list]:
    """A fresh instance in ``folder`` with the 1.5-CEU course awarded to ``awards`` learners."""
    home = folder / "instance"
    settings = init_instance(home, name="Lakeshore Library Association", url=BASE, email="ce@lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(bytes(range(32))))
    issuer = Issuer.open(home)
    issuer.add_achievement(COURSE)
    return issuer, [issuer.issue(SLUG, IssueRequest(email=f"learner{i}@example.org", name=f"Learner {i}"))
                    for i in range(awards)]


def summary(values: list[float]) -> dict[str, float]:
    """Median and 95th percentile, in the unit of ``values``, rounded to 0.01."""
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 2),
            "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2)}
