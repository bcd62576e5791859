"""The public face of a real demo instance: verification that tells the truth visibly, this site's own
issuer and images, the DCC known-issuer registry, and the association's brand."""

from __future__ import annotations

import json
import re

import pytest

from app import create_app
from issuer.awarding.demo import run_demo

BASE = "https://badges.lakeshore.example"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("face") / "inst", base_url=BASE, echo=lambda _: None)


@pytest.fixture(scope="module")
def site(demo):
    app = create_app({"HOME": str(demo.home), "TESTING": True, "RATE_LIMIT": "off"})
    yield app
    app.extensions["badgesmith"].issuer.close()


@pytest.fixture
def client(site):
    return site.test_client()


def _credential(client, demo, name: str) -> dict:
    path = demo.pages[name].removeprefix(BASE)
    return json.loads(client.get(f"{path}/credential.json", base_url=BASE).get_data(as_text=True))


def _verify(client, credential: dict) -> str:
    response = client.post("/verify", data={"credential": json.dumps(credential)}, base_url=BASE)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _section(html: str, element_id: str, tag: str = "details") -> str:
    start = html.index(f'id="{element_id}"')
    return html[start:html.index(f"</{tag}>", start)]


def test_own_credential_is_issued_by_a_known_issuer_this_site(client, demo):
    html = _verify(client, _credential(client, demo, "course"))
    assert "verdict--ok" in html
    known = re.search(r'id="known-issuer">(.*?)</dd>', html, re.S).group(1)
    assert "issued by this site" in known and "Lakeshore Library Association" in known
    assert "No list of known issuers was given" not in html


def test_own_credential_shows_this_sites_image_directly(client, demo):
    html = _verify(client, _credential(client, demo, "course"))
    assert re.search(rf'<img class="result-image" src="{BASE}/achievements/storytime-early-literacy/image"', html)
    assert "another website" not in html and "Show image from" not in html


def test_issuer_is_shown_by_name_before_its_id(client, demo):
    html = _verify(client, _credential(client, demo, "course"))
    name = html.index('class="issuer-name">Lakeshore Library Association')
    assert name < html.index('class="issuer-id')


def test_forged_claims_are_shown_under_an_unverified_heading_without_ticks(client, demo):
    credential = _credential(client, demo, "course")
    credential["credentialSubject"]["achievement"]["name"] = "Master of Everything"
    html = _verify(client, credential)
    assert "verdict--fail" in html
    claims = _section(html, "unverified-claims")
    assert "Unverified claims" in claims and "Master of Everything" in claims
    assert "✓" not in claims and "tag--passed" not in claims
    assert not re.search(r"\bvalid\b|not revoked|known issuer", claims, re.I)
    assert "<img" not in claims, "the site's genuine art must not dress up forged claims"
    assert "What was achieved" not in html and "Who issued it" not in html
    assert "data-fold-on-phone" in claims
    known = re.search(r'<li class="check check--(\w+)">(?:(?!</li>).)*Known issuer', html, re.S)
    assert known.group(1) == "skipped", "a forged credential naming this site's issuer gets no green tick"
    assert "the issuer is only claimed" in html  # the pipeline does not look a forged issuer up


def test_trust_list_in_the_dcc_registry_format_names_the_issuer(tmp_path, client, demo):
    credential = _credential(client, demo, "course")
    registry = {"meta": {"updated": "2026-06-01T00:00:00+0000"},
                "registry": {credential["issuer"]["id"]: {"name": "Lakeshore (DCC member registry)",
                                                          "url": "https://lakeshore.example"}}}
    (tmp_path / "registry.json").write_text(json.dumps(registry))
    verifier_site = create_app({"HOME": None, "TESTING": True, "RATE_LIMIT": "off", "OFFLINE": True,
                                "TRUST": str(tmp_path / "registry.json")})
    report = verifier_site.test_client().post("/api/verify", json=credential).get_json()
    trust = next(c for c in report["checks"] if c["check"] == "issuer_trust")
    assert trust["outcome"] == "passed" and "Lakeshore (DCC member registry)" in trust["message"]
