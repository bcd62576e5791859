"""OpenID for Verifiable Credential Issuance, driven by real wallet-side client libraries over loopback.

Two clients from npm (``tests/issuer/oid4vci_client/``) claim badges from the app served by a
threaded werkzeug server on 127.0.0.1: ``@openid4vc/openid4vci`` speaks 1.0 (nonce
endpoint, ``proofs``), ``@sphereon/oid4vci-client`` draft 15 (a single ``proof``).
The proof JWTs are signed in node with ``jose`` by keys made there. What the
clients receive is checked by Digital Bazaar's verifier (the oracle) and by
``badgesmith verify``; what went over the wire is recorded by the server.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from app import create_app
from cli import main
from issuer.awarding import claims
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.awarding.oid4vci import JWT_VC_JSON, LDP_VC, PRE_AUTHORIZED_GRANT, offer_links
from issuer.instance.folder import init_instance
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from keys.multikey import b64url_encode
from keys.vc_jwt import decode_jwt

HERE = Path(__file__).resolve().parent
CLIENT = HERE.parent / "oid4vci_client"
ROOT = HERE.parents[2]
INTEROP = ROOT / "tests" / "interop"
EXAMPLES = ROOT / "templates" / "achievements"
COURSE = "storytime-early-literacy"



@pytest.fixture(scope="module")
def node_packages() -> None:
    """Skip, saying why, when node or the clients' (and the oracle's) npm packages are missing."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so the wallet clients cannot run")
    for folder in (CLIENT, INTEROP):
        if not (folder / "node_modules" / ".package-lock.json").is_file():
            pytest.skip(f"the npm packages of {folder.name} are not installed: make test runs npm ci there")


@dataclass
class Site:
    """A live instance: its base URL, issuer, one award, and every request the server answered."""

    base: str
    issuer: Issuer
    award: str
    exchanges: list[dict[str, Any]] = field(default_factory=list)

    def offer(self, *, tx_code: bool = False, ttl: timedelta | None = None) -> claims.Offer:
        return claims.create_offer(self.issuer, self.award, protocol="oid4vci", tx_code=tx_code, ttl=ttl)

    def sent(self, path: str) -> list[dict[str, Any]]:
        return [e for e in self.exchanges if e["path"] == path]


def _recording(app: Any, exchanges: list[dict[str, Any]]) -> Any:
    """WSGI middleware that keeps each request's path and body and the response's status and body."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        status: list[str] = []

        def start(code: str, headers: list, exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info)

        chunks = b"".join(app(environ, start))
        exchanges.append({"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
                          "body": body.decode("utf-8", "replace"), "status": int(status[0].split()[0]),
                          "response": chunks.decode("utf-8", "replace")})
        return [chunks]

    return wsgi


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """An instance whose base URL is the loopback server it is served from, with one award to claim."""
    app_box: list[Any] = []
    server = make_server("127.0.0.1", 0, lambda environ, start: app_box[0](environ, start), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    home = tmp_path / "instance"
    settings = init_instance(home, name="Lakeshore Library Association", url=base, email="ce@lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(bytes(range(32))))
    issuer = Issuer.open(home)
    for example in sorted(EXAMPLES.glob("*.toml")):
        issuer.add_achievement(example)
    award = issuer.issue(COURSE, IssueRequest(email="jane@example.org", name="Jane Doe")).record.id
    exchanges: list[dict[str, Any]] = []
    app_box.append(_recording(create_app({"HOME": None, "ISSUER": issuer, "RATE_LIMIT": "off"}), exchanges))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(base, issuer, award, exchanges)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        issuer.close()


def needs_node(test: Any) -> Any:
    """Mark a test that runs the wallet clients (and the oracle) in node."""
    return pytest.mark.oracle(pytest.mark.usefixtures("node_packages")(test))


def wallet(offer_link: str, *, client: str, configuration: str = LDP_VC, tx_code: str | None = None,
           key: str = "ed25519", binding: str = "did", tamper: str | None = None,
           repeat: bool = False) -> dict[str, Any]:
    """Run one wallet (``tests/issuer/oid4vci_client/wallet.mjs``) against an offer link; its one-line JSON result."""
    options = {"client": client, "offer": offer_link, "txCode": tx_code, "configuration": configuration,
               "key": key, "binding": binding, "tamper": tamper, "repeat": repeat}
    done = subprocess.run(["node", "wallet.mjs", json.dumps(options)], cwd=CLIENT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def status_documents(site: Site, credential: dict[str, Any], folder: Path) -> Path:
    """The status lists ``credential`` names, fetched from the live server into a ``--documents`` folder."""
    folder.mkdir()
    entries = credential["credentialStatus"]
    index = {}
    for number, entry in enumerate(entries if isinstance(entries, list) else [entries]):
        url = entry["statusListCredential"]
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback, our own server)
            (folder / f"list{number}.json").write_bytes(response.read())
        index[url] = f"list{number}.json"
    (folder / "index.json").write_text(json.dumps(index), "utf-8")
    return folder


def badgesmith_verify(path: Path, documents: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["verify", str(path), "--json", "--offline", "--documents", str(documents)],
                                catch_exceptions=False)
    report = json.loads(result.output)
    assert (result.exit_code == 0) == report["verified"], result.output
    return report


def oracle_verify(path: Path, documents: Path) -> dict[str, Any]:
    done = subprocess.run(["node", str(INTEROP / "verify.mjs"), str(path), "--status-dir", str(documents),
                           "--require-status"], cwd=INTEROP, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def last_error(site: Site, path: str) -> dict[str, Any]:
    """The JSON error body of the last answer at ``path`` (the spec's error plus our code)."""
    answer = site.sent(path)[-1]
    assert answer["status"] >= 400, answer
    return {"status": answer["status"], **json.loads(answer["response"])}


# -- the whole flow, by two client libraries -------------------------------------------------

CLAIMS = [  # client, configuration, key, binding, offer by, transaction code
    ("openid4vc", LDP_VC, "ed25519", "did", "reference", True),
    ("openid4vc", JWT_VC_JSON, "p256", "jwk", "value", False),
    ("sphereon", LDP_VC, "p256", "did", "value", True),
    ("sphereon", JWT_VC_JSON, "ed25519", "jwk", "reference", False),
]


@needs_node
@pytest.mark.parametrize(("client", "configuration", "key", "binding", "by", "with_pin"), CLAIMS)
def test_a_wallet_library_claims_the_badge_bound_to_its_key_and_it_verifies(
        site, tmp_path, client, configuration, key, binding, by, with_pin):
    offer = site.offer(tx_code=with_pin)
    links = offer_links(site.base, offer.secret, tx_code=offer.tx_code)
    result = wallet(links.by_reference if by == "reference" else links.by_value, client=client,
                    configuration=configuration, tx_code=offer.tx_code, key=key, binding=binding)
    assert result["ok"], result
    [credential] = result["credentials"]

    # What went over the wire: 1.0's proofs array from one library, draft 15's single proof from the other.
    [request] = [json.loads(e["body"]) for e in site.sent("/oid4vci/credential")]
    assert request["credential_configuration_id"] == configuration
    if client == "openid4vc":
        assert "proof" not in request and len(request["proofs"]["jwt"]) == 1
        assert site.sent("/oid4vci/nonce"), "a 1.0 wallet takes its c_nonce from the nonce endpoint"
    else:
        assert "proofs" not in request and request["proof"]["proof_type"] == "jwt"
    proof_header = decode_jwt(request["proofs"]["jwt"][0] if "proofs" in request else request["proof"]["jwt"]).header
    assert proof_header["typ"] == "openid4vci-proof+jwt"
    assert ("jwk" in proof_header) == (binding == "jwk") and ("kid" in proof_header) == (binding == "did")
    if with_pin:
        [token_request] = site.sent("/oid4vci/token")
        assert f"tx_code={offer.tx_code}" in token_request["body"] or f"user_pin={offer.tx_code}" in token_request["body"]

    # Bound to the wallet's key: a jwk becomes the did:key of the same key.
    if configuration == JWT_VC_JSON:
        assert isinstance(credential, str)
        payload = decode_jwt(credential).payload
        subject, path = payload["credentialSubject"], tmp_path / "copy.jwt"
        path.write_text(credential, "ascii")
        assert payload["sub"] == result["holder"]
    else:
        subject, path = credential["credentialSubject"], tmp_path / "copy.json"
        path.write_text(json.dumps(credential), "utf-8")
        assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert subject["id"] == result["holder"] and result["holder"].startswith("did:key:z")
    assert subject["achievement"]["name"] == "Storytime for Early Literacy"

    documents = status_documents(site, json.loads(path.read_text()) if path.suffix == ".json"
                                 else decode_jwt(credential).payload, tmp_path / "documents")
    report = badgesmith_verify(path, documents)
    assert report["verified"], report["checks"]
    assert {c["check"]: c["outcome"] for c in report["checks"]}["status"] == "passed"
    if configuration == LDP_VC:
        verdict = oracle_verify(path, documents)
        assert verdict["verified"], verdict


# -- refusals, each with the specification's error ---------------------------------------------

@needs_node
def test_a_replayed_pre_authorized_code_is_an_invalid_grant(site):
    offer = site.offer()
    link = offer_links(site.base, offer.secret).by_value
    assert wallet(link, client="openid4vc")["ok"]
    again = wallet(link, client="openid4vc")
    assert not again["ok"]
    assert last_error(site, "/oid4vci/token") == {
        "status": 400, "error": "invalid_grant", "code": "OFFER_USED",
        "error_description": last_error(site, "/oid4vci/token")["error_description"]}
    assert len(claims.wallet_copies(site.issuer, site.award)) == 1


@needs_node
def test_a_second_credential_request_with_the_same_access_token_is_an_invalid_token(site):
    offer = site.offer()
    result = wallet(offer_links(site.base, offer.secret).by_value, client="openid4vc", repeat=True)
    assert not result["ok"]
    error = last_error(site, "/oid4vci/credential")
    assert (error["status"], error["error"], error["code"]) == (401, "invalid_token", "OFFER_USED")
    assert len(claims.wallet_copies(site.issuer, site.award)) == 1


@needs_node
def test_an_expired_offer_is_refused_by_reference_and_at_the_token_endpoint(site):
    offer = site.offer(ttl=timedelta(seconds=1))
    link = offer_links(site.base, offer.secret).by_value
    time.sleep(1.2)
    assert not wallet(offer_links(site.base, offer.secret).by_reference, client="openid4vc")["ok"]
    assert last_error(site, f"/oid4vci/offers/{offer.secret}")["code"] == "OFFER_EXPIRED"
    assert not wallet(link, client="sphereon")["ok"]
    error = last_error(site, "/oid4vci/token")
    assert (error["error"], error["code"]) == ("invalid_grant", "OFFER_EXPIRED")


@needs_node
@pytest.mark.parametrize("client", ["openid4vc", "sphereon"])
def test_a_missing_transaction_code_is_an_invalid_request_and_a_wrong_one_an_invalid_grant(site, client):
    offer = site.offer(tx_code=True)
    link = offer_links(site.base, offer.secret, tx_code=offer.tx_code).by_value
    # Both libraries refuse, before sending anything, an offer that asks for a code they were not given;
    # a link that does not announce the code (or a wallet that ignores it) reaches the server without it.
    assert not wallet(offer_links(site.base, offer.secret).by_value, client=client, tx_code=None)["ok"]
    error = last_error(site, "/oid4vci/token")
    assert (error["error"], error["code"]) == ("invalid_request", "TX_CODE_REQUIRED")
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    assert not wallet(link, client=client, tx_code=wrong)["ok"]
    error = last_error(site, "/oid4vci/token")
    assert (error["error"], error["code"]) == ("invalid_grant", "TX_CODE_WRONG")
    assert wallet(link, client=client, tx_code=offer.tx_code)["ok"]  # the offer is still open for its holder


@needs_node
@pytest.mark.parametrize(("tamper", "binding", "error", "code"), [
    ("other-key", "did", "invalid_proof", "PROOF_INVALID"),
    ("other-key", "jwk", "invalid_proof", "PROOF_INVALID"),
    ("wrong-nonce", "did", "invalid_nonce", "NONCE_INVALID"),
    ("old-iat", "did", "invalid_proof", "WALLET_PROOF_INVALID"),
    ("wrong-aud", "jwk", "invalid_proof", "WALLET_PROOF_INVALID"),
])
@pytest.mark.parametrize("client", ["openid4vc", "sphereon"])
def test_a_bad_proof_of_possession_is_refused_and_the_offer_stays_open(site, client, tamper, binding, error, code):
    offer = site.offer()
    link = offer_links(site.base, offer.secret).by_value
    result = wallet(link, client=client, tamper=tamper, binding=binding)
    assert not result["ok"]
    answer = last_error(site, "/oid4vci/credential")
    assert (answer["status"], answer["error"], answer["code"]) == (400, error, code)
    assert claims.wallet_copies(site.issuer, site.award) == []
    assert claims.open_offer(site.issuer, offer.secret).id == offer.id  # not consumed by a refused proof


# -- metadata and the endpoints' edges (the Flask test client on the same app) ----------------

@pytest.fixture
def client(site):
    return create_app({"HOME": None, "ISSUER": site.issuer, "RATE_LIMIT": "off"}).test_client()


def test_metadata_names_both_configurations_the_binding_methods_and_the_brand(site, client):
    metadata = client.get("/.well-known/openid-credential-issuer").get_json()
    assert metadata["credential_issuer"] == site.base
    assert metadata["nonce_endpoint"] == site.base + "/oid4vci/nonce"
    ldp, jwt = (metadata["credential_configurations_supported"][c] for c in (LDP_VC, JWT_VC_JSON))
    assert (ldp["format"], jwt["format"]) == ("ldp_vc", "jwt_vc_json")
    assert ldp["credential_definition"]["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert "https://www.w3.org/ns/credentials/v2" in ldp["credential_definition"]["@context"]
    assert ldp["credential_signing_alg_values_supported"] == ["eddsa-rdfc-2022"]
    assert set(ldp["cryptographic_binding_methods_supported"]) >= {"did:key", "jwk"}
    assert ldp["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["EdDSA", "ES256"]
    assert metadata["display"][0]["name"] == "Lakeshore Library Association"
    server = client.get("/.well-known/oauth-authorization-server").get_json()
    assert server["token_endpoint"] == site.base + "/oid4vci/token"
    assert PRE_AUTHORIZED_GRANT in server["grant_types_supported"]


def test_the_offer_qr_code_is_a_png_of_the_by_reference_link(site, client):
    offer = site.offer()
    answer = client.get(f"/oid4vci/offers/{offer.secret}/qr.png")
    assert answer.status_code == 200 and answer.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert answer.headers["Cache-Control"] == "no-store"
    assert client.get("/oid4vci/offers/not-an-offer-secret-at-all-000000/qr.png").status_code == 404


@pytest.mark.parametrize(("form", "error", "code"), [
    ({"grant_type": "client_credentials"}, "unsupported_grant_type", "USAGE"),
    ({"grant_type": PRE_AUTHORIZED_GRANT}, "invalid_request", "USAGE"),
    ({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": "x" * 43}, "invalid_grant", "OFFER_UNKNOWN"),
])
def test_token_requests_that_cannot_be_granted(client, form, error, code):
    answer = client.post("/oid4vci/token", data=form)
    assert answer.status_code == 400
    assert (answer.get_json()["error"], answer.get_json()["code"]) == (error, code)


def test_a_transaction_code_for_an_offer_without_one_is_an_invalid_request(site, client):
    offer = site.offer()
    answer = client.post("/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT,
                                                 "pre-authorized_code": offer.secret, "tx_code": "123456"})
    assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_request")
    answer = client.post("/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT,
                                                 "pre-authorized_code": offer.secret, "tx_code": ""})
    assert answer.status_code == 200, "an empty transaction code is none"


def test_draft_11_user_pin_is_read_as_the_transaction_code(site, client):
    offer = site.offer(tx_code=True)
    answer = client.post("/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT,
                                                 "pre-authorized_code": offer.secret, "user_pin": offer.tx_code})
    assert answer.status_code == 200 and answer.get_json()["token_type"] == "Bearer"


def _token(client, site) -> str:
    offer = site.offer()
    answer = client.post("/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT,
                                                 "pre-authorized_code": offer.secret})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["access_token"]


@pytest.mark.parametrize(("headers", "code"), [
    ({}, "UNAUTHORIZED"),
    ({"Authorization": "Bearer bsv1.AAAA"}, "UNAUTHORIZED"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "UNAUTHORIZED"),
])
def test_a_credential_request_without_a_valid_access_token_is_an_invalid_token(client, headers, code):
    answer = client.post("/oid4vci/credential", json={"credential_configuration_id": LDP_VC}, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert (answer.get_json()["error"], answer.get_json()["code"]) == ("invalid_token", code)


def _proof(key: KeyPair, **claims_and_header: Any) -> str:
    header = {"alg": "EdDSA", "typ": "openid4vci-proof+jwt", "kid": key.did_key + "#" + key.did_key[8:],
              **claims_and_header.pop("header", {})}
    signing_input = (b64url_encode(json.dumps(header).encode()) + "." +
                     b64url_encode(json.dumps(claims_and_header).encode()))
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))


@pytest.mark.parametrize(("body", "error", "code"), [
    ({"credential_configuration_id": "UniversityDegree_mso_mdoc"}, "unknown_credential_configuration",
     "CREDENTIAL_CONFIGURATION_UNKNOWN"),
    ({"format": "mso_mdoc"}, "unsupported_credential_format", "CREDENTIAL_CONFIGURATION_UNKNOWN"),
    ({"credential_configuration_id": [LDP_VC]}, "unknown_credential_configuration", "CREDENTIAL_CONFIGURATION_UNKNOWN"),
    ({"format": "ldp_vc", "credential_definition": {"type": "VerifiableCredential"}}, "unsupported_credential_format",
     "CREDENTIAL_CONFIGURATION_UNKNOWN"),
    ({"credential_identifier": "badge-1"}, "unknown_credential_identifier", "CREDENTIAL_CONFIGURATION_UNKNOWN"),
    ({"credential_configuration_id": LDP_VC}, "invalid_proof", "WALLET_PROOF_INVALID"),
    ({"credential_configuration_id": LDP_VC, "proofs": {"jwt": []}}, "invalid_proof", "WALLET_PROOF_INVALID"),
    ({"credential_configuration_id": LDP_VC, "proofs": {"ldp_vp": [{}]}}, "invalid_proof", "WALLET_PROOF_INVALID"),
    ({"credential_configuration_id": LDP_VC, "proof": {"proof_type": "jwt", "jwt": "a.b.c"},
      "proofs": {"jwt": ["a.b.c"]}}, "invalid_credential_request", "WALLET_PROOF_INVALID"),
    ({"credential_configuration_id": LDP_VC, "proofs": {"jwt": ["not a jwt"]}}, "invalid_proof", "JWT_MALFORMED"),
    ({"credential_configuration_id": LDP_VC, "proofs": {"jwt": [42]}}, "invalid_proof", "WALLET_PROOF_INVALID"),
])
def test_malformed_credential_requests_get_the_spec_error_and_never_a_500(site, client, body, error, code):
    answer = client.post("/oid4vci/credential", json=body, headers={"Authorization": "Bearer " + _token(client, site)})
    assert answer.status_code == 400, answer.get_json()
    assert (answer.get_json()["error"], answer.get_json()["code"]) == (error, code)


@pytest.mark.parametrize(("header", "claims_", "code"), [
    ({"typ": "JWT"}, {}, "WALLET_PROOF_INVALID"),
    ({"alg": "HS256"}, {}, "JWT_ALG_REFUSED"),
    ({"alg": "none"}, {}, "JWT_ALG_REFUSED"),
    ({"kid": "did:web:wallet.example#key-1"}, {}, "WALLET_PROOF_INVALID"),
    ({"x5c": ["MIIB"]}, {}, "WALLET_PROOF_INVALID"),
    ({}, {"iat": None}, "WALLET_PROOF_INVALID"),
    ({}, {"iat": "now"}, "WALLET_PROOF_INVALID"),
    ({}, {"aud": None}, "WALLET_PROOF_INVALID"),
    ({}, {"nonce": None}, "NONCE_INVALID"),
])
def test_each_rule_of_the_proof_jwt_is_checked(site, client, header, claims_, code):
    token = _token(client, site)
    nonce = client.post("/oid4vci/nonce").get_json()["c_nonce"]
    values = {"aud": site.base, "iat": int(time.time()), "nonce": nonce, **claims_}
    values = {k: v for k, v in values.items() if v is not None}
    jwt = _proof(KeyPair.generate(), header=header, **values)
    answer = client.post("/oid4vci/credential", json={"credential_configuration_id": LDP_VC, "proofs": {"jwt": [jwt]}},
                         headers={"Authorization": "Bearer " + token})
    assert answer.status_code == 400
    assert answer.get_json()["code"] == code
    assert answer.get_json()["error"] == ("invalid_nonce" if code == "NONCE_INVALID" else "invalid_proof")


def test_a_nonce_is_spent_once_and_a_proof_a_little_in_the_future_is_accepted(site, client):
    key = KeyPair.generate()
    nonce = client.post("/oid4vci/nonce").get_json()["c_nonce"]
    first = _proof(key, aud=site.base, iat=int(time.time()) + 30, nonce=nonce)
    answer = client.post("/oid4vci/credential", json={"credential_configuration_id": LDP_VC, "proofs": {"jwt": [first]}},
                         headers={"Authorization": "Bearer " + _token(client, site)})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["credentials"][0]["credential"]["credentialSubject"]["id"] == key.did_key
    second = _proof(key, aud=site.base, iat=int(time.time()), nonce=nonce)
    answer = client.post("/oid4vci/credential", json={"credential_configuration_id": LDP_VC, "proofs": {"jwt": [second]}},
                         headers={"Authorization": "Bearer " + _token(client, site)})
    assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_nonce")


def test_request_bodies_are_capped(site, client):
    answer = client.post("/oid4vci/credential", data=b"{" + b" " * (70 * 1024) + b"}",
                         content_type="application/json", headers={"Authorization": "Bearer " + _token(client, site)})
    assert answer.status_code == 413 and answer.get_json()["code"] == "INPUT_TOO_LARGE"
    answer = client.post("/oid4vci/token", data="grant_type=" + "x" * (70 * 1024),
                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 413 and answer.get_json()["error"] == "invalid_request"


def test_an_access_token_dies_with_its_time_and_never_outlives_its_offer(site):
    from datetime import UTC, datetime

    offer = site.offer(ttl=timedelta(minutes=3))
    client = create_app({"HOME": None, "ISSUER": site.issuer, "RATE_LIMIT": "off"}).test_client()
    answer = client.post("/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT,
                                                 "pre-authorized_code": offer.secret})
    assert 170 <= answer.get_json()["expires_in"] <= 180  # the offer's three minutes, not the token's ten
    token = answer.get_json()["access_token"]
    later = datetime.now(UTC) + timedelta(minutes=4)
    late = create_app({"HOME": None, "ISSUER": site.issuer, "RATE_LIMIT": "off", "NOW": lambda: later}).test_client()
    answer = late.post("/oid4vci/credential", json={"credential_configuration_id": LDP_VC},
                       headers={"Authorization": "Bearer " + token})
    assert answer.status_code == 401
    assert (answer.get_json()["error"], answer.get_json()["code"]) == ("invalid_token", "TOKEN_EXPIRED")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    answer = client.post("/oid4vci/credential", json={"credential_configuration_id": LDP_VC},
                         headers={"Authorization": "Bearer " + tampered})
    assert (answer.status_code, answer.get_json()["code"]) == (401, "UNAUTHORIZED")


def test_a_nonce_spent_through_one_worker_is_refused_by_another(site):
    """Two apps (two workers) over one database: a nonce spent through one is refused by the other."""
    first = create_app({"HOME": None, "ISSUER": site.issuer, "RATE_LIMIT": "off"}).test_client()
    second = create_app({"HOME": None, "ISSUER": site.issuer, "RATE_LIMIT": "off"}).test_client()
    key = KeyPair.generate()
    nonce = first.post("/oid4vci/nonce").get_json()["c_nonce"]
    jwt = _proof(key, aud=site.base, iat=int(time.time()), nonce=nonce)
    body = {"credential_configuration_id": JWT_VC_JSON, "proofs": {"jwt": [jwt]}}
    assert first.post("/oid4vci/credential", json=body,
                      headers={"Authorization": "Bearer " + _token(first, site)}).status_code == 200
    answer = second.post("/oid4vci/credential", json=body, headers={"Authorization": "Bearer " + _token(second, site)})
    assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_nonce")


def test_a_wrong_method_or_an_unreadable_body_is_still_json(site, client):
    answer = client.get("/oid4vci/token", headers={"Accept": "text/html"})
    assert answer.status_code == 405 and answer.get_json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    for body in (b"[]", b"\xff\xfe", b'{"a":' * 300 + b"1" + b"}" * 300):
        answer = client.post("/oid4vci/credential", data=body, content_type="application/json",
                             headers={"Authorization": "Bearer " + _token(client, site)})
        assert answer.status_code in (400, 413) and answer.get_json()["error"] == "invalid_credential_request"


def test_the_wallet_endpoints_share_the_claim_rate_limit(site):
    limited = create_app({"HOME": None, "ISSUER": site.issuer, "RATE_LIMIT": "off",
                          "CLAIM_RATE_LIMIT": "3/minute"}).test_client()
    assert [limited.post("/oid4vci/nonce").status_code for _ in range(3)] == [200, 200, 200]
    answer = limited.post("/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT,
                                                  "pre-authorized_code": site.offer().secret})
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    assert (answer.get_json()["error"], answer.get_json()["code"]) == ("slow_down", "RATE_LIMITED")


def test_an_award_revoked_after_the_token_was_granted_is_a_denied_request(site, client):
    token = _token(client, site)
    site.issuer.set_status(site.award, "revoke", reason="issued in error")
    nonce = client.post("/oid4vci/nonce").get_json()["c_nonce"]
    jwt = _proof(KeyPair.generate(), aud=site.base, iat=int(time.time()), nonce=nonce)
    answer = client.post("/oid4vci/credential", json={"credential_configuration_id": LDP_VC, "proofs": {"jwt": [jwt]}},
                         headers={"Authorization": "Bearer " + token})
    assert answer.status_code == 400
    assert (answer.get_json()["error"], answer.get_json()["code"]) == ("credential_request_denied", "AWARD_NOT_CLAIMABLE")
    assert claims.wallet_copies(site.issuer, site.award) == []


@pytest.mark.parametrize("kind", ["did:jwk", "es256-did:key", "es256-jwk"])
def test_did_jwk_and_p256_keys_bind_the_copy_to_their_did(site, client, kind):
    from keys.jws_keys import EcKeyPair

    nonce = client.post("/oid4vci/nonce").get_json()["c_nonce"]
    values = {"aud": site.base, "iat": int(time.time()), "nonce": nonce}
    if kind == "did:jwk":
        key = KeyPair.generate()
        did = "did:jwk:" + b64url_encode(json.dumps(key.public_key.to_jwk()).encode())
        jwt, holder = _proof(key, header={"kid": did + "#0"}, **values), did
    else:
        key = EcKeyPair.generate()
        header = {"alg": "ES256", "typ": "openid4vci-proof+jwt",
                  **({"kid": f"{key.did_key}#{key.did_key[8:]}"} if kind == "es256-did:key"
                     else {"jwk": key.public_key.to_jwk()})}
        signing_input = b64url_encode(json.dumps(header).encode()) + "." + b64url_encode(json.dumps(values).encode())
        jwt, holder = signing_input + "." + b64url_encode(key.sign(signing_input.encode())), key.did_key
    answer = client.post("/oid4vci/credential", json={"credential_configuration_id": JWT_VC_JSON, "proofs": {"jwt": [jwt]}},
                         headers={"Authorization": "Bearer " + _token(client, site)})
    assert answer.status_code == 200, answer.get_json()
    assert decode_jwt(answer.get_json()["credentials"][0]["credential"]).payload["sub"] == holder


@pytest.mark.parametrize("protocol", ["vcapi", "link"])
def test_another_kind_of_offer_is_no_pre_authorized_code_and_its_pin_is_not_tried_here(site, client, protocol):
    offer = claims.create_offer(site.issuer, site.award, protocol=protocol, tx_code=True)
    assert client.get(f"/oid4vci/offers/{offer.secret}").get_json()["code"] == "OFFER_UNKNOWN"
    for _ in range(claims.MAX_TX_CODE_FAILURES):
        answer = client.post("/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT,
                                                     "pre-authorized_code": offer.secret, "tx_code": "999999"})
        assert (answer.get_json()["error"], answer.get_json()["code"]) == ("invalid_grant", "OFFER_UNKNOWN")
    assert claims.open_offer(site.issuer, offer.secret, tx_code=offer.tx_code).id == offer.id  # not closed


@needs_node
def test_the_learner_pages_oid4vci_link_is_claimed_by_a_wallet_library(site):
    """The link the learner's page and claim-link print (issuer.awarding.wallet_links) works end to end."""
    from issuer.awarding.wallet_links import wallet_links

    links = wallet_links(site.issuer, site.award, tx_code=True)
    result = wallet(links.oid4vci_by_reference, client="sphereon", tx_code=links.tx_code)
    assert result["ok"], result
    assert result["credentials"][0]["credentialSubject"]["id"] == result["holder"]


def test_a_draft_13_request_by_format_with_one_proof_gets_the_draft_shape_too(site, client):
    key = KeyPair.generate()
    token = client.post("/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT,
                                                "pre-authorized_code": site.offer().secret}).get_json()
    jwt = _proof(key, aud=site.base, iat=int(time.time()), nonce=token["c_nonce"])  # drafts 13-14: from the token
    answer = client.post("/oid4vci/credential", headers={"Authorization": "Bearer " + token["access_token"]}, json={
        "format": "jwt_vc_json", "credential_definition": {"type": ["VerifiableCredential", "OpenBadgeCredential"]},
        "proof": {"proof_type": "jwt", "jwt": jwt}})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["credential"] == body["credentials"][0]["credential"]
    assert decode_jwt(body["credential"]).payload["sub"] == key.did_key
