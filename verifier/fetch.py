"""THE network door: every document Badgesmith reads from elsewhere comes through a ``Fetch``.

A ``Fetch`` is any callable ``fetch(url) -> bytes``. It raises ``UpstreamError``
(``FETCH_REFUSED``, ``FETCH_FAILED`` or ``OFFLINE``) or ``InputTooLarge``.

- ``HttpFetcher``: https only, public addresses only, the host resolved once
  and that exact address connected to (no DNS rebinding between check and
  use), redirects followed by hand and re-checked, a size limit, one
  wall-clock deadline for everything (connect, TLS, headers, body, redirects), a
  small ``Cache-Control``-driven cache.
- ``DocumentsDir``: the ``--documents`` folder (``index.json`` maps URL → file).
- ``Offline``: refuses everything.
- ``DictFetch``: URLs → bytes held in memory (tests, embedding).
- ``layered(...)`` tries fetchers in order, falling through only on
  ``DocumentNotListed`` ("not here"), never on a refusal.
- ``build_fetch(...)``: the one function ``cli.py`` and ``app.py`` call.

Nothing else in Badgesmith opens sockets.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit

from errors import Code, ConfigError, InputTooLarge, UpstreamError

__all__ = ["DictFetch", "DocumentNotListed", "DocumentsDir", "Fetch", "FetchBudget", "HttpFetcher", "Offline",
           "build_fetch", "is_public_address", "layered"]

DEFAULT_ACCEPT = "application/ld+json, application/json;q=0.9, */*;q=0.1"
_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_REDIRECTS = 3
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_INDEX_MAX_BYTES = 1_000_000


class Fetch(Protocol):
    """``fetch(url) -> bytes``; raises ``UpstreamError`` or ``InputTooLarge``."""

    def __call__(self, url: str, /) -> bytes: ...


class DocumentNotListed(UpstreamError, LookupError):
    """A local source does not hold this URL: ``layered()`` moves on to the next fetcher."""

    http_status = 404

    def __init__(self, url: str, where: str) -> None:
        super().__init__(Code.FETCH_FAILED, f"{url} is not in {where}.", url=url)


def is_public_address(address: str) -> bool:
    """True if ``address`` (IPv4/IPv6 text) is globally routable unicast, as the fetcher requires.

    Refused: private, loopback, link-local, multicast, reserved, unspecified,
    CGNAT 100.64/10, and IPv6 forms embedding such an IPv4 address (mapped,
    6to4, Teredo, NAT64).
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(str(ip.ipv4_mapped))
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return not (not ip.is_global or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified or getattr(ip, "is_site_local", False) or ip in _CGNAT)


def _refused(url: str, why: str, **details: Any) -> UpstreamError:
    return UpstreamError(Code.FETCH_REFUSED, f"Refusing to fetch {url}: {why}.", url=url, **details)


def _failed(url: str, why: str, **details: Any) -> UpstreamError:
    return UpstreamError(Code.FETCH_FAILED, f"Fetching {url} failed: {why}.", url=url, **details)


def _cache_ttl(headers: http.client.HTTPMessage) -> float:
    """Seconds the response may be reused: max-age minus Age; 0 for no-store/no-cache or no max-age."""
    max_age = None
    for directive in ",".join(headers.get_all("Cache-Control") or []).split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0.0
        if name == "max-age":
            try:
                max_age = int(value.strip().strip('"'))
            except ValueError:
                return 0.0
    if max_age is None:
        return 0.0
    try:
        age = int(headers.get("Age", "0"))
    except ValueError:
        age = 0
    return float(max(0, max_age - max(0, age)))


class _ConnectTimeout(OSError):
    """Connecting (not reading) took too long: the message says which limit was hit."""


class _OutOfTime(TimeoutError):
    """The fetch's wall-clock deadline passed (as opposed to one read timing out)."""


def _time_left(deadline: float, per_call: float) -> float:
    """The timeout for the next blocking call: ``per_call``, cut to what is left before ``deadline``."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _OutOfTime("the deadline has passed")
    return min(per_call, remaining)


class _DeadlineSocket:
    """A connected socket whose every send and receive is bounded by one wall-clock deadline.

    Before each call the socket timeout is set to ``min(per_call, time left)``,
    so a server dripping a byte per read (status line, headers, chunk sizes or
    body, all read through ``makefile``) cannot stretch a fetch past the deadline.
    A timeout that the deadline cut short raises ``_OutOfTime``.
    """

    def __init__(self, sock: socket.socket, *, per_call: float, deadline: float) -> None:
        self._sock, self._per_call, self._deadline = sock, per_call, deadline

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        timeout = _time_left(self._deadline, self._per_call)
        self._sock.settimeout(timeout)
        try:
            return method(*args)
        except TimeoutError:
            if timeout < self._per_call:
                raise _OutOfTime("the deadline has passed") from None
            raise

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        return self._call(self._sock.recv_into, buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        return self._call(self._sock.recv, bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._call(self._sock.sendall, data, flags)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        # http.client reads the status line, headers and body through this file; its reads come back here.
        if mode != "rb":
            raise ValueError("only binary reading is supported")
        return io.BufferedReader(socket.SocketIO(self, "rb"))  # type: ignore[arg-type]

    def _decref_socketios(self) -> None:  # SocketIO.close() calls this; the socket is closed by its owner
        pass

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to an address resolved beforehand, within one deadline.

    The Host header and TLS (SNI and certificate check) use the hostname, but
    the socket goes to one of ``addresses`` (checked, in resolver order, as
    ``socket.create_connection`` would): http.client never resolves the name
    again, so a DNS answer cannot change between our address check and the connect.
    Every phase (each connect attempt, the TLS handshake, sending, every read)
    waits at most its own timeout and never past ``deadline`` (``time.monotonic()``).
    """

    def __init__(self, host: str, port: int, *, addresses: list[tuple[int, tuple]], tls: ssl.SSLContext | None,
                 timeout_connect: float, timeout_read: float, deadline: float) -> None:
        super().__init__(host, port, timeout=timeout_read)
        # Host header omits the port when it is the scheme's default (443 here, not http.client's 80).
        self.default_port = 443 if tls is not None else 80
        self._addresses, self._tls, self._timeout_connect = addresses, tls, timeout_connect
        self._deadline = deadline
        self.raw_socket: socket.socket | None = None

    def connect(self) -> None:
        error: OSError | None = None
        for family, sockaddr in self._addresses:
            timeout = _time_left(self._deadline, self._timeout_connect)
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(sockaddr)
                break
            except OSError as exc:
                sock.close()
                error = exc
        else:
            if isinstance(error, TimeoutError):
                if time.monotonic() >= self._deadline:
                    raise _OutOfTime("the deadline has passed") from error
                raise _ConnectTimeout(f"no connection could be made within {self._timeout_connect:g} seconds") \
                    from error
            raise error or OSError("no address to connect to")
        self.raw_socket = sock
        if self._tls is not None:
            # CPython bounds the whole handshake (all its reads) by the timeout set here.
            timeout = _time_left(self._deadline, self.timeout)
            sock.settimeout(timeout)
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
            except TimeoutError:
                if timeout < self.timeout:
                    raise _OutOfTime("the deadline has passed") from None
                raise
        self.sock = _DeadlineSocket(sock, per_call=self.timeout, deadline=self._deadline)


class HttpFetcher:
    """Fetches https URLs of public hosts, with limits, manual redirects and a small cache.

    ``allow_private`` lifts the address policy (and the ``localhost`` ban)
    entirely; ``allow_networks`` lifts it for the listed networks only (an
    intranet status-list server, or tests). ``allow_http`` permits plain http.
    ``resolver`` has ``socket.getaddrinfo``'s signature; ``now`` is a monotonic
    clock used for cache expiry; ``ssl_context`` replaces the system trust store.
    """

    def __init__(self, *, timeout_connect: float = 3.0, timeout_read: float = 5.0, timeout_total: float = 20.0,
                 max_bytes: int = 2_000_000, allow_private: bool = False, allow_networks: Iterable[str] = (),
                 allow_http: bool = False, cache_ttl_max: float = 3600, cache_size: int = 256,
                 user_agent: str = "Badgesmith/0.1", accept: str = DEFAULT_ACCEPT,
                 resolver: Callable[..., list] = socket.getaddrinfo, ssl_context: ssl.SSLContext | None = None,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.timeout_connect, self.timeout_read, self.timeout_total = timeout_connect, timeout_read, timeout_total
        self.max_bytes, self.allow_private, self.allow_http = max_bytes, allow_private, allow_http
        self.allow_networks = tuple(ipaddress.ip_network(n) for n in allow_networks)
        self.cache_ttl_max, self.cache_size = cache_ttl_max, cache_size
        self.headers = {"User-Agent": user_agent, "Accept": accept, "Accept-Encoding": "identity",
                        "Connection": "close"}
        self.resolver, self.now = resolver, now
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, url: str) -> bytes:
        """GET ``url``; the body's bytes, or ``UpstreamError`` / ``InputTooLarge``."""
        # A wall-clock budget for the whole fetch, redirects included, so a server dripping one
        # byte per read timeout cannot hold a verifier (or a web worker) for minutes.
        deadline = time.monotonic() + self.timeout_total
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            cached = self._cache_get(current)
            if cached is not None:
                return cached
            location = self._fetch_once(current, deadline)
            if isinstance(location, bytes):
                return location
            current = location
        raise _refused(url, f"it redirects more than {_MAX_REDIRECTS} times")

    # -- one hop ---------------------------------------------------------------------------------

    def _fetch_once(self, url: str, deadline: float) -> bytes | str:
        """The body, or the absolute URL a redirect points to (not yet checked: the next hop checks it)."""
        scheme, host, port, target = self._parse(url)
        connection = _PinnedConnection(host, port, addresses=self._resolve(url, host, port),
                                       tls=self.ssl_context if scheme == "https" else None,
                                       timeout_connect=self.timeout_connect, timeout_read=self.timeout_read,
                                       deadline=deadline)
        response = None
        try:
            connection.request("GET", target, headers=self.headers)
            response = connection.getresponse()
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise _failed(url, f"the server answered HTTP {response.status} without a Location",
                                  status=response.status)
                return urljoin(url, location.strip())
            if not 200 <= response.status < 300:
                raise _failed(url, f"the server answered HTTP {response.status} {response.reason}".rstrip(),
                              status=response.status)
            if response.getheader("Content-Encoding", "identity").lower() != "identity":
                raise _failed(url, "the server sent a compressed body although Badgesmith asked for none")
            body = self._read_body(url, response)
        except _ConnectTimeout as exc:
            raise _failed(url, str(exc)) from exc
        except _OutOfTime as exc:
            raise _failed(url, f"it took longer than the {self.timeout_total:g} second limit for a whole "
                               "fetch") from exc
        except TimeoutError as exc:
            raise _failed(url, f"the server did not answer within {self.timeout_read:g} seconds") from exc
        except ssl.SSLCertVerificationError as exc:
            raise _failed(url, f"its TLS certificate could not be verified ({exc.verify_message})") from exc
        except (OSError, http.client.HTTPException, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise _failed(url, f"the connection failed ({reason})") from exc
        finally:
            if response is not None:
                response.close()
            connection.close()
            if connection.raw_socket is not None:
                connection.raw_socket.close()
        ttl = min(_cache_ttl(response.msg), self.cache_ttl_max)
        if ttl > 0 and self.cache_size > 0:
            self._cache_put(url, body, ttl)
        return body

    def _parse(self, url: str) -> tuple[str, str, int, str]:
        """Scheme, IDNA host, port and request target of an acceptable URL."""
        if not isinstance(url, str) or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
            raise _refused(str(url)[:200], "it is not a valid URL")
        try:
            parts = urlsplit(url)
            port = parts.port
            host = (parts.hostname or "").encode("idna").decode("ascii").rstrip(".")
        except (ValueError, UnicodeError) as exc:
            raise _refused(url, "it is not a valid URL") from exc
        scheme = parts.scheme.lower()
        if scheme != "https" and not (scheme == "http" and self.allow_http):
            raise _refused(url, "only https:// addresses are fetched")
        if not host:
            raise _refused(url, "it names no host")
        if parts.username is not None or parts.password is not None:
            raise _refused(url, "it carries a user name or password")
        if not self.allow_private and (host == "localhost" or host.endswith(".localhost")):
            raise _refused(url, "localhost is never fetched", host=host)
        target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
        if parts.query:
            target += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
        return scheme, host, port if port is not None else (443 if scheme == "https" else 80), target

    def _resolve(self, url: str, host: str, port: int) -> list[tuple[int, tuple]]:
        """Resolve ``host`` once and check every address: (family, sockaddr) to connect to, in order."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
            addresses = [(family, (host, port) if literal.version == 4 else (host, port, 0, 0))]
        else:
            try:
                answers = self.resolver(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                raise _failed(url, f"the host name {host} could not be resolved", host=host) from exc
            addresses = [(a[0], (str(a[4][0]), port, *a[4][2:])) for a in answers
                         if a[0] in (socket.AF_INET, socket.AF_INET6)]
            if not addresses:
                raise _failed(url, f"the host name {host} has no address", host=host)
        if not self.allow_private:
            # Every answer, not only the ones we try: a name mixing public and private addresses is an attack.
            for _, sockaddr in addresses:
                if not self._is_allowed(sockaddr[0]):
                    where = host if literal is not None else f"{host} is at {sockaddr[0]}, which"
                    raise _refused(url, f"{where} is a private or local address; "
                                        "put the document in a --documents folder instead",
                                   host=host, address=sockaddr[0])
        return addresses[:4]  # enough for an IPv6 + IPv4 pair or two; bounded connect time

    def _is_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return is_public_address(address) or any(ip in network for network in self.allow_networks
                                                  if network.version == ip.version)

    def _read_body(self, url: str, response: http.client.HTTPResponse) -> bytes:
        too_large = InputTooLarge(Code.INPUT_TOO_LARGE,
                                  f"The document at {url} is larger than the {self.max_bytes:,} byte limit.",
                                  url=url, limit=self.max_bytes)
        length = response.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
            raise too_large
        body = bytearray()
        while True:
            # read1: at most one recv per call; every recv is bounded by the deadline (_DeadlineSocket).
            chunk = response.read1(min(65_536, self.max_bytes + 1 - len(body)))
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > self.max_bytes:
                raise too_large

    # -- cache -----------------------------------------------------------------------------------

    def _cache_get(self, url: str) -> bytes | None:
        with self._lock:
            entry = self._cache.get(url)
            if entry is None:
                return None
            if entry[0] <= self.now():
                del self._cache[url]
                return None
            self._cache.move_to_end(url)
            return entry[1]

    def _cache_put(self, url: str, body: bytes, ttl: float) -> None:
        with self._lock:
            self._cache[url] = (self.now() + ttl, body)
            self._cache.move_to_end(url)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)


class DocumentsDir:
    """A folder of local copies: ``index.json`` maps each URL to a file inside the folder.

    Index values are a relative path (``"status/1.json"``) or ``{"file": "status/1.json"}``.
    Paths that are absolute, contain ``..`` or lead out of the folder through a
    symlink are refused when the index is read (``CONFIG_INVALID``) and again
    when served. URLs are matched exactly, ignoring a ``#fragment``. An unlisted
    URL raises ``DocumentNotListed`` so a ``layered()`` fetch falls through.
    """

    def __init__(self, path: Path | str, *, max_bytes: int = 2_000_000) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._root = self.path.resolve()
        index_path = self.path / "index.json"
        try:
            with index_path.open("rb") as handle:
                raw = handle.read(_INDEX_MAX_BYTES + 1)
        except OSError as exc:
            raise ConfigError(Code.CONFIG_INVALID, f"The documents folder {self.path} has no readable "
                              "index.json; add one mapping each URL to a file.", path=str(index_path)) from exc
        if len(raw) > _INDEX_MAX_BYTES:
            raise InputTooLarge(Code.INPUT_TOO_LARGE, f"{index_path} is larger than {_INDEX_MAX_BYTES:,} bytes.",
                                path=str(index_path))
        try:
            index = json.loads(raw)
        except UnicodeDecodeError as exc:
            raise ConfigError(Code.JSON_MALFORMED, f"{index_path} is not UTF-8 text.", path=str(index_path)) from exc
        except RecursionError:
            raise ConfigError(Code.JSON_MALFORMED, f"{index_path} is nested too deeply.", path=str(index_path)) from None
        except json.JSONDecodeError as exc:
            raise ConfigError(Code.JSON_MALFORMED, f"{index_path} is not valid JSON at line {exc.lineno}: "
                              f"{exc.msg}.", path=str(index_path), line=exc.lineno) from exc
        if not isinstance(index, dict):
            raise ConfigError(Code.CONFIG_INVALID, f"{index_path} must be a JSON object mapping URLs to files.",
                              path=str(index_path))
        self._files: dict[str, Path] = {}
        for url, value in index.items():
            name = value.get("file") if isinstance(value, dict) else value
            if not isinstance(name, str) or not name:
                raise ConfigError(Code.CONFIG_INVALID, f"The entry for {url} in {index_path} must be a file "
                                  'name or {"file": name}.', path=str(index_path), url=url)
            self._files[url.split("#", 1)[0]] = self._checked(url, name, index_path)

    def _checked(self, url: str, name: str, index_path: Path) -> Path:
        relative = Path(name)
        inside = (self._root / relative).resolve()
        if relative.is_absolute() or ".." in relative.parts or not inside.is_relative_to(self._root):
            raise ConfigError(Code.CONFIG_INVALID, f"The entry for {url} in {index_path} points outside the "
                              f"documents folder ({name}); use a path inside it.", path=str(index_path), url=url)
        return relative

    def __call__(self, url: str) -> bytes:
        """The listed file's bytes, or ``DocumentNotListed`` for a URL the index does not name."""
        relative = self._files.get(url.split("#", 1)[0])
        if relative is None:
            raise DocumentNotListed(url, f"the documents folder {self.path}")
        # Resolved again now: a symlink swapped since the index was read must not lead out.
        target = (self._root / relative).resolve()
        if not target.is_relative_to(self._root):
            raise _refused(url, f"its file in the documents folder leads outside {self.path}")
        try:
            with target.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise _failed(url, f"the documents folder lists {relative} but it cannot be read "
                               f"({exc.strerror or exc})") from exc
        if len(data) > self.max_bytes:
            raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The local copy of {url} ({relative}) is larger than "
                                f"the {self.max_bytes:,} byte limit.", url=url, limit=self.max_bytes)
        return data


class Offline:
    """Refuses every URL with ``OFFLINE``: the end of the chain for ``--offline``."""

    def __call__(self, url: str) -> bytes:
        """Always raises ``UpstreamError(OFFLINE)``."""
        raise UpstreamError(Code.OFFLINE, f"Badgesmith is offline and {url} is not in the documents folder: "
                            "add it to the folder's index.json, or verify without --offline.", url=url)


class DictFetch:
    """Serves URL → bytes from memory; records what was asked in ``requested``.

    A real implementation for tests and for callers holding documents already;
    an unknown URL raises ``DocumentNotListed`` so it layers like a folder.
    """

    def __init__(self, documents: Mapping[str, bytes | str]) -> None:
        self.documents = {url: data.encode() if isinstance(data, str) else bytes(data)
                          for url, data in documents.items()}
        self.requested: list[str] = []

    def __call__(self, url: str) -> bytes:
        """The bytes stored for ``url`` (fragment ignored), or ``DocumentNotListed``."""
        self.requested.append(url)
        try:
            return self.documents[url.split("#", 1)[0]]
        except KeyError:
            raise DocumentNotListed(url, "the in-memory documents") from None


def layered(*fetchers: Fetch) -> Fetch:
    """A fetch trying each fetcher in order, moving on only when one says ``DocumentNotListed``.

    Refusals and failures (``FETCH_REFUSED``, ``FETCH_FAILED`` from the
    network, ``OFFLINE``, ``INPUT_TOO_LARGE``) stop the search: a blocked
    address must not be retried elsewhere. If every fetcher misses, the last
    miss is raised.
    """
    if not fetchers:
        raise TypeError("layered() needs at least one fetcher")

    def fetch(url: str) -> bytes:
        for fetcher in fetchers[:-1]:
            try:
                return fetcher(url)
            except DocumentNotListed:
                continue
        return fetchers[-1](url)

    return fetch


class FetchBudget:
    """One verification's fetch: at most ``max_documents`` distinct URLs and ``seconds`` of starting new ones.

    A credential decides what a verifier fetches (status lists, DID documents,
    related resources, the same again for every endorsement and transcript
    entry). Without a budget a hostile one could keep a public verifier busy
    for as long as it likes; with it, the worst case is ``seconds`` plus one
    fetch's own deadline. Repeats of a URL already fetched do not count (the
    fetcher's cache answers them). Over budget: ``FETCH_REFUSED``, which the
    checks report as "could not be fetched". A URL that failed fails again at
    once, with the same error, for the rest of the verification: a transcript
    of fifty credentials naming one unreachable list waits for it once.
    """

    def __init__(self, fetch: Fetch, *, max_documents: int = 64, seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch, self._max, self._clock = fetch, max_documents, clock
        self._deadline = clock() + seconds
        self._seen: set[str] = set()
        self._failed: dict[str, UpstreamError] = {}
        self._lock = threading.Lock()

    def __call__(self, url: str) -> bytes:
        """``fetch(url)``, or ``UpstreamError(FETCH_REFUSED)`` once this verification's budget is spent."""
        key = url.split("#", 1)[0]
        with self._lock:
            if key in self._failed:
                raise self._failed[key]
            if key not in self._seen:
                if len(self._seen) >= self._max:
                    raise _refused(url, f"this verification already fetched {self._max} documents")
                if self._clock() > self._deadline:
                    raise _refused(url, "this verification has spent its time for fetching documents")
                self._seen.add(key)
        try:
            return self._fetch(url)
        except UpstreamError as error:
            with self._lock:
                self._failed[key] = error
            raise


def build_fetch(*, documents: Path | None, offline: bool, allow_private: bool = False) -> Fetch:
    """The fetch for the CLI and the web app: the documents folder first, then Offline or the network."""
    last: Fetch = Offline() if offline else HttpFetcher(allow_private=allow_private)
    return layered(DocumentsDir(documents), last) if documents is not None else last
