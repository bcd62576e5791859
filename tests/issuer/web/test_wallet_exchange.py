"""The VC-API exchange (issue 20), driven the way the Learner Credential Wallet drives it.

DIDAuth presentations are signed by Digital Bazaar's libraries in node
(``tests/interop/didauth.mjs``: ``createPresentation({holder})`` + ``signPresentation``
with Ed25519Signature2020 over a VC 1.1 presentation, as LCW does, or with
eddsa-rdfc-2022) and POSTed to the exchange URL of the LCW deep link through the
Flask test client, and once over a real loopback server. What comes back is checked
by ``badgesmith verify`` and by Digital Bazaar's verifier (the oracle).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from app import create_app
from errors import BadgesmithError
from cli import main
from issuer.awarding import claims, wallet_links
from issuer.awarding.issuing import IssueRequest
from issuer.awarding.status_changes import change_status, publish_status_lists
from keys.ed25519 import KeyPair

from ..conftest import COURSE, NOW

ROOT = Path(__file__).resolve().parents[3]
INTEROP = ROOT / "tests" / "interop"
SEED = "07" * 32
OTHER_SEED = "08" * 32
HOLDER = "did:key:" + KeyPair.from_seed(bytes.fromhex(SEED)).public_key.to_multikey()
OTHER = "did:key:" + KeyPair.from_seed(bytes.fromhex(OTHER_SEED)).public_key.to_multikey()

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module", autouse=True)
def _node_packages() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so no wallet can sign a DIDAuth presentation")
    if not (INTEROP / "node_modules" / ".package-lock.json").is_file():
        pytest.skip("the npm packages of tests/interop are not installed: make test runs npm ci there")


def didauth(challenge: str, *, seed: str = SEED, suite: str = "ed25519-2020", vc: str = "1.1",
            domain: str | None = None, holder: str | None = None) -> dict:
    """A DIDAuth presentation signed by Digital Bazaar's libraries (as LCW signs it)."""
    args = ["node", str(INTEROP / "didauth.mjs"), seed, "--challenge", challenge, "--suite", suite, "--vc", vc]
    if domain:
        args += ["--domain", domain]
    if holder:
        args += ["--holder", holder]
    done = subprocess.run(args, cwd=INTEROP, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def site(make_issuer):
    issuer = make_issuer()
    app = create_app({"TESTING": True, "HOME": str(issuer.settings.home), "ISSUER": issuer, "RATE_LIMIT": "off",
                      "CLAIM_RATE_LIMIT": "off", "NOW": lambda: NOW})
    award = issuer.issue(COURSE, IssueRequest(email="ana@lakeshore.example", name="Ana Reyes", credits=1.5),
                         suspension=True).record
    return app, issuer, award


def _deep_link(issuer, award_id):
    links = wallet_links.wallet_links(issuer, award_id)
    query = parse_qs(urlsplit(links.lcw).query)
    return links, query["challenge"][0], urlsplit(query["vc_request_url"][0]).path


def _post(app, path, body, **kwargs):
    return app.test_client().post(path, data=json.dumps(body), content_type="application/json", **kwargs)


def _error(response) -> str:
    return response.get_json()["error"]["code"]


def test_lcw_deep_link_names_the_exchange_and_challenge(site):
    app, issuer, award = site
    links, challenge, path = _deep_link(issuer, award.id)
    lcw, dcc = urlsplit(links.lcw), urlsplit(links.dccrequest)
    assert (lcw.scheme, lcw.netloc, lcw.path) == ("https", "lcw.app", "/request.html")
    assert links.dccrequest.startswith("dccrequest://request?")
    assert parse_qs(lcw.query) == parse_qs(dcc.query)
    query = parse_qs(lcw.query)
    assert query["auth_type"] == ["bearer"] and query["issuer"] == ["badges.lakeshore.example"]
    assert query["vc_request_url"][0].startswith("https://badges.lakeshore.example/wallet/exchanges/")
    assert challenge == links.challenge


@pytest.mark.parametrize("suite, vc", [("ed25519-2020", "1.1"), ("eddsa-rdfc-2022", "2.0"),
                                       ("eddsa-rdfc-2022", "1.1")])
def test_a_didauth_presentation_gets_a_copy_bound_to_its_holder(site, suite, vc, tmp_path, verify_file):
    app, issuer, award = site
    _, challenge, path = _deep_link(issuer, award.id)
    response = _post(app, path, didauth(challenge, suite=suite, vc=vc))
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    copy = response.get_json()
    assert copy["type"] == ["VerifiableCredential", "OpenBadgeCredential"]  # the credential itself, not wrapped
    assert copy["credentialSubject"]["id"] == HOLDER and copy["id"] != award.id
    publish_status_lists(issuer)
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(copy))
    assert verify_file(path, issuer).verified


def test_the_received_credential_verifies_in_the_oracle_and_in_badgesmith_verify(site, tmp_path):
    app, issuer, award = site
    _, challenge, path = _deep_link(issuer, award.id)
    copy = _post(app, path, didauth(challenge)).get_json()
    publish_status_lists(issuer)
    status = issuer.settings.out_dir / "status"
    file = tmp_path / "copy.json"
    file.write_text(json.dumps(copy))
    done = subprocess.run(["node", str(INTEROP / "verify.mjs"), str(file), "--status-dir", str(status),
                           "--require-status", "--now", NOW.isoformat()],
                          cwd=INTEROP, capture_output=True, text=True, timeout=120)
    verdict = json.loads(done.stdout.splitlines()[0])
    assert verdict["verified"], verdict
    result = CliRunner().invoke(main, ["verify", str(file), "--json", "--offline", "--documents", str(status),
                                       "--now", NOW.isoformat()], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["verified"] is True


def test_the_vc_api_form_wraps_presentation_and_answer(site):
    app, issuer, award = site
    _, challenge, path = _deep_link(issuer, award.id)
    response = _post(app, path, {"verifiablePresentation": didauth(challenge, suite="eddsa-rdfc-2022", vc="2.0")})
    assert response.status_code == 200, response.get_json()
    [copy] = response.get_json()["verifiablePresentation"]["verifiableCredential"]
    assert copy["credentialSubject"]["id"] == HOLDER


def test_the_interaction_url_names_the_exchange_and_its_first_answer_holds_the_credential(site):
    app, issuer, award = site
    links = wallet_links.wallet_links(issuer, award.id)
    interaction = urlsplit(links.interaction)
    assert parse_qs(interaction.query) == {"iuv": ["1"]}
    response = app.test_client().get(f"{interaction.path}?{interaction.query}")
    assert response.get_json() == {"protocols": {"vcapi": links.vc_request_url}}
    first = _post(app, urlsplit(links.vc_request_url).path, {})
    assert first.status_code == 200
    [copy] = first.get_json()["verifiablePresentation"]["verifiableCredential"]
    assert "id" not in copy["credentialSubject"]  # no holder proved a DID: the learner is named as in the award
    assert copy["credentialSubject"]["identifier"] == json.loads(award.credential)["credentialSubject"]["identifier"]
    assert _error(_post(app, urlsplit(links.vc_request_url).path, {})) == "OFFER_USED"


def test_a_wrong_challenge_is_refused_and_the_offer_kept(site):
    app, issuer, award = site
    _, challenge, path = _deep_link(issuer, award.id)
    response = _post(app, path, didauth("another-transaction"))
    assert (response.status_code, _error(response)) == (400, "CHALLENGE_MISMATCH")
    assert _post(app, path, didauth(challenge)).status_code == 200


def test_a_replayed_presentation_finds_the_offer_used(site):
    app, issuer, award = site
    _, challenge, path = _deep_link(issuer, award.id)
    presentation = didauth(challenge)
    assert _post(app, path, presentation).status_code == 200
    replay = _post(app, path, presentation)
    assert (replay.status_code, _error(replay)) == (409, "OFFER_USED")


def test_an_expired_offer_is_refused(site):
    app, issuer, award = site
    links = wallet_links.wallet_links(issuer, award.id, now=NOW - timedelta(minutes=11))
    path = urlsplit(links.vc_request_url).path
    response = _post(app, path, didauth(links.challenge))
    assert (response.status_code, _error(response)) == (409, "OFFER_EXPIRED")


def test_a_presentation_that_does_not_verify_is_refused(site):
    app, issuer, award = site
    _, challenge, path = _deep_link(issuer, award.id)
    tampered = didauth(challenge)
    tampered["holder"] = OTHER  # changed after signing; the key is still the signer's
    tampered["proof"]["verificationMethod"] = f"{OTHER}#{OTHER.split(':')[-1]}"
    response = _post(app, path, tampered)
    assert (response.status_code, _error(response)) == (400, "PROOF_INVALID")
    unsigned = didauth(challenge)
    del unsigned["proof"]
    assert _error(_post(app, path, unsigned)) == "PROOF_MISSING"
    assert claims.wallet_copies(issuer, award.id) == []


def test_a_presentation_by_a_key_other_than_the_holders_is_refused(site):
    app, issuer, award = site
    _, challenge, path = _deep_link(issuer, award.id)
    response = _post(app, path, didauth(challenge, seed=OTHER_SEED, holder=HOLDER))
    assert (response.status_code, _error(response)) == (400, "HOLDER_KEY_MISMATCH")
    message = response.get_json()["error"]["message"]
    assert message.startswith("The presentation was signed by ")
    assert f"signed by {OTHER}" in message and f"not by its holder {HOLDER}" in message
    assert claims.wallet_copies(issuer, award.id) == []
    assert _post(app, path, didauth(challenge)).status_code == 200  # the offer was kept for the right key


def test_a_domain_is_checked_when_present_and_never_required(site):
    app, issuer, award = site
    _, challenge, path = _deep_link(issuer, award.id)
    response = _post(app, path, didauth(challenge, domain="wallet.evil.example"))
    assert (response.status_code, _error(response)) == (400, "DOMAIN_MISMATCH")
    assert _post(app, path, didauth(challenge, domain="badges.lakeshore.example")).status_code == 200


@pytest.mark.parametrize("body, code", [
    ({"type": ["VerifiablePresentation"], "@context": ["https://www.w3.org/ns/credentials/v2"]}, "PRESENTATION_INVALID"),
    ({"something": "else"}, "PRESENTATION_INVALID"),
    ([1, 2], "JSON_NOT_OBJECT"),
])
def test_bodies_that_are_no_didauth_presentation_are_refused(site, body, code):
    app, issuer, award = site
    _, _, path = _deep_link(issuer, award.id)
    response = _post(app, path, body)
    assert (response.status_code, _error(response)) == (400, code)


def test_a_presentation_holding_credentials_is_refused(site):
    app, issuer, award = site
    _, challenge, path = _deep_link(issuer, award.id)
    presentation = didauth(challenge)
    presentation["verifiableCredential"] = [json.loads(award.credential)]
    assert _error(_post(app, path, presentation)) == "PRESENTATION_INVALID"


def test_unknown_and_oid4vci_secrets_are_offer_unknown(site):
    app, issuer, award = site
    oid4vci = claims.create_offer(issuer, award.id, protocol="oid4vci")
    for secret in ("A" * 43, oid4vci.secret):
        response = _post(app, f"{wallet_links.EXCHANGE_PATH}{secret}", {})
        assert (response.status_code, _error(response)) == (404, "OFFER_UNKNOWN")


def test_revoking_the_award_revokes_the_claimed_copy(site, tmp_path, verify_file):
    app, issuer, award = site
    _, challenge, path = _deep_link(issuer, award.id)
    copy = _post(app, path, didauth(challenge)).get_json()
    change_status(issuer, award.id, "revoke", reason="issued in error")
    file = tmp_path / "copy.json"
    file.write_text(json.dumps(copy))
    assert [c.code for c in verify_file(file, issuer).checks if c.check == "status"] == ["REVOKED"]
    with pytest.raises(BadgesmithError) as caught:
        wallet_links.wallet_links(issuer, award.id)
    assert caught.value.code.value == "AWARD_NOT_CLAIMABLE"


def test_wallet_requests_are_rate_limited_per_address(site):
    app, issuer, award = site
    app.config["CLAIM_RATE_LIMIT"] = "3/minute"
    app.extensions.pop("badgesmith.claim_limiter", None)
    links = wallet_links.wallet_links(issuer, award.id)
    path = urlsplit(links.vc_request_url).path
    client = app.test_client()
    codes = [client.get(path).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.post(path, data="{}", content_type="application/json")
    assert (limited.status_code, _error(limited)) == (429, "RATE_LIMITED") and limited.headers["Retry-After"]
    other = app.test_client().get(path, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 200


def test_the_exchange_over_a_loopback_server(site):
    """The deep link's exchange URL, POSTed by an HTTP client as a wallet would, on a real socket."""
    app, issuer, award = site
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _, challenge, path = _deep_link(issuer, award.id)
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}{path}", method="POST",
                                         data=json.dumps(didauth(challenge)).encode(),
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {challenge}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            copy = json.load(answer)
        assert copy["credentialSubject"]["id"] == HOLDER
    finally:
        server.shutdown()
        thread.join()
