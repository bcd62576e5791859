"""HTTP verification throughput against gunicorn (2 workers) on loopback; prints one JSON line.

    .venv/bin/python benchmarks/http_verify.py [SECONDS] [CONCURRENCY]

Builds a demo instance in a temporary folder, serves it with
``gunicorn -w 2 'app:create_app()'`` (rate limit off), then POSTs a baked PNG
and a credential JSON to /api/verify from CONCURRENCY client threads for
SECONDS each (bounded in time and count), and reports requests per second,
p50/p99 latency and errors. The client shares the machine's two cores with
the server, so the numbers are a floor.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from issuer.awarding.demo import run_demo  # noqa: E402

MAX_REQUESTS = 20_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def run_load(port: int, send, seconds: float, concurrency: int) -> dict:
    """CONCURRENCY keep-alive clients calling ``send(connection) -> ok`` for SECONDS (at most
    MAX_REQUESTS in all); requests per second, p50/p99 latency and errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            with lock:
                if len(latencies) + errors[0] >= MAX_REQUESTS:
                    return
            start = time.perf_counter()
            try:
                ok = send(connection)
            except (OSError, http.client.HTTPException, ValueError):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            elapsed = time.perf_counter() - start
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p99_ms": round(latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000, 1) if latencies else None,
            "errors": errors[0]}


def _verify_request(body: bytes, content_type: str):
    def send(connection: http.client.HTTPConnection) -> bool:
        connection.request("POST", "/api/verify", body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        data = response.read()
        return response.status == 200 and json.loads(data)["verified"]

    return send


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        demo = run_demo(Path(folder) / "inst", base_url=f"http://127.0.0.1:{port}", echo=lambda _: None)
        with open(demo.home / "badgesmith.toml", "a") as settings:
            settings.write('\n[web]\nrate_limit = "off"\n')
        png = next((demo.home / "out" / "storytime-early-literacy").glob("*[0-9a-f].png")).read_bytes()
        credential = next((demo.home / "out" / "storytime-early-literacy").glob("*.json")).read_bytes()
        env = {**os.environ, "BADGESMITH_HOME": str(demo.home), "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "app:create_app()"], cwd=ROOT, env=env)
        try:
            _wait(port, time.monotonic() + 30)
            results = {"png": run_load(port, _verify_request(png, "image/png"), seconds, concurrency),
                       "json": run_load(port, _verify_request(credential, "application/json"), seconds,
                                        concurrency)}
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(json.dumps({"workers": 2, "concurrency": concurrency, **results}))


if __name__ == "__main__":
    main()
