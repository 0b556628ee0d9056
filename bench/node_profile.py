"""Where the jsii Node.js process spends a synth: V8's CPU profile, summed by what the time is for.

    .venv/bin/python bench/node_profile.py [app|empty|replay ASSEMBLY] [--keep DIR]

``bench/synth_profile.py`` counts what Python asks of Node; this shows what Node does with its
time. jsii starts Node as a relay process that spawns the kernel with the relay's own flags
(``process.execArgv``), so starting the relay with ``--cpu-prof`` (through ``JSII_NODE``, which
jsii runs instead of ``node``) profiles the kernel too. Each sample is put in the first category
its call stack matches:

- waiting for Python: the kernel blocked reading its next request (Python is working);
- loading JavaScript modules: ``require`` of aws-cdk-lib's modules (cdk-nag's rules load about
  forty of them), reading and compiling them;
- cdk-nag: the packs' rules, run as validation plugins during synth;
- jsii kernel: decoding requests, encoding answers, object references;
- garbage collection;
- aws-cdk-lib and constructs: everything else, the constructs' own work (construction and synth).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth_benchmark import EMPTY_APP, PYTHON, synth_env  # noqa: E402

CATEGORIES = (
    "waiting for Python",
    "loading JavaScript modules",
    "cdk-nag",
    "jsii kernel",
    "garbage collection",
    "aws-cdk-lib and constructs",
)


def category(stack: list[dict[str, Any]]) -> str:
    """The category of one sample, from its call stack (innermost frame first)."""
    innermost = stack[0]
    urls = [frame["url"] for frame in stack]
    if innermost["functionName"] == "read" and innermost["url"] == "" and any("program.js" in url for url in urls):
        return "waiting for Python"
    if innermost["functionName"] in ("(idle)", "(program)"):
        return "waiting for Python"
    if any(frame["functionName"] == "Module._load" for frame in stack):
        return "loading JavaScript modules"
    if any("/cdk-nag/" in url for url in urls):
        return "cdk-nag"
    if innermost["functionName"] == "(garbage collector)":
        return "garbage collection"
    if "program.js" in innermost["url"] or innermost["url"].startswith("node:"):
        return "jsii kernel"
    return "aws-cdk-lib and constructs"


def summarize(profile: dict[str, Any]) -> collections.Counter[str]:
    """Seconds per category over one ``.cpuprofile``."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}
    stacks: dict[int, str] = {}
    seconds: collections.Counter[str] = collections.Counter()
    for sample, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        if sample not in stacks:
            frames, node_id = [], sample
            while node_id is not None:
                frames.append(nodes[node_id]["callFrame"])
                node_id = parent.get(node_id)
            stacks[sample] = category(frames)
        seconds[stacks[sample]] += delta / 1e6
    return seconds


def profile_synth(command: list[str], directory: Path) -> Path:
    """Run ``command`` as cdk synth would, with the jsii kernel under V8's CPU profiler."""
    wrapper = directory / "node-with-cpu-profile"
    wrapper.write_text(f'#!/bin/sh\nexec node --cpu-prof --cpu-prof-dir="{directory}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    with tempfile.TemporaryDirectory() as outdir:
        environment = {**synth_env(outdir, {}), "JSII_NODE": str(wrapper)}
        subprocess.run(command, env=environment, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    # Two profiles: the relay (idle, forwarding) and the kernel (the larger one).
    return max(directory.glob("*.cpuprofile"), key=lambda path: path.stat().st_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", choices=("app", "empty", "replay"), default="app")
    parser.add_argument("assembly", nargs="?", help="for replay: an assembly the shipped app wrote")
    parser.add_argument("--keep", help="copy the kernel's .cpuprofile here (open it in Chrome's DevTools)")
    args = parser.parse_args()
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    commands = {
        "app": [PYTHON, str(REPO_ROOT / "app.py")],
        "empty": [PYTHON, "-c", EMPTY_APP],
        "replay": [PYTHON, str(REPO_ROOT / "bench" / "replay_app.py"), str(args.assembly)],
    }
    if args.target == "replay" and not args.assembly:
        parser.error("replay needs the assembly to replay, e.g. cdk.out")
    with tempfile.TemporaryDirectory() as directory:
        path = profile_synth(commands[args.target], Path(directory))
        seconds = summarize(json.loads(path.read_text()))
        if args.keep:
            shutil.copy(path, args.keep)
    total = sum(seconds.values())
    print(f"jsii kernel (Node.js) during a synth of {args.target}: {total:.2f} s sampled (profiling adds overhead)")
    for name in CATEGORIES:
        print(f"  {name:30s} {seconds[name]:6.2f} s  {seconds[name] / total:5.1%}")


if __name__ == "__main__":
    main()
