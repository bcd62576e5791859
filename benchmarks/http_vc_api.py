"""VC API throughput against gunicorn (2 workers) on loopback; prints one JSON line.

    .venv/bin/python benchmarks/http_vc_api.py [SECONDS] [CONCURRENCY] [--threads N] [--db postgresql://…]

Builds a did:key instance in a temporary folder (``vc_api_server.make_instance``:
one OAuth client, rate limit off), serves it with ``gunicorn -w 2
'app:create_app()'``, gets a bearer token, then for SECONDS each (and at most
MAX_REQUESTS) POSTs from CONCURRENCY client threads: ``/credentials/issue``
(eddsa-rdfc-2022; a registry transaction per credential), the same with a
revocation status entry (a random index allocated in that transaction), and
``/credentials/verify`` (a credential it issued, its status list included).
The registry is the default SQLite file (durable: one fsync per commit, and
SQLite has one writer at a time) unless ``--db`` names a PostgreSQL database. Reports requests per second, p50/p99 latency and errors. The client
shares the machine's two cores with the server, so the numbers are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from http_verify import _free_port, _wait, run_load  # noqa: E402
from vc_api_server import make_instance  # noqa: E402

MAX_REQUESTS = 20_000
VC = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
      "credentialSubject": {"id": "did:example:learner", "name": "Ada Lovelace"}}
STATUS = {"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}


def _post(connection: http.client.HTTPConnection, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def _load(port: int, path: str, body: bytes, headers: dict, expect: int, seconds: float, concurrency: int) -> dict:
    return run_load(port, lambda connection: _post(connection, path, body, headers)[0] == expect, seconds,
                    concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seconds", nargs="?", type=float, default=10)
    parser.add_argument("concurrency", nargs="?", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--db", help="a PostgreSQL URL instead of the default SQLite file")
    args = parser.parse_args()
    seconds, concurrency, threads, database_url = args.seconds, args.concurrency, args.threads, args.db
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "inst"
        made = make_instance(home, f"http://127.0.0.1:{port}", database_url)
        env = {**os.environ, "BADGESMITH_HOME": str(home), "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", str(threads),
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"], cwd=ROOT, env=env)
        try:
            _wait(port, time.monotonic() + 30)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            form = urlencode({"grant_type": "client_credentials", "client_id": made["client_id"],
                              "client_secret": made["client_secret"]}).encode()
            token = json.loads(_post(connection, "/oauth/token", form,
                                     {"Content-Type": "application/x-www-form-urlencoded"})[1])["access_token"]
            json_headers = {"Content-Type": "application/json"}
            auth = {**json_headers, "Authorization": f"Bearer {token}"}
            plain = json.dumps({"credential": VC}).encode()
            with_status = json.dumps({"credential": VC, "options": STATUS}).encode()
            issued = json.loads(_post(connection, "/credentials/issue", with_status, auth)[1])
            verify_body = json.dumps({"verifiableCredential": issued["verifiableCredential"]}).encode()
            results = {"issue": _load(port, "/credentials/issue", plain, auth, 201, seconds, concurrency),
                       "issue_with_status": _load(port, "/credentials/issue", with_status, auth, 201, seconds,
                                                  concurrency),
                       "verify": _load(port, "/credentials/verify", verify_body, json_headers, 200, seconds,
                                       concurrency)}
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(json.dumps({"workers": 2, "threads": threads, "concurrency": concurrency,
                      "database": "postgresql" if database_url else "sqlite", **results}))


if __name__ == "__main__":
    main()
