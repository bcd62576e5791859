"""The import directions of DESIGN.md hold: cli/app → issuer → verifier → keys, schemas → errors;
and inside issuer/, its subpackages import one way: web → association → records → awarding → instance, store → badge."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"errors", "keys", "schemas", "verifier", "issuer", "cli", "app", "templates"}
ALLOWED = {
    "errors": set(),
    "keys": {"errors"},
    "schemas": {"errors"},
    "verifier": {"keys", "schemas", "errors"},
    "issuer": {"verifier", "keys", "schemas", "errors", "templates"},
}
FORBIDDEN_NAMES = {"utils.py", "helpers.py", "common.py"}
# issuer/'s subpackages, each with the ones it may import (issuer/__init__.py, the front door, may import any).
ISSUER_ALLOWED = {
    "badge": set(),
    "instance": {"badge"},
    "store": {"badge"},
    "awarding": {"badge", "instance", "store"},
    "records": {"badge", "instance", "store", "awarding"},
    "association": {"badge", "instance", "store", "awarding", "records"},
    "web": {"badge", "instance", "store", "awarding", "records", "association"},
}


def _sources(package: str):
    if package == "errors":
        return [ROOT / "errors.py"]
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts
                  or p.name == "env.py")


def _imported_modules(path: Path):
    """(dotted module, line) for every absolute import, ``from a.b import c`` also as ``a.b.c``."""
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def _imports(path: Path):
    for module, line in _imported_modules(path):
        yield module.split(".")[0], line


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_allowed_layers(package):
    bad = []
    for path in _sources(package):
        for name, line in _imports(path):
            if name in FIRST_PARTY and name != package and name not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not bad, "import direction broken:\n" + "\n".join(bad)


def test_no_grab_bag_module_names():
    offenders = [p for pkg in ALLOWED for p in _sources(pkg) if p.name in FORBIDDEN_NAMES]
    assert not offenders


def test_issuer_is_only_subpackages():
    """Every issuer module lives in a subpackage named for what it does; only the front door sits at the top."""
    loose = sorted(p.name for p in (ROOT / "issuer").glob("*.py") if p.name != "__init__.py")
    assert not loose
    assert {p.name for p in (ROOT / "issuer").iterdir() if (p / "__init__.py").exists()} == set(ISSUER_ALLOWED)


@pytest.mark.parametrize("subpackage", sorted(ISSUER_ALLOWED))
def test_issuer_subpackages_import_one_way(subpackage):
    bad = []
    for path in sorted((ROOT / "issuer" / subpackage).rglob("*.py")):
        for module, line in _imported_modules(path):
            parts = module.split(".")
            if parts[0] != "issuer" or len(parts) < 2 or parts[1] not in ISSUER_ALLOWED:
                continue  # not an issuer subpackage (``from issuer import X`` names a subpackage as issuer.X)
            if parts[1] != subpackage and parts[1] not in ISSUER_ALLOWED[subpackage]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports issuer.{parts[1]}")
    assert not bad, "issuer/ import direction broken:\n" + "\n".join(sorted(set(bad)))


def test_the_roster_walk_stays_in_awarding():
    """``badgesmith issue --roster`` to the files on disk: awarding/ (plus the store, and badge/ and instance/
    below it) — never records/ or web/ above it."""
    walk = ["awards", "roster", "issuing", "signing", "outputs", "status_changes", "pathways"]
    for name in walk:
        path = ROOT / "issuer" / "awarding" / f"{name}.py"
        reached = {m.split(".")[1] for m, _ in _imported_modules(path) if m.startswith("issuer.")}
        assert reached <= {"awarding", "store", "badge", "instance"}, (name, reached)


@pytest.mark.parametrize("module", ["clr", "endorsements", "presentation"])
def test_nested_checks_get_the_pipeline_passed_in(module):
    """A transcript's entries, endorsements and a presentation's credentials are checked by the pipeline
    that is handed to them, so they never import it (not even for type hints): no import cycle."""
    path = ROOT / "verifier" / f"{module}.py"
    assert not [m for m, _ in _imported_modules(path) if m.startswith("verifier.pipeline")]
