"""Load benchmark of AWS's serving stack on our model: latency percentiles and throughput by concurrency.

    python bench/load_local_server.py [--artifact model_code/dist/model.tar.gz] [--workers N]
                                      [--concurrency 1,4,16] [--requests 6000] [--max-seconds 30] [--rows 1]

Starts the scikit-learn image's serving stack (``model_code.serving.launcher`` in
``.venv-serving``: sagemaker-containers, gunicorn with gevent workers, as in the image) on a
free loopback port with a real-time model's settings (60 s timeout), sends
CSV invocations (one record each by default) from 1, 4 and 16 concurrent clients, prints p50/p99 latency and
requests per second per level, then the autoscaling target the peak implies:

    target_invocations_per_instance = peak requests/s x 60 x safety factor (0.5)

It prints figures and asserts nothing: speed is measured here, never in a timed test. Every
level is bounded by a request count and a time limit, traffic stays on 127.0.0.1, and the
server is stopped at the end. Results for this repository are kept in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere as a script

from model_code.build import DEFAULT_OUTPUT
from model_code.serving.process import HOST, SERVING_PYTHON, LocalServer

SAFETY_FACTOR = 0.5  # AWS load-testing guidance: scale out at half the measured peak
RECORD = b"5.1,3.5,1.4,0.2\n"
HEADERS = {"Content-Type": "text/csv", "Accept": "text/csv"}
SERVING_VERSIONS = (
    "import sys; from importlib.metadata import version; "
    "print(', '.join(f'{name} {version(name)}' for name in sys.argv[1:]) + ', Python ' + sys.version.split()[0])"
)


@dataclass
class LevelResult:
    concurrency: int
    latencies: list[float]
    errors: int
    seconds: float

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, point: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[point - 1]


def _invoke(port: int, rows: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("POST", "/invocations", body=RECORD * rows, headers=HEADERS)
        response = connection.getresponse()
        return response.status == 200 and response.read() == b"setosa\n" * rows
    finally:
        connection.close()  # a new connection per request: the worst case for the server


def run_level(port: int, concurrency: int, requests: int, max_seconds: float, rows: int = 1) -> LevelResult:
    """Send up to ``requests`` invocations from ``concurrency`` clients, stopping at ``max_seconds``."""
    remaining = [requests]
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            try:
                ok = _invoke(port, rows)
            except OSError:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LevelResult(concurrency, latencies, errors[0], time.perf_counter() - started)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        cpu = names[0] if names else cpu
    names = ("sagemaker-containers", "gunicorn", "gevent", "Flask", "scikit-learn", "numpy")
    serving = subprocess.run(  # the server's own environment, not this one
        [str(SERVING_PYTHON), "-c", SERVING_VERSIONS, *names], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}; server: {serving}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server workers (default: CPUs)")
    parser.add_argument("--concurrency", default="1,4,16", help="comma-separated client counts")
    parser.add_argument("--requests", type=int, default=6000, help="requests per level (upper bound)")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="time limit per level")
    parser.add_argument("--rows", type=int, default=1, help="CSV records per request (default: 1)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests before the first level")
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.concurrency.split(",")]

    print(f"machine: {machine()}")
    print(f"server: model_code.serving.launcher, SAGEMAKER_MODEL_SERVER_WORKERS={args.workers} (gevent workers)")
    print(
        f"request: {args.rows} CSV record(s), {len(RECORD) * args.rows} bytes, Accept text/csv; "
        "client: threads in one process, a new connection per request"
    )
    environment = {"SAGEMAKER_MODEL_SERVER_WORKERS": str(args.workers), "SAGEMAKER_MODEL_SERVER_TIMEOUT": "60"}
    with LocalServer(args.artifact, environment=environment) as server:
        run_level(server.port, min(4, max(levels)), args.warmup, args.max_seconds, args.rows)
        results = [run_level(server.port, level, args.requests, args.max_seconds, args.rows) for level in levels]

    print()
    print("| concurrent clients | requests | errors | p50 (ms) | p99 (ms) | requests/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(
            f"| {result.concurrency} | {len(result.latencies)} | {result.errors} | "
            f"{result.percentile(50) * 1000:.1f} | {result.percentile(99) * 1000:.1f} | "
            f"{result.requests_per_second:.0f} |"
        )
    peak = max(results, key=lambda result: result.requests_per_second)
    target = int(peak.requests_per_second * 60 * SAFETY_FACTOR)
    print()
    print(
        f"peak: {peak.requests_per_second:.0f} requests/s at {peak.concurrency} concurrent clients "
        f"(p99 {peak.percentile(99) * 1000:.1f} ms)"
    )
    print(
        f"target_invocations_per_instance = {peak.requests_per_second:.0f} x 60 x {SAFETY_FACTOR} "
        f"= {target} invocations per instance per minute"
    )
    return 1 if any(result.errors for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
