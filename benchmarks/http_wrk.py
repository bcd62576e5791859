"""/api/verify under the README's gunicorn command line, driven by wrk; prints one JSON line.

    .venv/bin/python benchmarks/http_wrk.py [SECONDS]

Byte-compiles the project as `pip install` does (a worker that compiles the
generated schema checks from source holds about 20 MiB more), builds a demo
instance in a temporary folder and serves it on loopback with the gunicorn
command line of the README's deployment section, read from the README (the
same words tests/web/test_served.py starts), twice:

- ``rate_limit_off``: ``[web] rate_limit = "off"``;
- ``rate_limit_on``: the limiter as a deployment runs it, counting every
  request in the instance's default SQLite file, with a budget too large to
  trip (``1000000/minute``; the default 60 a minute would answer 429 at once).

Each run measures:

1. ``first_request_ms``: the first request fresh workers answer (two requests
   on two connections as soon as both workers are ready, told by a
   ``post_worker_init`` hook; the slower one). Booting a worker (importing
   and ``create_app()``) is not a request: it happens before it accepts;
2. ``wrk -t1 -c8 -dSECONDS`` (default 10) POSTing one signed credential as
   JSON: requests/s, p50/p99 latency, errors (non-2xx, socket errors);
3. ``worker_rss_mib``: each worker's resident memory after 10,000
   verifications in all (wrk keeps going until then).

Other work on a shared machine takes cores from the server, so it also
prints ``worker_cpu_ms_per_request`` (the workers' CPU time over the wrk run,
per request): what a request costs whatever else runs, and
``worker_cpu_share``: each worker's part of that CPU. wrk opens its eight
connections at once and keeps them; which worker accepts each is a race
between the two, and on a busy machine the one running at that moment may
take all eight (a share of 0.0 / 1.0), leaving one core's worth of server.

Targets (issue 14): >= 1,000 req/s, p99 <= 20 ms, 0 errors; first request
<= 100 ms; RSS <= 120 MiB. wrk shares the machine's cores with the server.
Needs Debian's wrk (apt-get install wrk).
"""

from __future__ import annotations

import compileall
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from issuer.awarding.demo import run_demo  # noqa: E402
from tests.web.test_served import documented_gunicorn_command  # noqa: E402

TOTAL = 10_000
RATE_LIMITS = {"rate_limit_off": "off", "rate_limit_on": "1000000/minute"}
# wrk's Lua: POST the body; at the end print the latency percentiles and counts as one JSON line.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open(os.getenv("BODY"), "rb"); wrk.body = f:read("*a"); f:close()
done = function(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, ' ..
    '"non_2xx": %d, "socket_errors": %d}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _first_requests(port: int, body: bytes, ready: Path, deadline: float) -> float:
    while len(list(ready.iterdir())) < 2:
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn's workers did not start")
        time.sleep(0.01)
    times: list[float] = []

    def one() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start = time.perf_counter()
        connection.request("POST", "/api/verify", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["verified"], "first request failed"
        times.append(time.perf_counter() - start)
        connection.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return round(max(times) * 1000, 1)


def _wrk(port: int, body_path: Path, seconds: float, script: Path) -> dict:
    done = subprocess.run(["wrk", "-t1", "-c8", f"-d{seconds:g}s", "-s", str(script),
                           f"http://127.0.0.1:{port}/api/verify"], capture_output=True, text=True,
                          env={**os.environ, "BODY": str(body_path)}, check=True)
    result = json.loads(re.search(r"^RESULT (.*)$", done.stdout, re.M).group(1))
    result["per_s"] = round(result["requests"] / result["seconds"], 1)
    return {key: round(value, 1) if isinstance(value, float) else value for key, value in result.items()}


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return round(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024, 1)


def _serve(home: Path, folder: Path, body_path: Path, seconds: float, script: Path) -> dict:
    """One run of the README's command line on ``home``: first request, wrk, CPU, RSS."""
    command = documented_gunicorn_command()
    port = _free_port()
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    body = body_path.read_bytes()
    run = Path(tempfile.mkdtemp(dir=folder))
    ready = run / "ready"
    ready.mkdir()
    hooks = run / "hooks.py"
    hooks.write_text(f"def post_worker_init(worker):\n    open({str(ready)!r} + '/' + str(worker.pid), 'w').close()\n")
    env = {**os.environ, "BADGESMITH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", *command[:-1], "--config", str(hooks), "--log-level", "warning",
                               command[-1]], cwd=ROOT, env=env, start_new_session=True)
    try:
        first = _first_requests(port, body, ready, time.monotonic() + 60)
        workers = [int(pid) for pid in subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True,
                                                      text=True).stdout.split()]
        before = [_cpu_seconds([pid]) for pid in workers]
        load = _wrk(port, body_path, seconds, script)
        spent = [_cpu_seconds([pid]) - start for pid, start in zip(workers, before)]
        load["worker_cpu_ms_per_request"] = round(sum(spent) * 1000 / load["requests"], 2)
        load["worker_cpu_share"] = [round(part / sum(spent), 2) for part in spent] if sum(spent) else None
        served = load["requests"] + 2
        while served < TOTAL:
            served += _wrk(port, body_path, 2, script)["requests"]
        rss = [_rss_mib(pid) for pid in workers]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return {"first_request_ms": first, "wrk": load, "verifications": served, "worker_rss_mib": rss}


def main(seconds: float = 10) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("http_wrk.py: wrk is not installed (apt-get install wrk).")
    compileall.compile_dir(str(ROOT), quiet=2, rx=re.compile(r"/(\.venv|\.git|tests|node_modules|build)/"))
    results: dict = {"gunicorn": " ".join(documented_gunicorn_command())}
    with tempfile.TemporaryDirectory() as folder:
        demo = run_demo(Path(folder) / "inst", base_url="http://127.0.0.1:8000", echo=lambda _: None)
        body_path = next((demo.home / "out" / "storytime-early-literacy").glob("*.json"))
        script = Path(folder) / "post.lua"
        script.write_text(WRK_SCRIPT)
        settings = (demo.home / "badgesmith.toml").read_text()
        for name, rate_limit in RATE_LIMITS.items():
            (demo.home / "badgesmith.toml").write_text(settings + f'\n[web]\nrate_limit = "{rate_limit}"\n')
            results[name] = _serve(demo.home, Path(folder), body_path, seconds, script)
            results[name]["load_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(results))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10)
