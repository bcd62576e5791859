"""``badgesmith reissue ID [--date] [--credits] [--name] [--evidence]`` (issue 16)."""

from __future__ import annotations

from tests.cli.test_cli import COURSE, cli  # noqa: F401 (cli is a fixture)


def test_cli_reissue_prints_the_correction(cli):  # noqa: F811
    issued = cli.json("issue", COURSE, "--email", "bo@example.org", "--name", "Bo", "--date", "2026-10-01", "--json")
    out = cli("reissue", issued["id"], "--date", "2026-10-03").stdout
    assert "Re-issued: " in out and "(date: 2026-10-01 -> 2026-10-03)" in out
    assert f"{issued['id']} is revoked: superseded by " in out
    second = out.split()[1]
    data = cli.json("reissue", f"https://badges.lakeshore.example/credentials/{second.removeprefix('urn:uuid:')}",
                    "--name", "Bo Chen", "--json")  # the badge page URL works as the id does
    assert data["differences"] == ["name: Bo -> Bo Chen"] and data["supersedes"] == second
    assert cli("reissue", issued["id"], "--name", "B", code=2).stderr.startswith("error [STATUS_CHANGE_INVALID]")
