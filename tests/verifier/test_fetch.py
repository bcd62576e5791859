"""The network door: a real HTTPS server on 127.0.0.1, the address policy, limits, cache, local layers."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from errors import Code, ConfigError, InputTooLarge, UpstreamError
from verifier.fetch import (DictFetch, DocumentNotListed, DocumentsDir, FetchBudget, HttpFetcher, Offline,
                            build_fetch, is_public_address, layered)

HOST = "badges.test"  # the name on the test certificate; the injected resolver maps it to 127.0.0.1


# -- a real HTTPS server -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path, bytes]:
    """A self-signed certificate for badges.test and 127.0.0.1: (cert file, key file, cert PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem", cert_pem


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        state: ServerState = self.server.state
        path = self.path.split("?", 1)[0]
        with state.lock:
            state.hits[path] += 1
            state.requests.append(dict(self.headers))
        try:
            ROUTES[path](self, state)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up on purpose (size or time limit)

    def send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)


def _chunked(handler: _Handler, chunks: list[bytes]) -> None:
    handler.send_response(200)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for chunk in chunks:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    handler.wfile.write(b"0\r\n\r\n")


def _drip(handler: _Handler, state: ServerState) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    while not state.release.wait(0.2):
        handler.wfile.write(b" ")
        handler.wfile.flush()


def _drip_headers(handler: _Handler, state: ServerState) -> None:
    """A status line and then header bytes, one every 0.2 s: each read arrives well within the read timeout."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for byte in b"X-Slow: " + b"a" * 60:
        if state.release.wait(0.2):
            return
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()


def _oversize_declared(handler: _Handler, state: ServerState) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", str(10**9))
    handler.end_headers()
    handler.wfile.write(b"{")
    state.release.wait(5)  # a reader that trusted the body would sit here until its timeout


ROUTES = {
    "/ok": lambda h, s: h.send(200, b'{"ok": true}', Content_Type="application/json"),
    "/max-age": lambda h, s: h.send(200, f"hit {s.hits['/max-age']}".encode(), Cache_Control="public, max-age=60"),
    "/aged": lambda h, s: h.send(200, f"hit {s.hits['/aged']}".encode(), Cache_Control="max-age=60", Age="50"),
    "/long": lambda h, s: h.send(200, f"hit {s.hits['/long']}".encode(), Cache_Control="max-age=999999"),
    "/no-store": lambda h, s: h.send(200, f"hit {s.hits['/no-store']}".encode(),
                                     Cache_Control="max-age=60, no-store"),
    "/no-cache-header": lambda h, s: h.send(200, f"hit {s.hits['/no-cache-header']}".encode()),
    "/missing": lambda h, s: h.send(404, b"not here"),
    "/redirect": lambda h, s: h.send(302, b"", Location="/ok"),
    "/loop": lambda h, s: h.send(301, b"", Location="/loop"),
    "/to-http": lambda h, s: h.send(302, b"", Location=f"http://{HOST}:{s.port}/ok"),
    "/to-internal": lambda h, s: h.send(307, b"", Location="https://internal.test/status/1"),
    "/to-metadata": lambda h, s: h.send(308, b"", Location="https://169.254.169.254/latest/meta-data/"),
    "/to-localhost": lambda h, s: h.send(302, b"", Location=f"https://localhost:{s.port}/ok"),
    "/gzip": lambda h, s: h.send(200, b"\x1f\x8b", Content_Encoding="gzip"),
    "/big": _oversize_declared,
    "/chunked-big": lambda h, s: _chunked(h, [b"x" * 500] * 5),
    "/chunked-small": lambda h, s: _chunked(h, [b'{"a":', b" 1}"]),
    "/slow": lambda h, s: (s.release.wait(5), h.send(200, b"late")),
    "/drip": _drip,
    "/drip-headers": _drip_headers,
}


@dataclass
class ServerState:
    port: int = 0
    hits: Counter = field(default_factory=Counter)
    requests: list[dict] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    client_context: ssl.SSLContext | None = None

    def url(self, path: str, host: str = HOST) -> str:
        return f"https://{host}:{self.port}{path}"


@pytest.fixture
def server(certificate) -> Iterator[ServerState]:
    """An HTTPS server on 127.0.0.1 (random port) serving ROUTES, in a thread."""
    cert_file, key_file, cert_pem = certificate
    state = ServerState()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: state.server_names.append(name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.handle_error = lambda request, address: None  # failed handshakes are the point of some tests
    # Handshake in the handler thread, not in the accept loop, so one stuck client cannot block the rest.
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    httpd.state = state
    state.port = httpd.server_address[1]
    state.client_context = ssl.create_default_context(cadata=cert_pem.decode())
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


class Resolver:
    """getaddrinfo for a fixed table of names; counts lookups."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table, self.calls = table, []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        address = self.table[host]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


def _no_dns(*args, **kwargs):
    raise AssertionError("the fetcher must refuse before resolving")


@pytest.fixture
def resolver() -> Resolver:
    return Resolver({HOST: "127.0.0.1", "other.test": "127.0.0.1", "internal.test": "10.0.0.1"})


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


@pytest.fixture
def fetcher(server, resolver, clock) -> HttpFetcher:
    """A fetcher that treats 127.0.0.1 (only) as acceptable, so the server is reachable and 10/8 is not."""
    return HttpFetcher(ssl_context=server.client_context, resolver=resolver, allow_networks=["127.0.0.1/32"],
                       timeout_connect=1.0, timeout_read=1.0, max_bytes=1000, now=lambda: clock[0])


def _error(call) -> UpstreamError | InputTooLarge:
    with pytest.raises((UpstreamError, InputTooLarge)) as info:
        call()
    return info.value


# -- HttpFetcher: reaching the server ------------------------------------------------------------

def test_fetch_https_uses_hostname_for_host_sni_and_resolves_once(fetcher, server, resolver):
    assert fetcher(server.url("/ok")) == b'{"ok": true}'
    assert resolver.calls == [HOST]
    assert server.server_names == [HOST]
    request = server.requests[-1]
    assert request["Host"] == f"{HOST}:{server.port}"
    assert request["Accept"] == "application/ld+json, application/json;q=0.9, */*;q=0.1"
    assert request["User-Agent"] == "Badgesmith/0.1"


def test_fetch_chunked_body_is_decoded(fetcher, server):
    assert fetcher(server.url("/chunked-small")) == b'{"a": 1}'


def test_fetch_allow_private_reaches_loopback_literal(server):
    fetch = HttpFetcher(ssl_context=server.client_context, allow_private=True, resolver=_no_dns)
    assert fetch(f"https://127.0.0.1:{server.port}/ok") == b'{"ok": true}'


def test_fetch_untrusted_certificate_fails(server, resolver):
    fetch = HttpFetcher(resolver=resolver, allow_networks=["127.0.0.1/32"], timeout_read=2.0)  # system CAs
    error = _error(lambda: fetch(server.url("/ok")))
    assert error.code is Code.FETCH_FAILED and "certificate" in error.message


def test_fetch_certificate_for_another_name_fails(fetcher, server):
    """other.test resolves to the same server, but the certificate is not for it."""
    error = _error(lambda: fetcher(server.url("/ok", host="other.test")))
    assert error.code is Code.FETCH_FAILED and "certificate" in error.message


def test_fetch_closed_port_fails_with_one_sentence(fetcher):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = _error(lambda: fetcher(f"https://{HOST}:{port}/ok"))
    assert error.code is Code.FETCH_FAILED and error.message.count(".") >= 1 and "\n" not in error.message


@contextlib.contextmanager
def _syn_dropping_port() -> Iterator[int]:
    """A port on 127.0.0.1 whose listener has a full accept queue, so it drops new SYNs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = [socket.socket() for _ in range(3)]
    try:
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        yield port
    finally:
        for sock in [listener, *fillers]:
            sock.close()


def test_fetch_connect_timeout_fails_quickly():
    """A listener whose accept queue is full drops our SYN: connecting, not reading, times out."""
    fetch = HttpFetcher(allow_private=True, timeout_connect=0.3, resolver=_no_dns)
    started = time.monotonic()
    with _syn_dropping_port() as port:
        error = _error(lambda: fetch(f"https://127.0.0.1:{port}/ok"))
    assert error.code is Code.FETCH_FAILED and "within 0.3 seconds" in error.message
    assert time.monotonic() - started < 1.5


def test_fetch_tries_the_next_resolved_address(server):
    """127.0.0.2 refuses (the server listens on 127.0.0.1 only); the second answer is used."""
    def two(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in ("127.0.0.2", "127.0.0.1")]
    fetch = HttpFetcher(ssl_context=server.client_context, resolver=two, allow_networks=["127.0.0.0/8"])
    assert fetch(server.url("/ok")) == b'{"ok": true}'


def test_fetch_unknown_host_fails(fetcher):
    error = _error(lambda: fetcher("https://nowhere.test/x"))
    assert error.code is Code.FETCH_FAILED and "could not be resolved" in error.message


# -- HttpFetcher: the address and scheme policy ---------------------------------------------------

def test_fetch_loopback_refused_by_default(server):
    fetch = HttpFetcher(ssl_context=server.client_context)
    error = _error(lambda: fetch(f"https://127.0.0.1:{server.port}/ok"))
    assert error.code is Code.FETCH_REFUSED
    assert server.hits["/ok"] == 0


def test_fetch_name_resolving_to_private_address_refused(fetcher, server):
    error = _error(lambda: fetcher("https://internal.test/status/1"))
    assert error.code is Code.FETCH_REFUSED and error.details["address"] == "10.0.0.1"


def test_fetch_name_with_any_private_answer_refused():
    def mixed(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.1", port))]
    error = _error(lambda: HttpFetcher(resolver=mixed)("https://mixed.test/"))
    assert error.code is Code.FETCH_REFUSED and error.details["address"] == "192.168.1.1"


@pytest.mark.parametrize("url", ["https://localhost/x", "https://LOCALHOST./x", "https://api.localhost/x"])
def test_fetch_localhost_refused_without_resolving(url):
    assert _error(lambda: HttpFetcher(resolver=_no_dns)(url)).code is Code.FETCH_REFUSED


@pytest.mark.parametrize("url", ["http://badges.example.org/status/1", "ftp://badges.example.org/x",
                                 "file:///etc/passwd", "https://user:pw@badges.example.org/x", "https:///x",
                                 "https://badges.example.org/a b", "not a url"])
def test_fetch_non_https_or_odd_url_refused_without_resolving(url):
    assert _error(lambda: HttpFetcher(resolver=_no_dns)(url)).code is Code.FETCH_REFUSED


def test_fetch_http_allowed_only_when_asked(server):
    fetch = HttpFetcher(allow_http=True, resolver=_no_dns)
    assert _error(lambda: fetch("http://10.1.2.3/x")).code is Code.FETCH_REFUSED  # still the address policy


@pytest.mark.parametrize("address, public", [
    ("93.184.215.14", True), ("2606:4700:4700::1111", True), ("::ffff:8.8.8.8", True),
    ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.0.1", False), ("127.0.0.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("100.127.255.254", False), ("224.0.0.1", False),
    ("0.0.0.0", False), ("240.0.0.1", False), ("255.255.255.255", False), ("192.0.2.1", False),
    ("::1", False), ("::", False), ("fe80::1", False), ("fe80::1%eth0", False), ("fc00::1", False),
    ("ff02::1", False), ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("::ffff:100.64.0.1", False),
    ("2002:a00:1::", False), ("64:ff9b::a00:1", False), ("2001:db8::1", False),
])
def test_is_public_address(address, public):
    assert is_public_address(address) is public


# -- redirects -----------------------------------------------------------------------------------

def test_fetch_follows_redirect_on_same_host(fetcher, server):
    assert fetcher(server.url("/redirect")) == b'{"ok": true}'
    assert server.hits["/redirect"] == server.hits["/ok"] == 1


@pytest.mark.parametrize("path", ["/to-http", "/to-internal", "/to-metadata", "/to-localhost"])
def test_fetch_redirect_to_refused_target_refused(fetcher, server, path):
    error = _error(lambda: fetcher(server.url(path)))
    assert error.code is Code.FETCH_REFUSED
    assert server.hits["/ok"] == 0


def test_fetch_redirect_loop_stops_after_three(fetcher, server):
    error = _error(lambda: fetcher(server.url("/loop")))
    assert error.code is Code.FETCH_REFUSED and "redirects" in error.message
    assert server.hits["/loop"] == 4


# -- status, size and time limits ----------------------------------------------------------------

def test_fetch_404_fails_naming_the_status(fetcher, server):
    error = _error(lambda: fetcher(server.url("/missing")))
    assert error.code is Code.FETCH_FAILED and "404" in error.message and error.details["status"] == 404


def test_fetch_compressed_body_fails(fetcher, server):
    assert _error(lambda: fetcher(server.url("/gzip"))).code is Code.FETCH_FAILED


def test_fetch_declared_oversize_refused_before_reading(fetcher, server):
    started = time.monotonic()
    error = _error(lambda: fetcher(server.url("/big")))
    assert isinstance(error, InputTooLarge) and error.code is Code.INPUT_TOO_LARGE
    assert time.monotonic() - started < 0.9  # did not wait for the body


def test_fetch_chunked_oversize_refused(fetcher, server):
    error = _error(lambda: fetcher(server.url("/chunked-big")))
    assert isinstance(error, InputTooLarge) and error.details["limit"] == 1000


def test_fetch_slow_server_times_out(server, resolver):
    fetch = HttpFetcher(ssl_context=server.client_context, resolver=resolver, allow_networks=["127.0.0.1/32"],
                        timeout_read=0.5)
    started = time.monotonic()
    error = _error(lambda: fetch(server.url("/slow")))
    assert error.code is Code.FETCH_FAILED and "0.5 seconds" in error.message
    assert time.monotonic() - started < 2.0


def test_fetch_dripping_server_stopped_by_total_deadline(server, resolver):
    fetch = HttpFetcher(ssl_context=server.client_context, resolver=resolver, allow_networks=["127.0.0.1/32"],
                        timeout_read=1.0, timeout_total=1.0)
    started = time.monotonic()
    error = _error(lambda: fetch(server.url("/drip")))
    assert error.code is Code.FETCH_FAILED
    assert time.monotonic() - started < 2.5


@dataclass
class RawServer:
    """A TCP listener on 127.0.0.1 whose connections are handed to ``serve(conn, stop)`` in threads."""

    port: int
    stop: threading.Event


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket, threading.Event], None]], RawServer]]:
    stop, listeners, threads = threading.Event(), [], []

    def start(serve: Callable[[socket.socket, threading.Event], None]) -> RawServer:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.1)
        listeners.append(listener)

        def accept() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except (TimeoutError, OSError):
                    continue
                worker = threading.Thread(target=_serve_and_close, args=(serve, conn, stop), daemon=True)
                threads.append(worker)
                worker.start()

        thread = threading.Thread(target=accept, daemon=True)
        threads.append(thread)
        thread.start()
        return RawServer(listener.getsockname()[1], stop)

    yield start
    stop.set()
    for thread in threads:
        thread.join(5)
    for listener in listeners:
        listener.close()


def _serve_and_close(serve, conn: socket.socket, stop: threading.Event) -> None:
    with conn:
        try:
            serve(conn, stop)
        except OSError:
            pass  # the client gave up, as it should


def _dripper(prefix: bytes, drip: bytes) -> Callable[[socket.socket, threading.Event], None]:
    """Answer with ``prefix`` at once, then ``drip`` one byte every 0.2 s (for at most 12 s)."""
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65_536)
        conn.sendall(prefix)
        for byte in drip[:60]:
            if stop.wait(0.2):
                return
            conn.sendall(bytes([byte]))
    return serve


def _stall_handshake(conn: socket.socket, stop: threading.Event) -> None:
    conn.recv(65_536)  # the ClientHello, never answered
    stop.wait(15)


_DRIPS = {
    "status line": (b"", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
    "headers": (b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"a" * 60),
    "chunk sizes": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"1;" + b"x" * 60),
}


def _fails_within_the_deadline(fetch: HttpFetcher, url: str) -> UpstreamError:
    started = time.monotonic()
    error = _error(lambda: fetch(url))
    elapsed = time.monotonic() - started
    assert error.code is Code.FETCH_FAILED and "1.5 second limit for a whole fetch" in error.message
    assert elapsed < 6, f"the fetch took {elapsed:.1f} s"
    return error


@pytest.mark.parametrize("phase", list(_DRIPS))
def test_fetch_dripping_status_line_headers_or_chunk_sizes_stopped_by_total_deadline(raw_server, phase):
    """Each byte comes well within the read timeout; only the one deadline for the whole fetch stops it."""
    listening = raw_server(_dripper(*_DRIPS[phase]))
    fetch = HttpFetcher(allow_private=True, allow_http=True, resolver=_no_dns, timeout_read=1.0,
                        timeout_total=1.5)
    _fails_within_the_deadline(fetch, f"http://127.0.0.1:{listening.port}/status/1")


def test_fetch_dripping_headers_over_tls_stopped_by_total_deadline(server, resolver):
    fetch = HttpFetcher(ssl_context=server.client_context, resolver=resolver, allow_networks=["127.0.0.1/32"],
                        timeout_read=1.0, timeout_total=1.5)
    _fails_within_the_deadline(fetch, server.url("/drip-headers"))


def test_fetch_stalled_tls_handshake_stopped_by_total_deadline(raw_server, tls_certificate):
    """The read timeout (10 s) would let a handshake sit; the 1.5 s deadline does not."""
    listening = raw_server(_stall_handshake)
    fetch = HttpFetcher(allow_private=True, resolver=_no_dns, timeout_read=10.0, timeout_total=1.5,
                        ssl_context=ssl.create_default_context(cafile=str(tls_certificate[0])))
    _fails_within_the_deadline(fetch, f"https://127.0.0.1:{listening.port}/status/1")


def test_fetch_connect_attempts_share_the_deadline():
    """Four resolved addresses that all drop the SYN cost one deadline, not four connect timeouts."""
    def four(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))] * 4
    fetch = HttpFetcher(allow_private=True, resolver=four, timeout_connect=2.0, timeout_total=1.5)
    with _syn_dropping_port() as port:
        _fails_within_the_deadline(fetch, f"https://badges.test:{port}/ok")


# -- cache ---------------------------------------------------------------------------------------

def test_cache_honours_max_age(fetcher, server, clock):
    assert fetcher(server.url("/max-age")) == b"hit 1"
    clock[0] += 59
    assert fetcher(server.url("/max-age")) == b"hit 1"
    clock[0] += 2
    assert fetcher(server.url("/max-age")) == b"hit 2"


def test_cache_subtracts_age(fetcher, server, clock):
    fetcher(server.url("/aged"))
    clock[0] += 11
    assert fetcher(server.url("/aged")) == b"hit 2"


def test_cache_ttl_is_capped(server, resolver, clock):
    fetch = HttpFetcher(ssl_context=server.client_context, resolver=resolver, allow_networks=["127.0.0.1/32"],
                        cache_ttl_max=100, now=lambda: clock[0])
    fetch(server.url("/long"))
    clock[0] += 99
    assert fetch(server.url("/long")) == b"hit 1"
    clock[0] += 2
    assert fetch(server.url("/long")) == b"hit 2"


@pytest.mark.parametrize("path", ["/no-store", "/no-cache-header"])
def test_cache_skips_no_store_and_unlabelled_responses(fetcher, server, path):
    assert [fetcher(server.url(path)) for _ in range(2)] == [b"hit 1", b"hit 2"]


def test_cache_evicts_least_recently_used(server, resolver, clock):
    fetch = HttpFetcher(ssl_context=server.client_context, resolver=resolver, allow_networks=["127.0.0.1/32"],
                        cache_size=1, now=lambda: clock[0])
    fetch(server.url("/max-age"))
    fetch(server.url("/long"))
    assert fetch(server.url("/max-age")) == b"hit 2"


def test_cache_serves_concurrent_callers(fetcher, server):
    fetcher(server.url("/max-age"))
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(fetcher(server.url("/max-age")))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert results == [b"hit 1"] * 8 and server.hits["/max-age"] == 1


# -- DocumentsDir, Offline, DictFetch, layered, build_fetch --------------------------------------

STATUS_URL = "https://badges.example.org/status/1"


@pytest.fixture
def documents(tmp_path) -> Path:
    folder = tmp_path / "documents"
    (folder / "status").mkdir(parents=True)
    (folder / "status" / "1.json").write_text('{"type": "BitstringStatusListCredential"}')
    (folder / "did.json").write_text('{"id": "did:web:badges.example.org"}')
    _index(folder, {STATUS_URL: "status/1.json",
                    "https://badges.example.org/.well-known/did.json": {"file": "did.json"}})
    return folder


def _index(folder: Path, index: dict) -> None:
    (folder / "index.json").write_text(json.dumps(index))


def test_documents_dir_serves_listed_files(documents):
    fetch = DocumentsDir(documents)
    assert fetch(STATUS_URL) == b'{"type": "BitstringStatusListCredential"}'
    assert fetch("https://badges.example.org/.well-known/did.json#key-1").startswith(b'{"id"')


def test_documents_dir_miss_is_not_listed(documents):
    error = _error(lambda: DocumentsDir(documents)("https://elsewhere.example/x"))
    assert isinstance(error, DocumentNotListed) and isinstance(error, LookupError)
    assert error.code is Code.FETCH_FAILED and "is not in the documents folder" in error.message


@pytest.mark.parametrize("name", ["../outside.json", "status/../../outside.json", "/etc/passwd"])
def test_documents_dir_refuses_paths_leaving_the_folder(documents, name):
    (documents.parent / "outside.json").write_text("{}")
    _index(documents, {STATUS_URL: name})
    with pytest.raises(ConfigError) as info:
        DocumentsDir(documents)
    assert info.value.code is Code.CONFIG_INVALID and "outside" in info.value.message


def test_documents_dir_refuses_symlink_out(documents):
    (documents.parent / "outside.json").write_text("{}")
    os.symlink(documents.parent / "outside.json", documents / "link.json")
    _index(documents, {STATUS_URL: "link.json"})
    with pytest.raises(ConfigError):
        DocumentsDir(documents)


def test_documents_dir_refuses_symlink_swapped_after_loading(documents):
    fetch = DocumentsDir(documents)
    (documents.parent / "outside.json").write_text("{}")
    (documents / "status" / "1.json").unlink()
    os.symlink(documents.parent / "outside.json", documents / "status" / "1.json")
    assert _error(lambda: fetch(STATUS_URL)).code is Code.FETCH_REFUSED


def test_documents_dir_caps_file_size(documents):
    error = _error(lambda: DocumentsDir(documents, max_bytes=10)(STATUS_URL))
    assert error.code is Code.INPUT_TOO_LARGE


@pytest.mark.parametrize("content, code, line", [(None, Code.CONFIG_INVALID, None),
                                                 ('{\n  "a": "b",\n}', Code.JSON_MALFORMED, 3),
                                                 ('["a.json"]', Code.CONFIG_INVALID, None),
                                                 ('{"https://x.example/": 7}', Code.CONFIG_INVALID, None)])
def test_documents_dir_bad_index_rejected(tmp_path, content, code, line):
    if content is not None:
        (tmp_path / "index.json").write_text(content)
    with pytest.raises(ConfigError) as info:
        DocumentsDir(tmp_path)
    assert info.value.code is code and info.value.details.get("line") == line


def test_offline_refuses_everything():
    error = _error(lambda: Offline()(STATUS_URL))
    assert error.code is Code.OFFLINE
    assert error.message.startswith(f"Badgesmith is offline and {STATUS_URL} is not in the documents folder")


def test_dict_fetch_serves_and_records():
    fetch = DictFetch({STATUS_URL: "{}", "https://x.example/b": b"\x00"})
    assert fetch(STATUS_URL) == b"{}" and fetch("https://x.example/b") == b"\x00"
    assert isinstance(_error(lambda: fetch("https://x.example/c")), DocumentNotListed)
    assert fetch.requested == [STATUS_URL, "https://x.example/b", "https://x.example/c"]


def test_layered_falls_through_on_miss_only(documents):
    behind = DictFetch({"https://elsewhere.example/x": b"network copy", STATUS_URL: b"network status"})
    fetch = layered(DocumentsDir(documents), behind)
    assert fetch(STATUS_URL) == b'{"type": "BitstringStatusListCredential"}'
    assert fetch("https://elsewhere.example/x") == b"network copy"
    assert behind.requested == ["https://elsewhere.example/x"]


def test_layered_stops_at_a_refusal():
    behind = DictFetch({"http://badges.example.org/x": b"should not be reached"})
    fetch = layered(HttpFetcher(resolver=_no_dns), behind)
    assert _error(lambda: fetch("http://badges.example.org/x")).code is Code.FETCH_REFUSED
    assert behind.requested == []


def test_build_fetch_offline_with_documents(documents):
    fetch = build_fetch(documents=documents, offline=True)
    assert fetch(STATUS_URL).startswith(b'{"type"')
    assert _error(lambda: fetch("https://elsewhere.example/x")).code is Code.OFFLINE


def test_build_fetch_online_without_documents_is_guarded_network():
    fetch = build_fetch(documents=None, offline=False)
    assert isinstance(fetch, HttpFetcher) and not fetch.allow_private
    assert _error(lambda: fetch("https://127.0.0.1/x")).code is Code.FETCH_REFUSED
    assert isinstance(build_fetch(documents=None, offline=True), Offline)


# -- one verification's budget ------------------------------------------------------------------


def test_a_budget_counts_distinct_documents_and_refuses_beyond_them():
    documents = DictFetch({f"https://lists.example/{n}": b"{}" for n in range(5)})
    budget = FetchBudget(documents, max_documents=3)
    for n in range(3):
        assert budget(f"https://lists.example/{n}") == b"{}"
    assert budget("https://lists.example/0#frag") == b"{}"  # a repeat (fragment aside) is free
    with pytest.raises(UpstreamError) as caught:
        budget("https://lists.example/3")
    assert caught.value.code == Code.FETCH_REFUSED and "already fetched 3 documents" in caught.value.message
    assert documents.requested.count("https://lists.example/3") == 0


def test_a_budget_refuses_new_documents_once_its_time_is_spent():
    now = [0.0]
    budget = FetchBudget(DictFetch({"https://a.example/": b"a", "https://b.example/": b"b"}), seconds=10,
                         clock=lambda: now[0])
    assert budget("https://a.example/") == b"a"
    now[0] = 10.5
    assert budget("https://a.example/") == b"a"  # already fetched once: still answered
    with pytest.raises(UpstreamError, match="spent its time"):
        budget("https://b.example/")


def test_a_budget_fails_a_document_that_failed_again_at_once_without_asking_again():
    documents = DictFetch({"https://lists.example/ok": b"{}"})
    budget = FetchBudget(documents)
    failures = []
    for url in ("https://lists.example/gone", "https://lists.example/gone#2", "https://lists.example/gone"):
        with pytest.raises(UpstreamError) as caught:
            budget(url)
        failures.append(caught.value)
    assert documents.requested == ["https://lists.example/gone"]  # a transcript's fifty entries wait once
    assert {f.code for f in failures} == {Code.FETCH_FAILED} and len({f.message for f in failures}) == 1
    assert budget("https://lists.example/ok") == b"{}"


def test_a_credential_naming_a_hundred_status_lists_fetches_only_the_budget(make_signed_with_statuses):
    from schemas.loader import offline_loader
    from verifier.pipeline import verify_bytes

    credential, documents = make_signed_with_statuses(100)
    report = verify_bytes(json.dumps(credential).encode(), loader=offline_loader(), fetch=documents,
                          now=datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc))
    assert len(documents.requested) == len(set(documents.requested)) == 64  # the other 36 were never tried
    assert not report.verified and report.check("status").code == "STATUS_UNREACHABLE"
    assert report.check("proof").outcome == "passed"


@pytest.fixture
def make_signed_with_statuses():
    from issuer.badge.sign import sign_credential
    from keys.ed25519 import KeyPair
    from schemas.loader import offline_loader

    def make(count: int):
        key = KeyPair.from_seed(bytes(range(32)))
        entries = [{"id": f"https://lists.example/{n}#1", "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation", "statusListIndex": "1",
                    "statusListCredential": f"https://lists.example/{n}"} for n in range(count)]
        credential = sign_credential({
            "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
            "issuer": key.public_key.did_key, "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:learner"}, "credentialStatus": entries},
            key, loader=offline_loader(), created=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
        return credential, DictFetch({})  # every list unreachable: what counts is how many were tried

    return make
