"""RDFC-1.0 "poison graphs" (the rdf-canon suite's negative tests): refused fast, never a hang.

Blank nodes that cannot be told apart (a clique, every node linked to every
other by the same predicate) force URDNA2015's N-degree search through
factorially many permutations. The work budget refuses them with
CANONICALIZATION_LIMIT; these tests measure the CPU that costs
(``time.process_time``, a generous bound for a shared machine), alone and
through the verifier, where the refusal is a failed check.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from cli import main
from errors import Code, CredentialError
from keys._rdfc_canon import canonize_quads
from keys.rdfc import DEFAULT_LIMITS, canonicalize
from schemas.loader import offline_loader
from verifier.fetch import Offline
from verifier.pipeline import Verifier
from verifier.report import FAILED

BOUND = 5.0  # seconds of CPU; refusals below take well under a second
VOCAB = "https://www.w3.org/ns/credentials/issuer-dependent#"


def _clique(size: int) -> dict:
    """JSON-LD for ``size`` blank nodes, each ``knows`` every other: all indistinguishable."""
    nodes = [{"@id": f"_:n{i}", "type": "VerifiableCredential",
              f"{VOCAB}knows": [{"@id": f"_:n{j}"} for j in range(size) if j != i]} for i in range(size)]
    return {"@context": "https://www.w3.org/ns/credentials/v2", "@graph": nodes}


def _refused_within_bound(call) -> float:
    start = time.process_time()
    with pytest.raises(CredentialError) as caught:
        call()
    spent = time.process_time() - start
    assert caught.value.code == Code.CANONICALIZATION_LIMIT, caught.value.message
    assert spent < BOUND, f"{spent:.2f} s of CPU"
    return spent


@pytest.mark.parametrize("size", [6, 10, 40, 150])
def test_canonicalize_a_clique_poison_graph_is_refused_quickly(size):
    # spelling=False: the graph itself, not the JSON's @graph spelling, is under test here.
    _refused_within_bound(lambda: canonicalize(_clique(size), loader=offline_loader(), spelling=False))


def test_a_small_clique_is_within_the_budget_and_canonicalizes():
    assert canonicalize(_clique(4), loader=offline_loader(), spelling=False).count("_:c14n") >= 4


def test_canonize_quads_literal_heavy_symmetric_graph_stays_fast():
    """Five indistinguishable nodes with 24,000 literals each (what fits in the 1 MB cap): took 2.8 s."""
    knows, tag = f"<{VOCAB}knows>", f"<{VOCAB}tag>"
    quads = [(f"_:n{i}", tag, f'"{v}"', None) for i in range(5) for v in range(24_000)]
    quads += [(f"_:n{i}", knows, f"_:n{j}", None) for i in range(5) for j in range(5) if i != j]
    start = time.process_time()
    canonize_quads(quads, max_blank_nodes=DEFAULT_LIMITS.max_blank_nodes, max_hash_work=DEFAULT_LIMITS.max_hash_work)
    assert time.process_time() - start < 1.0


def test_canonize_quads_a_wide_clique_is_refused_within_the_bound():
    """As many indistinguishable nodes as the blank-node limit allows, all linked: refused, not searched."""
    size = DEFAULT_LIMITS.max_blank_nodes
    knows = f"<{VOCAB}knows>"
    quads = [(f"_:n{i}", knows, f"_:n{(i + step) % size}", None) for i in range(size) for step in (1, 2, 3)]
    _refused_within_bound(lambda: canonize_quads(quads, max_blank_nodes=size,
                                                 max_hash_work=DEFAULT_LIMITS.max_hash_work))


def test_the_verifier_fails_a_poison_graph_credential_instead_of_hanging(tmp_path):
    document = {**_clique(40), "@context": ["https://www.w3.org/ns/credentials/v2",
                                            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]}
    start = time.process_time()
    report = Verifier(loader=offline_loader(), fetch=Offline(),
                      now=datetime(2026, 3, 1, tzinfo=UTC)).verify_bytes(json.dumps(document).encode())
    assert time.process_time() - start < BOUND
    assert not report.verified and report.check("context").outcome == FAILED
    path = tmp_path / "poison.json"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(main, ["verify", "--offline", "--json", str(path)])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["verified"] is False
