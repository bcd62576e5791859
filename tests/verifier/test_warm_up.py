"""warm_up() does before the first request what the first verification would otherwise do."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from pyld.jsonld import JsonLdProcessor

from keys.rdfc import canonicalize
from schemas.loader import OfflineLoader, offline_loader, pinned_contexts
from verifier.pipeline import warm_up

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "spec"


def _count_context_processing(monkeypatch) -> list[int]:
    calls = [0]
    original = JsonLdProcessor._process_context

    def counted(self, *args, **kwargs):
        calls[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(JsonLdProcessor, "_process_context", counted)
    return calls


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/spec is not beside the project")
def test_after_warm_up_a_common_credential_needs_no_context_processing(monkeypatch):
    loader = OfflineLoader(pinned_contexts())  # a fresh loader: nothing processed yet
    credential = json.loads((SHARED / "examples" / "ob-v3p0-impl-guide-vector" / "credential.json").read_text())
    calls = _count_context_processing(monkeypatch)
    warm_up(loader)
    assert calls[0] > 0
    calls[0] = 0
    expected = canonicalize(copy.deepcopy(credential), loader=loader)
    assert calls[0] == 0, "the first credential after warm_up() processed contexts again"
    assert expected == canonicalize(copy.deepcopy(credential), loader=offline_loader())


def test_warm_up_with_a_loader_that_lacks_the_ob_contexts_does_nothing_and_raises_nothing():
    warm_up(OfflineLoader({}))
