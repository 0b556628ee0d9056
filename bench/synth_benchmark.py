"""Synth and test cost against issue 16's targets, measured in one run. Prints figures; asserts nothing.

    .venv/bin/python bench/synth_benchmark.py [--repeats 3] [--fleets 10,50,100] [--skip-make-test] [--profile]

Every synth is a fresh process run the way `cdk synth` runs the app: same interpreter, an
empty output directory in ``CDK_OUTDIR``, and in ``CDK_CONTEXT_JSON`` cdk.json's context plus
the keys the CDK CLI adds from cdk.json (path and asset metadata on, version reporting off).
Each figure is the median of ``--repeats`` runs (one for fleets of 50 models or more), and the
runs being compared are interleaved (floor, app, floor, app, ...) so that a change in the
machine's load hits both sides. Measured:

- the floor: an empty CDK app (``import aws_cdk; App().synth()``) with CDK's built-in
  CloudFormation validation off (``CDK_VALIDATION=false``), as the shipped app runs;
- the shipped app (app.py, every environment in config/), against that floor;
- a replay of the shipped templates at one jsii call per resource, mapping and output
  (``bench/replay_app.py``, no cdk-nag): what no construct design writing these templates can
  go below, so the distance between it and the shipped app is what construction costs;
- the same empty app and app.py with built-in validation on (``-c builtin_validation=true``),
  against each other: the opt-in costs, compared like for like;
- generated fleets of N models in each of three environments, every model serving every
  mode the shipped dev config uses (copies of its first model), each fleet's replay, and the
  marginal cost of one more model stack, ours and the replay's;
- the whole ``make test``, once set up;

with the peak memory (resident set of the app process and its jsii Node.js child together,
sampled every 50 ms), the machine, and its load average before and after each part (the
machine may be shared: the load says how much). Each figure is printed next to its target
from issue 16. ``--profile`` also prints ``bench/synth_profile.py``'s phase table and the call
sites that cause the most jsii round trips, and ``bench/node_profile.py``'s split of the jsii
Node.js process's time (waiting for Python, loading modules, cdk-nag, ...), for the empty app and
the shipped app.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
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
# The environments a generated fleet fills, each with copies of its first model (iris, in every
# mode); config/examples.yaml's models need artefacts of your own and are not copied.
FLEET_ENVIRONMENTS = ("dev", "staging", "prod")
EMPTY_APP = "import aws_cdk as cdk; cdk.App().synth()"
# What the CDK CLI adds to the app's context from cdk.json and its defaults (path metadata is
# what puts ``aws:cdk:path`` into every resource's Metadata).
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": False,
    "aws:cdk:bundling-stacks": ["**"],
}
# Issue 16's targets (on 2 cores).
TARGET_FLOOR_RATIO = 3.0
TARGET_MARGINAL_MS = 120.0
TARGET_MAKE_TEST_S = 60.0
TARGET_FLEET_PEAK_MB = 1.5 * 1024
TARGET_FLEET_SIZE = 100


@dataclass
class Measurement:
    seconds: float
    peak_megabytes: float
    largest_template: tuple[int, str] = (0, "")
    spread: tuple[float, float] = (0.0, 0.0)
    # CPU seconds (user + system) of the process and every descendant it waited for (jsii's
    # Node.js child included): less sensitive than wall time to other work on a shared machine.
    cpu_seconds: float = 0.0


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
    cpu_before = children_cpu()
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
    return Measurement(elapsed, peak / 1024, cpu_seconds=children_cpu() - cpu_before)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median(measurements: list[Measurement]) -> Measurement:
    """Median time (with the fastest and slowest run), highest peak memory, largest template."""
    return Measurement(
        statistics.median(m.seconds for m in measurements),
        max(m.peak_megabytes for m in measurements),
        max(m.largest_template for m in measurements),
        (min(m.seconds for m in measurements), max(m.seconds for m in measurements)),
        statistics.median(m.cpu_seconds for m in measurements),
    )


def largest_template(outdir: str) -> tuple[int, str]:
    """Size in bytes and name of the biggest template written."""
    sizes = [(path.stat().st_size, path.name) for path in Path(outdir).rglob("*.template.json")]
    return max(sizes, default=(0, ""))


def synth_env(outdir: str, context: dict[str, object], validation: bool = False) -> dict[str, str]:
    """The environment the CDK CLI gives the app: output directory and context as JSON."""
    base_context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    env = {
        **os.environ,
        "CDK_OUTDIR": outdir,
        "CDK_CONTEXT_JSON": json.dumps({**base_context, **CLI_CONTEXT, **context}),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    env.pop("CDK_VALIDATION", None)
    if not validation:
        # What the floor needs; the app turns validation off itself (app.py), so this changes
        # nothing for it, and both sides of the comparison run with the same environment.
        env["CDK_VALIDATION"] = "false"
    return env


@dataclass(frozen=True)
class Synth:
    label: str
    command: list[str]
    context: dict[str, object]
    validation: bool = False


def synth_once(synth: Synth) -> Measurement:
    with tempfile.TemporaryDirectory() as outdir:
        result = run(synth.command, synth_env(outdir, synth.context, synth.validation))
        result.largest_template = largest_template(outdir)
    return result


def measure_interleaved(synths: list[Synth], repeats: int) -> dict[str, Measurement]:
    """Run each synth ``repeats`` times, round-robin, and take medians."""
    results: dict[str, list[Measurement]] = {synth.label: [] for synth in synths}
    for _ in range(repeats):
        for synth in synths:
            results[synth.label].append(synth_once(synth))
    return {label: median(measurements) for label, measurements in results.items()}


def write_fleet(directory: Path, models: int) -> None:
    """Three environment files, each with ``models`` copies of the shipped dev config's first model."""
    for environment in FLEET_ENVIRONMENTS:
        shipped = yaml.safe_load((REPO_ROOT / "config" / f"{environment}.yaml").read_text())
        template = shipped["models"][0]
        fleet = {**shipped, "models": [{**template, "name": f"model{index:03d}"} for index in range(models)]}
        (directory / f"{environment}.yaml").write_text(yaml.safe_dump(fleet, sort_keys=False))


def write_assembly(command: list[str], context: dict[str, object]) -> tempfile.TemporaryDirectory[str]:
    """Synthesize once, unmeasured, into a directory the caller cleans up: what a replay reads."""
    directory = tempfile.TemporaryDirectory(prefix="assembly-")
    environment = synth_env(directory.name, context)
    subprocess.run(command, env=environment, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    return directory


def replay_command(assembly: str) -> list[str]:
    return [PYTHON, str(REPO_ROOT / "bench" / "replay_app.py"), assembly]


def load() -> str:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return f"load {one}/{five}/{fifteen}"


def describe_machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")
    )
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return (
        f"machine: {cpu}, nproc {os.cpu_count()}, {memory_kb / 1024 / 1024:.0f} GiB, {platform.platform()}, "
        f"Python {platform.python_version()}, Node.js {node}; {load()} (1/5/15 min) at start"
    )


def row(label: str, result: Measurement, against: Measurement | None = None, note: str = "") -> None:
    ratio = f"{result.seconds / against.seconds:5.2f}x" if against else "      "
    cpu_ratio = f"{result.cpu_seconds / against.cpu_seconds:5.2f}x" if against else "      "
    low, high = result.spread
    print(
        f"{label:44s} {result.seconds:7.2f} s ({low:.2f}-{high:.2f})  {ratio}  cpu {result.cpu_seconds:6.2f} s "
        f"{cpu_ratio}  {result.peak_megabytes:6.0f} MB  {note}"
    )


def marginal(results: dict[int, Measurement], fleets: list[int], label: str) -> float:
    """Print and return the wall milliseconds one more model stack costs, from the smallest to the largest fleet."""
    small, large = min(fleets), max(fleets)
    stacks = (large - small) * len(FLEET_ENVIRONMENTS)
    wall_ms = (results[large].seconds - results[small].seconds) / stacks * 1000
    cpu_ms = (results[large].cpu_seconds - results[small].cpu_seconds) / stacks * 1000
    print(
        f"marginal cost per model stack, {label} (fleet {small} to {large}): {wall_ms:.0f} ms wall, {cpu_ms:.0f} ms cpu"
    )
    return wall_ms


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def profile(context: dict[str, object]) -> None:
    """The phase table and top call sites, then where Node's time goes, for the empty and the shipped app."""
    for target in ("empty", "app"):
        with tempfile.TemporaryDirectory() as outdir:
            print(f"\n--- profile: {target} ({load()}) ---", flush=True)
            subprocess.run(
                [PYTHON, str(REPO_ROOT / "bench" / "synth_profile.py"), target],
                cwd=REPO_ROOT,
                env=synth_env(outdir, context),
                check=True,
            )
            subprocess.run([PYTHON, str(REPO_ROOT / "bench" / "node_profile.py"), target], cwd=REPO_ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fleets", default="10,50,100", help="comma-separated fleet sizes; empty for none")
    parser.add_argument("--skip-make-test", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also print phases and jsii round trips per call site")
    args = parser.parse_args()
    fleets = [int(size) for size in args.fleets.split(",") if size]

    print(describe_machine(), flush=True)
    print(f"{'what':44s} {'wall':>9s} {'(min-max)':11s}  ratio  {'cpu':>10s}  ratio  {'peak':>9s}")
    empty = [PYTHON, "-c", EMPTY_APP]
    app = [PYTHON, str(REPO_ROOT / "app.py")]
    before = load()
    # The shipped templates, for the replay (bench/replay_app.py): the lower bound of any design.
    shipped_assembly = write_assembly(app, {})
    replay = replay_command(shipped_assembly.name)
    figures = measure_interleaved(
        [
            Synth("floor", empty, {}),
            Synth("shipped", app, {}),
            Synth("replay", replay, {}),
            Synth("floor+validation", empty, {}, validation=True),
            Synth("shipped+validation", app, {"builtin_validation": "true"}, validation=True),
        ],
        args.repeats,
    )
    shipped_assembly.cleanup()
    floor, shipped = figures["floor"], figures["shipped"]
    row("floor: empty app, validation off", floor, floor, "the floor")
    row(
        "shipped app, every environment in config/",
        shipped,
        floor,
        f"target <= {TARGET_FLOOR_RATIO:.0f}x floor: {verdict(shipped.seconds <= TARGET_FLOOR_RATIO * floor.seconds)}; "
        f"largest template {shipped.largest_template[0]:,} bytes",
    )
    row(
        "replay: shipped templates, 1 call/element",
        figures["replay"],
        floor,
        "no cdk-nag; the floor of any construct design for these templates (bench/replay_app.py)",
    )
    validated_floor = figures["floor+validation"]
    row("empty app, built-in validation on", validated_floor, floor, "(what validation alone costs)")
    row(
        "shipped app, built-in validation on (opt-in)",
        figures["shipped+validation"],
        validated_floor,
        "vs the empty app with validation on",
    )
    print(f"  ({before} before, {load()} after these {args.repeats * 5} runs)", flush=True)

    fleet_results: dict[int, Measurement] = {}
    replay_results: dict[int, Measurement] = {}
    for size in fleets:
        with tempfile.TemporaryDirectory() as config_dir:
            write_fleet(Path(config_dir), size)
            repeats = 1 if size >= 50 else args.repeats
            fleet_results[size] = measure_interleaved([Synth("fleet", app, {"config_dir": config_dir})], repeats)[
                "fleet"
            ]
            assembly = write_assembly(app, {"config_dir": config_dir})
        replay_results[size] = measure_interleaved([Synth("replay", replay_command(assembly.name), {})], repeats)[
            "replay"
        ]
        assembly.cleanup()
        result = fleet_results[size]
        note = f"largest template {result.largest_template[0]:,} bytes ({result.largest_template[1]}); {load()}"
        if size >= TARGET_FLEET_SIZE:
            ok = result.peak_megabytes <= TARGET_FLEET_PEAK_MB
            note = f"peak target <= {TARGET_FLEET_PEAK_MB:,.0f} MB: {verdict(ok)}; " + note
        row(f"fleet: {size} models x 3 environments", result, floor, note)
        row("replay of that fleet, 1 call/element", replay_results[size], floor, "no cdk-nag")
    marginal_ms = None
    if len(fleets) >= 2:
        marginal_ms = marginal(fleet_results, fleets, "shipped constructs")
        print(f"  target <= {TARGET_MARGINAL_MS:.0f} ms: {verdict(marginal_ms <= TARGET_MARGINAL_MS)}")
        marginal(replay_results, fleets, "replay, the floor of any design")

    test = None
    if not args.skip_make_test:
        before = load()
        test = run(["make", "test"], {**os.environ})
        print(
            f"make test (set up)                           {test.seconds:7.2f} s  {test.peak_megabytes:6.0f} MB  "
            f"target <= {TARGET_MAKE_TEST_S:.0f} s: {verdict(test.seconds <= TARGET_MAKE_TEST_S)}  "
            f"({before} before, {load()} after)"
        )

    print("\ntargets (issue 16):")
    print(
        f"  shipped app <= {TARGET_FLOOR_RATIO:.0f}x the validation-off floor: "
        f"{shipped.seconds / floor.seconds:.2f}x  {verdict(shipped.seconds <= TARGET_FLOOR_RATIO * floor.seconds)} "
        f"(cpu time: {shipped.cpu_seconds / floor.cpu_seconds:.2f}x)"
    )
    print(
        f"  marginal cost <= {TARGET_MARGINAL_MS:.0f} ms per model stack: "
        + (
            f"{marginal_ms:.0f} ms  {verdict(marginal_ms <= TARGET_MARGINAL_MS)}"
            if marginal_ms is not None
            else "not measured"
        )
    )
    print(
        f"  make test <= {TARGET_MAKE_TEST_S:.0f} s: "
        + (f"{test.seconds:.1f} s  {verdict(test.seconds <= TARGET_MAKE_TEST_S)}" if test else "not measured")
    )
    big = fleet_results.get(TARGET_FLEET_SIZE)
    print(
        f"  {TARGET_FLEET_SIZE}-model synth peak memory <= {TARGET_FLEET_PEAK_MB / 1024:.1f} GB: "
        + (
            f"{big.peak_megabytes:,.0f} MB  {verdict(big.peak_megabytes <= TARGET_FLEET_PEAK_MB)}"
            if big
            else f"not measured (no {TARGET_FLEET_SIZE}-model fleet in --fleets)"
        )
    )
    print(f"  machine {load()} at the end; nproc {os.cpu_count()}")

    if args.profile:
        profile({})


if __name__ == "__main__":
    main()
