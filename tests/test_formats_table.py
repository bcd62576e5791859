"""The README's "Formats produced and accepted, proof by proof" table names every proof suite Badgesmith verifies."""

from pathlib import Path

from keys import data_integrity

README = Path(__file__).resolve().parents[1] / "README.md"


def _table() -> str:
    text = README.read_text("utf-8")
    start = text.index("### Formats produced and accepted, proof by proof")
    return text[start:text.index("\n## ", start)]


def test_every_verified_suite_and_format_is_in_the_readme_table():
    table = _table()
    suites = [getattr(data_integrity, name) for name in data_integrity.__all__
              if isinstance(getattr(data_integrity, name), data_integrity.Suite)]
    assert len(suites) >= 5
    for suite in suites:
        assert f"`{suite.cryptosuite or suite.proof_type}`" in table, suite
        assert f"`{suite.name}`" in table, suite
    for alg in ("EdDSA", "RS256", "ES256"):
        assert f"VC-JWT `{alg}`" in table
