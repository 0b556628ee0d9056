"""Where one synth's time goes: phases, jsii round trips, and the code that causes them.

    .venv/bin/python bench/synth_profile.py [--top 25] [--json FILE] [app|empty]

Run it the way the CDK CLI runs the app: with ``CDK_OUTDIR`` and cdk.json's context in
``CDK_CONTEXT_JSON`` (``bench/synth_benchmark.py --profile`` does that). It synthesizes once
in this process and prints:

- the phases: starting jsii and importing aws-cdk-lib, importing the project (cdk-nag, the
  constructs, the stacks), construction, and ``app.synth()`` split into tree validation plus
  template writing (up to the root ``manifest.json``) and the validation plugins (the cdk-nag
  packs: from ``manifest.json`` to ``validation-report.json``, which CDK writes after them);
- for each phase, the jsii round trips (every request Python sends to the jsii Node.js
  process: create, invoke, get, set, callback completions...) and the time spent in them;
- the project call sites that cause the most round trips: the innermost frame in
  ``app.py``, ``stacks/`` or ``inference_constructs/``, with the jsii API it called.

Round trips are counted by wrapping ``jsii._kernel.providers.process._NodeProcess.send``,
the one method every request to Node goes through; the count is exact, the time includes
jsii's own (de)serialization on the Python side. Python work inside a callback from Node
(a construct's ``validate``) is not counted as round-trip time.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_DIRS = tuple(str(REPO_ROOT / part) for part in ("inference_constructs", "stacks", "inference_platform"))
APP_FILE = str(REPO_ROOT / "app.py")


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    round_trips: int = 0
    round_trip_seconds: float = 0.0


@dataclass
class Profile:
    phases: dict[str, Phase] = field(default_factory=dict)
    current: str = "start"
    by_kind: collections.Counter[str] = field(default_factory=collections.Counter)
    by_site: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    site_seconds: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    callbacks: int = 0
    callback_seconds: float = 0.0
    callback_depth: int = 0
    # Round trips made by Python code that Node called back (construct validations): with the
    # callbacks themselves, what per-construct Python hooks cost. (Each callback also costs one
    # completion round trip, whose time is Node carrying on with synth, so it is not counted.)
    callback_round_trips: int = 0
    callback_round_trip_seconds: float = 0.0

    def phase(self, name: str) -> Phase:
        return self.phases.setdefault(name, Phase(name))


PROFILE = Profile()


def _project_frame(frame: FrameType | None) -> str:
    """``file:function`` of the innermost frame in the project's own code."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(PROJECT_DIRS) or filename == APP_FILE:
            return f"{os.path.relpath(filename, REPO_ROOT)}:{frame.f_code.co_name}"
        frame = frame.f_back
    return "(aws-cdk-lib / jsii itself)"


def _api(request: Any) -> str:
    """What a request asks Node for: a class to create, a method, a property."""
    kind = type(request).__name__.removesuffix("Request")
    if hasattr(request, "fqn") and getattr(request, "fqn", None):
        target = request.fqn
        if hasattr(request, "method"):
            target += f".{request.method}"
        elif hasattr(request, "property"):
            target += f".{request.property}"
        return f"{kind} {target}"
    if hasattr(request, "method"):
        return f"{kind} .{request.method}()"
    if hasattr(request, "property"):
        return f"{kind} .{request.property}"
    return kind


def install() -> None:
    """Wrap jsii's one send method and its callback handler; call before importing aws_cdk."""
    from jsii import _kernel
    from jsii._kernel.providers import process

    original_send = process._NodeProcess.send
    original_callback = _kernel._handle_callback

    def send(self: Any, request: Any, response_type: Any) -> Any:
        start = time.perf_counter()
        try:
            return original_send(self, request, response_type)
        finally:
            elapsed = time.perf_counter() - start
            phase = PROFILE.phase(PROFILE.current)
            phase.round_trips += 1
            phase.round_trip_seconds += elapsed
            api = _api(getattr(request, "complete", request))
            PROFILE.by_kind[api.split(" ", 1)[0]] += 1
            site = (_project_frame(sys._getframe(1)), api)
            PROFILE.by_site[site] += 1
            PROFILE.site_seconds[site] += elapsed
            if PROFILE.callback_depth:
                PROFILE.callback_round_trips += 1
                PROFILE.callback_round_trip_seconds += elapsed

    def handle_callback(kernel: Any, callback: Any) -> Any:
        start = time.perf_counter()
        PROFILE.callback_depth += 1
        try:
            return original_callback(kernel, callback)
        finally:
            PROFILE.callback_depth -= 1
            PROFILE.callbacks += 1
            PROFILE.callback_seconds += time.perf_counter() - start

    process._NodeProcess.send = send  # type: ignore[method-assign]
    _kernel._handle_callback = handle_callback


class _Timer:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        PROFILE.current = self.name
        self.start = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        PROFILE.phase(self.name).seconds += time.perf_counter() - self.start


def _mtime(path: Path) -> float | None:
    return path.stat().st_mtime if path.exists() else None


def profile_app() -> int:
    with _Timer("start jsii, import aws-cdk-lib"):
        import aws_cdk  # noqa: F401

    with _Timer("import project (cdk-nag, constructs, stacks)"):
        sys.path.insert(0, str(REPO_ROOT))
        import app as app_module

    synth_marks: dict[str, float] = {}
    original_register = app_module.register_compliance_checks
    original_synthesize = app_module.synthesize

    def register(app: Any) -> None:
        PROFILE.phase("construction").seconds += time.perf_counter() - synth_marks["main"]
        PROFILE.current = "register nag packs"
        start = time.perf_counter()
        original_register(app)
        PROFILE.phase("register nag packs").seconds += time.perf_counter() - start

    def synthesize(app: Any) -> list[str]:
        PROFILE.current = "synth: prepare, validate tree, write templates"
        synth_marks["synth"], synth_marks["synth_wall"] = time.perf_counter(), time.time()
        problems = original_synthesize(app)
        synth_marks["end"], synth_marks["end_wall"] = time.perf_counter(), time.time()
        return problems

    app_module.register_compliance_checks = register
    app_module.synthesize = synthesize
    PROFILE.current = "construction"
    synth_marks["main"] = time.perf_counter()
    code = app_module.main()
    if "synth" not in synth_marks:
        return code or 1

    outdir = Path(os.environ.get("CDK_OUTDIR", "cdk.out"))
    written = _mtime(outdir / "manifest.json")
    report = _mtime(outdir / "validation-report.json")
    total = synth_marks["end"] - synth_marks["synth"]
    synth_phase = PROFILE.phase("synth: prepare, validate tree, write templates")
    if written is not None and report is not None and report >= written:
        # Wall-clock marks from the files CDK writes: templates and manifests first, then the
        # validation plugins run and write their report. Round trips cannot be split this way
        # (Python waits in one call), so they stay with the first part.
        nag = report - written
        synth_phase.seconds = written - synth_marks["synth_wall"]
        PROFILE.phase("synth: validation plugins (cdk-nag packs)").seconds = nag
        PROFILE.phase("synth: report, size checks").seconds = total - synth_phase.seconds - nag
    else:
        synth_phase.seconds = total
    return code


def profile_empty() -> int:
    with _Timer("start jsii, import aws-cdk-lib"):
        import aws_cdk as cdk
    with _Timer("synth"):
        cdk.App().synth()
    return 0


def print_report(total: float, top: int) -> None:
    print(f"{'phase':52s} {'wall s':>8s} {'round trips':>12s} {'in jsii s':>10s}")
    for phase in PROFILE.phases.values():
        print(f"{phase.name:52s} {phase.seconds:8.2f} {phase.round_trips:12,d} {phase.round_trip_seconds:10.2f}")
    trips = sum(phase.round_trips for phase in PROFILE.phases.values())
    trip_seconds = sum(phase.round_trip_seconds for phase in PROFILE.phases.values())
    print(f"{'total (process, from first import)':52s} {total:8.2f} {trips:12,d} {trip_seconds:10.2f}")
    print(
        f"callbacks from Node into Python (construct validations): {PROFILE.callbacks:,}, "
        f"{PROFILE.callback_seconds:.2f} s wall inside them, causing {PROFILE.callback_round_trips:,} round trips "
        f"({PROFILE.callback_round_trip_seconds:.2f} s) plus one completion each"
    )
    print("round trips by kind: " + ", ".join(f"{kind} {count:,}" for kind, count in PROFILE.by_kind.most_common()))
    print(f"\ntop {top} call sites by jsii round trips (innermost project frame, jsii API):")
    print(f"{'round trips':>11s} {'s':>6s}  site")
    for (site, api), count in PROFILE.by_site.most_common(top):
        print(f"{count:11,d} {PROFILE.site_seconds[(site, api)]:6.2f}  {site}  ->  {api}")
    per_site: collections.Counter[str] = collections.Counter()
    for (site, _), count in PROFILE.by_site.items():
        per_site[site] += count
    print(f"\ntop {top} project functions by jsii round trips (all APIs):")
    for site, count in per_site.most_common(top):
        print(f"{count:11,d}  {site}")
    per_file: collections.Counter[str] = collections.Counter()
    for site, count in per_site.items():
        per_file[site.split(":", 1)[0]] += count
    print("\nproject files by jsii round trips (what to rewrite first):")
    for file, count in per_file.most_common(top):
        print(f"{count:11,d}  {file}")


def main() -> None:
    start = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", choices=("app", "empty"), default="app")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    if "CDK_CONTEXT_JSON" not in os.environ:
        # Run on its own, without synth_benchmark.py: give the app what the CDK CLI would (cdk.json's
        # context and an output directory), or synth fails on a feature flag it depends on.
        from synth_benchmark import synth_env

        os.environ.update(synth_env(tempfile.mkdtemp(prefix="synth-profile-"), {}))
    install()
    code = profile_app() if args.target == "app" else profile_empty()
    total = time.perf_counter() - start
    print_report(total, args.top)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "total_seconds": total,
                    "phases": {
                        p.name: [p.seconds, p.round_trips, p.round_trip_seconds] for p in PROFILE.phases.values()
                    },
                    "round_trips": sum(p.round_trips for p in PROFILE.phases.values()),
                    "callbacks": PROFILE.callbacks,
                    "callback_seconds": PROFILE.callback_seconds,
                    "callback_round_trips": PROFILE.callback_round_trips,
                    "sites": [[site, api, count] for (site, api), count in PROFILE.by_site.most_common()],
                },
                indent=1,
            )
        )
    sys.exit(code)


if __name__ == "__main__":
    main()
