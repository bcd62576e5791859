"""What the Open Badges API tests share: a Badgesmith site on a loopback port, and a learner's browser.

``serve_site`` runs a real instance (the learner-page instance: Jane holds
several credentials) under werkzeug's threaded server on 127.0.0.1, with the
sign-in e-mails handed to a list instead of a relay (one test sends them over
real SMTP). ``Browser`` drives the sign-in and consent pages the way a person
does: it reads the forms from the HTML and posts them, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import importlib.util
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests
import tomlkit
from werkzeug.serving import make_server

from app import create_app
from issuer.web.oauth_server import SCOPES

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("learner_fixtures", ROOT / "tests" / "web" / "test_learner_pages.py")
learner_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(learner_fixtures)
JANE, SAM = learner_fixtures.JANE, learner_fixtures.SAM
ALL_SCOPES = " ".join([*SCOPES, "offline_access"])
BACKPACK = {
    "client_name": "Example Backpack", "client_uri": "https://backpack.example",
    "logo_uri": "https://backpack.example/logo.png", "tos_uri": "https://backpack.example/terms",
    "policy_uri": "https://backpack.example/privacy", "software_id": "c1a3e7e6-backpack",
    "software_version": "2.4.1", "redirect_uris": ["https://backpack.example/callback"], "scope": ALL_SCOPES,
    "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
    "token_endpoint_auth_method": "client_secret_basic",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Site:
    base: str
    app: Any
    ids: dict[str, str]
    mails: list[EmailMessage] = field(default_factory=list)
    server: Any = None

    @property
    def issuer(self) -> Any:
        return self.app.extensions["badgesmith"].issuer

    def stop(self) -> None:
        self.server.shutdown()
        self.issuer.close()


def serve_site(home: Path, *, smtp_port: int | None = None, build: Any = None, **config: Any) -> Site:
    """A Badgesmith instance served on a loopback port: ``build(home, base_url) -> ids`` makes it (by default
    the learner-page tests' instance); with ``smtp_port``, its [smtp] relay is that port on 127.0.0.1."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ids = (build or learner_fixtures.build_learner_instance)(home, base_url=base)
    _set_sender(home, "ce-office@lakeshore.example", smtp_port)
    site = Site(base, None, ids)
    # Many flows for one learner here; the sign-in limit has a test of its own.
    settings = {"HOME": str(home), "RATE_LIMIT": "off", "OB_SIGN_IN_MAILER": site.mails.append,
                "OB_SIGN_IN_RATE_LIMIT": "500/hour", "OB_SIGN_IN_ADDRESS_RATE_LIMIT": "500/hour",
                "OB_REGISTER_RATE_LIMIT": "2000/hour", **config}
    site.app = create_app(settings)
    site.server = make_server("127.0.0.1", port, site.app, threaded=True)
    threading.Thread(target=site.server.serve_forever, daemon=True).start()
    return site


def open_division(home: Path, name: str, url: str, achievements: tuple[str, ...] = ("ceu-course",)) -> Any:
    """Another division's instance (did:key, so verifiable offline) with some of the example achievements."""
    from issuer.awarding.issuing import Issuer
    from issuer.instance.folder import init_instance
    from keys.ed25519 import KeyPair
    from keys.keystore import save_key

    settings = init_instance(home, name=name, url=url)
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    issuer = Issuer.open(home)
    for achievement in achievements:
        issuer.add_achievement(ROOT / "templates" / "achievements" / f"{achievement}.toml")
    return issuer


def achievement_id(file_stem: str) -> str:
    """The id of the achievement an example file under templates/achievements defines."""
    from issuer.badge.achievement import load_achievement

    return load_achievement(ROOT / "templates" / "achievements" / f"{file_stem}.toml").id


def status_documents(issuer: Any, folder: Path) -> Path:
    """A --documents folder holding ``issuer``'s status lists, so another site verifies its credentials offline."""
    from issuer.awarding.documents import instance_documents

    folder.mkdir()
    fetch, index = instance_documents(issuer), {}
    for n, status_list in enumerate(issuer.registry.list_status_lists(issuer.issuer_id)):
        (folder / f"{n}.json").write_bytes(fetch(status_list.url))
        index[status_list.url] = f"{n}.json"
    (folder / "index.json").write_text(json.dumps(index))
    return folder


def _set_sender(home: Path, email: str, smtp_port: int | None) -> None:
    """Give the instance the sender address sign-in mails come from ([issuer] email), and a relay."""
    path = home / "badgesmith.toml"
    document = tomlkit.parse(path.read_text("utf-8"))
    document["issuer"]["email"] = email
    if smtp_port:
        document["smtp"] = {"host": "127.0.0.1", "port": smtp_port, "security": "none"}
    path.write_text(tomlkit.dumps(document), "utf-8")


def pkce() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _form_action(page: str) -> str:
    found = re.search(r'<form method="post" action="([^"]+)"', page)
    assert found, page[:500]
    return html.unescape(found.group(1))


class Browser:
    """The learner: opens the authorization link, types their address, follows the mailed link, decides."""

    def __init__(self, site: Site, email: str = JANE) -> None:
        self.site, self.email, self.session = site, email, requests.Session()

    def sign_in(self, authorization_url: str) -> str:
        """From the host's link to the consent page; returns the sign-in link from the e-mail."""
        page = self.session.get(authorization_url, timeout=30)
        assert page.status_code == 200, page.text[:500]
        assert "E-mail me a sign-in link" in page.text
        sent = len(self.site.mails)
        answer = self.session.post(self.site.base + _form_action(page.text), data={"email": self.email}, timeout=30)
        assert answer.status_code == 200, answer.text[:500]
        assert "Check your e-mail" in answer.text
        assert len(self.site.mails) == sent + 1
        mail = self.site.mails[-1]
        assert mail["To"] == self.email
        return re.search(r"(http://\S+/ob/sign-in/\S+)", mail.get_content()).group(1)

    def consent(self, link: str, decision: str = "allow") -> requests.Response:
        """Open the consent page and answer it; returns the redirect response (not followed)."""
        page = self.session.get(link, timeout=30)
        assert page.status_code == 200, page.text[:500]
        self.consent_page = page
        return self.session.post(self.site.base + _form_action(page.text), data={"decision": decision},
                                 allow_redirects=False, timeout=30)

    def authorize(self, authorization_url: str, decision: str = "allow") -> str:
        """The whole flow; returns the Location the browser is sent back to."""
        answer = self.consent(self.sign_in(authorization_url), decision)
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["Location"]
