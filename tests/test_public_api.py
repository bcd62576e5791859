"""Each package re-exports its public API with an explicit __all__ (as httpx does)."""

import importlib

import pytest


@pytest.mark.parametrize("package", ["keys", "schemas", "verifier", "issuer"])
def test_all_names_exist_and_are_public(package):
    module = importlib.import_module(package)
    assert module.__all__, f"{package} exports nothing"
    for name in module.__all__:
        assert not name.startswith("_")
        assert hasattr(module, name), f"{package}.__all__ names {name}, which is missing"
    assert sorted(module.__all__) == sorted(set(module.__all__))
