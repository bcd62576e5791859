"""cli: ``badgesmith claim-link ID [--json]`` prints wallet links for staff to hand over (issue 20)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[2]
COURSE = "storytime-early-literacy"
ERROR_LINE = re.compile(r"^error \[([A-Z][A-Z0-9_]+)\]: \S.*$")


@pytest.fixture
def run(tmp_path):
    home = tmp_path / "instance"

    def invoke(*args, code: int = 0):
        result = CliRunner().invoke(main, ["--debug", "--home", str(home), *map(str, args)], catch_exceptions=False)
        assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
        if code == 2:
            lines = result.stderr.splitlines()
            assert len(lines) == 1 and ERROR_LINE.match(lines[0]), result.stderr
        return result

    invoke("init", "--name", "Lakeshore Library Association", "--url", "https://badges.lakeshore.example")
    invoke("achievement", "add", ROOT / "templates" / "achievements" / "ceu-course.toml")
    issued = json.loads(invoke("issue", COURSE, "--email", "jane@example.org", "--name", "Jane Doe", "--json").stdout)
    invoke.credential = issued["id"] if "id" in issued else issued["credentials"][0]["id"]
    return invoke


def test_claim_link_json_has_the_lcw_deep_link_and_an_oid4vci_offer(run):
    links = json.loads(run("claim-link", run.credential, "--json").stdout)
    lcw = urlsplit(links["lcw"])
    assert (lcw.scheme, lcw.netloc, lcw.path) == ("https", "lcw.app", "/request.html")
    query = parse_qs(lcw.query)
    assert query["auth_type"] == ["bearer"] and query["challenge"] == [links["challenge"]]
    assert query["vc_request_url"] == [links["vc_request_url"]]
    assert links["dccrequest"] == "dccrequest://request?" + lcw.query
    assert links["interaction"] == links["vc_request_url"] + "?iuv=1"
    offer = json.loads(parse_qs(urlsplit(links["oid4vci"]).query)["credential_offer"][0])
    assert offer["credential_issuer"] == "https://badges.lakeshore.example"
    assert offer["credential_configuration_ids"] == ["OpenBadgeCredential_ldp_vc", "OpenBadgeCredential_jwt_vc_json"]
    grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    assert grant["pre-authorized_code"] and "tx_code" not in grant and links["tx_code"] is None


def test_claim_link_with_a_transaction_code_prints_it(run):
    text = run("claim-link", run.credential, "--tx-code").stdout
    assert "https://lcw.app/request.html?" in text and "dccrequest://request?" in text
    code = re.search(r"Transaction code \(PIN\) for the OID4VCI offer: (\d{6})", text).group(1)
    offer_link = re.search(r"OID4VCI offer:\s+(\S+)", text).group(1)
    grant = json.loads(parse_qs(urlsplit(offer_link).query)["credential_offer"][0])["grants"]
    assert grant["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["tx_code"]["length"] == 6
    assert code not in offer_link


def test_claim_page_prints_a_link_and_its_pin(run):
    page = json.loads(run("claim-link", run.credential, "--claim-page", "--json").stdout)
    assert page["url"].startswith("https://badges.lakeshore.example/wallet/claim/") and re.fullmatch(r"\d{6}", page["pin"])
    assert "USAGE" in run("claim-link", run.credential, "--claim-page", "--tx-code", code=2).stderr


def test_claim_link_for_an_unknown_or_revoked_credential_is_one_error_line(run):
    assert "CREDENTIAL_NOT_FOUND" in run("claim-link", "urn:uuid:00000000-0000-0000-0000-000000000000", code=2).stderr
    run("revoke", run.credential, "--reason", "issued in error")
    assert "AWARD_NOT_CLAIMABLE" in run("claim-link", run.credential, code=2).stderr


def test_claim_link_for_a_corrected_award_names_the_correction_to_offer_instead(run):
    out = run("reissue", run.credential, "--name", "Jane Q. Doe").stdout
    correction = out.split()[1]
    assert correction.startswith("urn:uuid:") and correction != run.credential
    error = run("claim-link", run.credential, code=2).stderr
    assert "AWARD_NOT_CLAIMABLE" in error and f"badgesmith claim-link {correction})" in error
    run("claim-link", correction)  # and the command it names works
