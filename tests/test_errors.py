"""One exception tree, one catalogue of stable codes: documented, and spelled only in errors.py."""

import ast
from pathlib import Path

import pytest

from errors import (AuthError, BadgesmithError, Code, Conflict, ConfigError, CredentialError, Forbidden,
                    InputError, InputTooLarge, NotFound, UpstreamError)

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["keys", "schemas", "verifier", "issuer"]
# Flask config keys that happen to share a code's spelling.
CONFIG_KEYS = {"OFFLINE"}


def test_every_code_is_its_own_name():
    assert all(code.value == code.name for code in Code)


def test_every_code_is_documented_in_the_readme_error_table():
    readme = (ROOT / "README.md").read_text("utf-8")
    missing = [code.value for code in Code if f"`{code.value}`" not in readme]
    assert not missing, f"codes missing from the README's error table: {missing}"


def _string_constants(path: Path):
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, node.lineno


def test_codes_are_spelled_only_in_errors_py():
    values = {code.value for code in Code}
    stray = []
    for source in [ROOT / "cli.py", ROOT / "app.py", *(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))]:
        if not source.exists():
            continue
        for value, line in _string_constants(source):
            if value in values and not (source.name == "app.py" and value in CONFIG_KEYS):
                stray.append(f"{source.relative_to(ROOT)}:{line} {value}")
    assert not stray, "use errors.Code instead of a string literal:\n" + "\n".join(stray)


@pytest.mark.parametrize("cls, status", [
    (InputError, 400), (InputTooLarge, 413), (CredentialError, 400), (NotFound, 404), (Conflict, 409),
    (AuthError, 401), (Forbidden, 403), (ConfigError, 500), (UpstreamError, 502),
])
def test_each_error_class_has_its_http_status(cls, status):
    error = cls(Code.USAGE, "A sentence.")
    assert isinstance(error, BadgesmithError)
    assert error.http_status == status


def test_errors_subclass_the_builtins_they_resemble():
    assert isinstance(InputError(Code.USAGE, "x"), ValueError)
    assert isinstance(NotFound(Code.NOT_FOUND, "x"), LookupError)


def test_to_dict_has_code_message_and_details_but_str_is_the_sentence():
    error = InputError(Code.ROSTER_INVALID, "The roster has 2 invalid rows.", lines=[3, 7])
    assert error.to_dict() == {"code": "ROSTER_INVALID", "message": "The roster has 2 invalid rows.",
                               "lines": [3, 7]}
    assert str(error) == "The roster has 2 invalid rows."


@pytest.mark.parametrize("cls", [InputError, InputTooLarge, CredentialError, NotFound, Conflict, AuthError,
                                 Forbidden, ConfigError, UpstreamError])
def test_errors_survive_pickling_across_processes_with_their_code_and_details(cls):
    # A roster's worker processes send errors back through pickle (issuer/awarding/awards.py).
    import pickle

    from verifier.fetch import DocumentNotListed

    error = cls(Code.ROSTER_INVALID, "The roster has 2 invalid rows.", lines=[3, 7])
    error.retry_after = 30  # attributes set after construction travel too
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is cls and back.code is Code.ROSTER_INVALID and str(back) == error.message
    assert back.to_dict() == error.to_dict() and back.retry_after == 30
    listed = pickle.loads(pickle.dumps(DocumentNotListed("https://x.example/a", "the folder")))
    assert isinstance(listed, DocumentNotListed) and listed.code is Code.FETCH_FAILED
