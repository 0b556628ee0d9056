"""Synth and test cost, measured in one run on this machine. Prints figures; asserts nothing.

    .venv/bin/python bench/synth_benchmark.py [--repeats 3] [--fleets 10,50,100] [--skip-make-test]

Measures, each as the median of ``--repeats`` runs of a fresh process (the way `cdk synth`
runs the app):

- the floor: an empty CDK app (import, App(), synth);
- the shipped three-environment app (app.py with cdk.json's context);
- generated fleets of N models in each of three environments, every model serving every
  mode the shipped dev config uses (copies of its first model);
- the whole `make test`, once set up;

and the peak memory (resident set of the app process and its jsii Node.js child together).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ENVIRONMENTS = ("dev", "staging", "prod")
EMPTY_APP = "import aws_cdk as cdk; cdk.App().synth()"


@dataclass
class Measurement:
    seconds: float
    peak_megabytes: float
    largest_template: tuple[int, str] = (0, "")


def _tree_rss_kilobytes(root: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/status") as status:
                line = next((line for line in status if line.startswith("VmRSS:")), "VmRSS: 0 kB")
        except (OSError, StopIteration, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
        rss[int(entry)] = int(line.split()[1])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run(command: list[str], env: dict[str, str], cwd: Path = REPO_ROOT) -> Measurement:
    """Run ``command`` to completion, sampling the process tree's memory every 50 ms."""
    peak = 0
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, _tree_rss_kilobytes(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate(timeout=3600)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{stderr.decode()[-3000:]}")
    return Measurement(elapsed, peak / 1024)


def median(measurements: list[Measurement]) -> Measurement:
    return Measurement(
        statistics.median(m.seconds for m in measurements),
        max(m.peak_megabytes for m in measurements),
        max(m.largest_template for m in measurements),
    )


def largest_template(outdir: str) -> tuple[int, str]:
    """Size in bytes and name of the biggest template written."""
    sizes = [(path.stat().st_size, path.name) for path in Path(outdir).rglob("*.template.json")]
    return max(sizes, default=(0, ""))


def synth_env(outdir: str, context: dict[str, object]) -> dict[str, str]:
    """The environment the CDK CLI gives the app: output directory and context as JSON."""
    base_context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return {
        **os.environ,
        "CDK_OUTDIR": outdir,
        "CDK_CONTEXT_JSON": json.dumps({**base_context, **context}),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }


def measure_synth(command: list[str], repeats: int, context: dict[str, object] | None = None) -> Measurement:
    results = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as outdir:
            result = run(command, synth_env(outdir, context or {}))
            result.largest_template = largest_template(outdir)
            results.append(result)
    return median(results)


def write_fleet(directory: Path, models: int) -> None:
    """Three environment files, each with ``models`` copies of the shipped dev config's first model."""
    for environment in ENVIRONMENTS:
        shipped = yaml.safe_load((REPO_ROOT / "config" / f"{environment}.yaml").read_text())
        template = shipped["models"][0]
        fleet = {**shipped, "models": [{**template, "name": f"model{index:03d}"} for index in range(models)]}
        (directory / f"{environment}.yaml").write_text(yaml.safe_dump(fleet, sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fleets", default="10,50,100")
    parser.add_argument("--skip-make-test", action="store_true")
    args = parser.parse_args()
    fleets = [int(size) for size in args.fleets.split(",") if size]

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    app = [PYTHON, str(REPO_ROOT / "app.py")]
    floor = measure_synth([PYTHON, "-c", EMPTY_APP], args.repeats)
    print(f"floor (empty app)            {floor.seconds:7.2f} s  {floor.peak_megabytes:7.0f} MB  1.00x")
    shipped = measure_synth(app, args.repeats)
    print(
        f"shipped app (3 environments) {shipped.seconds:7.2f} s  {shipped.peak_megabytes:7.0f} MB  "
        f"{shipped.seconds / floor.seconds:.2f}x floor  largest template {shipped.largest_template[0]:,} bytes"
    )
    validated = measure_synth(app, args.repeats, {"builtin_validation": "true"})
    print(
        f"  with built-in validation   {validated.seconds:7.2f} s  {validated.peak_megabytes:7.0f} MB  "
        f"{validated.seconds / floor.seconds:.2f}x floor (opt-in: -c builtin_validation=true)"
    )

    fleet_results: dict[int, Measurement] = {}
    for size in fleets:
        with tempfile.TemporaryDirectory() as config_dir:
            write_fleet(Path(config_dir), size)
            repeats = 1 if size >= 50 else args.repeats
            fleet_results[size] = measure_synth(app, repeats, {"config_dir": config_dir})
        result = fleet_results[size]
        print(
            f"fleet {size:3d} models x 3 envs     {result.seconds:7.2f} s  {result.peak_megabytes:7.0f} MB  "
            f"{result.seconds / floor.seconds:.2f}x floor  largest template {result.largest_template[0]:,} bytes "
            f"({result.largest_template[1]})"
        )
    if len(fleets) >= 2:
        small, large = min(fleets), max(fleets)
        ratio = fleet_results[large].seconds / fleet_results[small].seconds
        marginal = (fleet_results[large].seconds - fleet_results[small].seconds) / ((large - small) * len(ENVIRONMENTS))
        print(f"fleet {large} / fleet {small}: {ratio:.2f}x (linear would be {large / small:.1f}x)")
        print(f"marginal cost per model stack: {marginal * 1000:.0f} ms")

    if not args.skip_make_test:
        test = run(["make", "test"], {**os.environ})
        print(f"make test (set up)           {test.seconds:7.2f} s  {test.peak_megabytes:7.0f} MB")


if __name__ == "__main__":
    main()
