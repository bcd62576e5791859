"""The import directions of DESIGN.md hold: cli/app → issuer → verifier → keys, schemas → errors."""

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


def _sources(package: str):
    if package == "errors":
        return [ROOT / "errors.py"]
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts
                  or p.name == "env.py")


def _imports(path: Path):
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


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
