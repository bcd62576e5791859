"""The app as it is served for real: the README's gunicorn command line (and werkzeug's server) on loopback.

Real sockets, real chunked framing, a throwaway did:key instance. Two things
the Flask test client cannot show:

- a chunked request body over ``max_content_length`` is a 413
  ``INPUT_TOO_LARGE`` on every endpoint that reads a body, never its first
  ``max_content_length`` bytes parsed as if they were the whole body;
- slow-header ("slowloris") clients do not stop the documented gunicorn
  set-up from answering everyone else promptly.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from issuer.web.clients import Clients
from issuer.instance.folder import init_instance
from issuer.awarding.issuing import Issuer
from keys.ed25519 import KeyPair
from keys.keystore import save_key

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 20_000  # max_content_length of the throwaway instance: small, so the bodies are quick to send
VC = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
      "credentialSubject": {"id": "did:example:subject", "name": "Ada"}}


# -- the instance and the servers -----------------------------------------------------------------

@dataclass(frozen=True)
class Instance:
    home: Path
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    base = tmp_path_factory.mktemp("served")
    settings = init_instance(base / "inst", name="Lakeshore Library Association", url="https://badges.example.org",
                             email=None, did_web=None, database_url=None)
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    with open(settings.home / "badgesmith.toml", "a", encoding="utf-8") as toml:
        toml.write(f'\n[web]\nrate_limit = "off"\nmax_content_length = {LIMIT}\n')
    issuer = Issuer.open(settings.home)
    try:
        created = Clients.for_issuer(issuer).add("served", "issue,status")
    finally:
        issuer.close()
    return Instance(settings.home, created.record.client_id, created.secret)


def documented_gunicorn_command() -> list[str]:
    """The gunicorn command line of the README's deployment section, word for word."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("### Deployment with gunicorn", 1)[1].split("\n#", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("gunicorn ")]
    assert len(lines) == 1, "the README's deployment section should show one gunicorn command line"
    return shlex.split(lines[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_listening(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start listening")


@pytest.fixture(scope="module")
def gunicorn(instance: Instance) -> Iterator[int]:
    """The README's gunicorn command, bound to a free loopback port instead of :8000; its port."""
    pytest.importorskip("gunicorn")
    command = documented_gunicorn_command()
    port = _free_port()
    bind = command.index("--bind")
    command[bind + 1] = f"127.0.0.1:{port}"
    env = {**os.environ, "BADGESMITH_HOME": str(instance.home), "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", *command, "--log-level", "warning"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_until_listening(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        process.stderr.close()


@pytest.fixture(scope="module")
def werkzeug_server(instance: Instance) -> Iterator[int]:
    """``badgesmith serve``'s server (werkzeug, threaded) in a thread; its port."""
    app = create_app({"HOME": str(instance.home)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        app.extensions["badgesmith"].issuer.close()


@pytest.fixture(scope="module", params=["gunicorn", "werkzeug"])
def port(request: pytest.FixtureRequest) -> int:
    return request.getfixturevalue("gunicorn" if request.param == "gunicorn" else "werkzeug_server")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    seconds: float

    @property
    def code(self) -> str | None:
        try:
            error = json.loads(self.body).get("error")
        except ValueError:
            return None
        return error.get("code") if isinstance(error, dict) else None


def request(port: int, method: str, path: str, body: bytes | None = None, *, chunked: bool = False,
            headers: dict[str, str] | None = None, timeout: float = 10) -> Answer:
    """One request on a fresh connection; ``chunked`` sends the body with Transfer-Encoding: chunked."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Accept": "application/json", **(headers or {})}
        if chunked and body is not None:
            pieces = [body[i:i + 4096] for i in range(0, len(body), 4096)]
            connection.request(method, path, body=iter(pieces), headers={**headers, "Transfer-Encoding": "chunked"},
                               encode_chunked=True)
        else:
            connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.read(), time.monotonic() - started)
    finally:
        connection.close()


# -- chunked bodies over the limit ------------------------------------------------------------------

def _json_of_size(document: dict, size: int) -> bytes:
    """``document`` as JSON, padded with a ``"pad"`` member to exactly ``size`` bytes."""
    shell = json.dumps({**document, "pad": ""}).encode()
    return shell[:-2] + b"x" * (size - len(shell)) + b'"}'


def _form_of_size(fields: dict[str, str], size: int) -> bytes:
    shell = "&".join(f"{name}={value}" for name, value in {**fields, "pad": ""}.items()).encode()
    return shell + b"x" * (size - len(shell))


def _jwt_of_size(size: int) -> bytes:
    """A well-formed (unverifiable) VC-JWT whose payload is padded, plus a newline or two: ``size`` bytes."""
    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")
    head, signature = b64(b'{"alg":"EdDSA","typ":"vc+jwt"}'), b64(bytes(64))
    payload_size = (size - len(head) - len(signature) - 2) * 3 // 4 - 2
    token = b".".join([head, b64(_json_of_size({"vc": VC}, payload_size)), signature])
    return token + b"\n" * (size - len(token))


BOUNDARY = "badgesmith-test-boundary"


def _multipart_of_size(size: int, field: str = "file") -> bytes:
    """A multipart body with one JSON file part, padded to exactly ``size`` bytes."""
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"badge.json\"\r\n"
            "Content-Type: application/json\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head + _json_of_size(VC, size - len(head) - len(tail)) + tail


@dataclass(frozen=True)
class Endpoint:
    path: str
    content_type: str
    body: Callable[[int], bytes]  # a valid body of exactly the given size
    auth: str | None = None       # the token scope the endpoint needs


def _token_form(instance: Instance) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": instance.client_id,
            "client_secret": instance.client_secret}


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
ENDPOINTS = {
    "api-verify-json": Endpoint("/api/verify", "application/json", lambda n: _json_of_size(VC, n)),
    "api-verify-jwt": Endpoint("/api/verify", "application/jwt", lambda n: _jwt_of_size(n)),
    "api-verify-multipart": Endpoint("/api/verify", MULTIPART, _multipart_of_size),
    "verify-form-upload": Endpoint("/verify", MULTIPART, _multipart_of_size),
    "vc-api-issue": Endpoint("/credentials/issue", "application/json",
                             lambda n: _json_of_size({"credential": VC}, n), auth="issue"),
    "vc-api-status": Endpoint("/credentials/status", "application/json",
                              lambda n: _json_of_size({"credentialId": f"urn:uuid:{uuid.uuid4()}",
                                                       "credentialStatus": [{"type": "BitstringStatusListEntry",
                                                                             "status": "revoked"}]}, n),
                              auth="status"),
    "vc-api-verify-credential": Endpoint("/credentials/verify", "application/json",
                                         lambda n: _json_of_size({"verifiableCredential": VC}, n)),
    "vc-api-verify-presentation": Endpoint("/presentations/verify", "application/json",
                                           lambda n: _json_of_size({"verifiablePresentation": {
                                               "@context": VC["@context"], "type": ["VerifiablePresentation"]}},
                                               n)),
    "oauth-token-form": Endpoint("/oauth/token", "application/x-www-form-urlencoded", lambda n: b""),
    "oauth-token-json": Endpoint("/oauth/token", "application/json", lambda n: b""),
}


def _body(name: str, instance: Instance, size: int) -> bytes:
    if name == "oauth-token-form":
        return _form_of_size(_token_form(instance), size)
    if name == "oauth-token-json":
        return _json_of_size(_token_form(instance), size)
    return ENDPOINTS[name].body(size)


@pytest.fixture(scope="module")
def tokens(port: int, instance: Instance) -> dict[str, str]:
    answer = request(port, "POST", "/oauth/token", _form_of_size(_token_form(instance), 200),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200, answer.body
    token = json.loads(answer.body)["access_token"]
    return {"issue": token, "status": token}


def _send(port: int, name: str, instance: Instance, tokens: dict[str, str], size: int, *,
          extra: bytes = b"") -> Answer:
    """POST a valid body of ``size`` bytes (then ``extra``) to the endpoint, chunked."""
    endpoint = ENDPOINTS[name]
    body = _body(name, instance, size)
    assert len(body) == size
    body += extra
    headers = {"Content-Type": endpoint.content_type}
    if endpoint.auth:
        headers["Authorization"] = f"Bearer {tokens[endpoint.auth]}"
    return request(port, "POST", endpoint.path, body, chunked=True, headers=headers)


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_chunked_body_just_over_the_limit_is_413_input_too_large(port, instance, tokens, name):
    """Its first LIMIT bytes alone are a valid request: they must not be read as if they were the whole body."""
    answer = _send(port, name, instance, tokens, LIMIT, extra=b"\n")
    assert answer.status == 413, answer.body[:300]
    assert answer.code == "INPUT_TOO_LARGE" or json.loads(answer.body).get("code") == "INPUT_TOO_LARGE"


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_a_chunked_body_at_or_just_under_the_limit_is_read_whole(port, instance, tokens, name):
    for size in (LIMIT - 1, LIMIT):
        answer = _send(port, name, instance, tokens, size)
        _assert_read_whole(name, answer)


def _assert_read_whole(name: str, answer: Answer) -> None:
    assert answer.status != 413 and answer.status < 500, answer.body[:300]
    # A body cut short would be malformed JSON or an unreadable request.
    assert answer.code not in ("INPUT_TOO_LARGE", "JSON_MALFORMED", "INPUT_UNREADABLE"), answer.body[:300]
    if name.startswith("oauth-token"):
        assert answer.status == 200 and "access_token" in json.loads(answer.body)
    if name.startswith("api-verify") or name == "verify-form-upload":
        assert answer.status == 200


# -- slow clients ---------------------------------------------------------------------------------

SLOW_CLIENTS = 8


class SlowHeaderClients:
    """``count`` connections that send a request's headers one byte every ``interval`` seconds, never finishing."""

    def __init__(self, port: int, count: int, interval: float = 0.5) -> None:
        self.stop = threading.Event()
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        self.thread = threading.Thread(target=self._drip, args=(interval,), daemon=True)

    def _drip(self, interval: float) -> None:
        partial = b"POST /api/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: "
        for sent in range(10_000):
            for sock in self.sockets:
                byte = partial[sent:sent + 1] or b"a"
                try:
                    sock.sendall(byte)
                except OSError:
                    pass  # the server closed this one; the others go on
            if self.stop.wait(interval):
                return

    def __enter__(self) -> SlowHeaderClients:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.sockets:
            sock.close()


def test_the_documented_gunicorn_answers_promptly_while_slow_header_clients_hang_on(gunicorn):
    """Eight connections dribbling headers must not take the workers: GET and POST stay fast meanwhile."""
    credential = json.dumps(VC).encode()
    with SlowHeaderClients(gunicorn, SLOW_CLIENTS):
        time.sleep(1.0)  # every slow connection has been accepted and has started its headers
        answers = []
        for _ in range(4):
            answers.append(request(gunicorn, "GET", "/api/openapi.json", timeout=5))
            answers.append(request(gunicorn, "POST", "/api/verify", credential, timeout=5,
                                   headers={"Content-Type": "application/json"}))
            time.sleep(0.25)
    assert [answer.status for answer in answers] == [200] * len(answers)
    slowest = max(answer.seconds for answer in answers)
    assert slowest < 2.0, f"the slowest answer took {slowest:.2f} s"


def test_the_readme_command_is_the_one_tested():
    command = documented_gunicorn_command()
    assert command[-1] == "app:create_app()" and re.fullmatch(r"[\w.]+:\d+", command[command.index("--bind") + 1])
