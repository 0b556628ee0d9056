"""The shipped app's cloud assembly, synthesized once per test run and shared by every pytest
worker on disk.

It is built the way ``cdk synth`` builds it: ``app.py`` in its own process, with cdk.json's
context (and the metadata keys the CDK CLI adds) in ``CDK_CONTEXT_JSON``. The directory is keyed
by a hash of every source file that goes into a synth, so an edit gives a new assembly and an
unchanged tree reuses the last one. The first process to need it builds it under a file lock;
the others wait for that lock and then read the files. Under pytest-xdist the controller starts
the build in a background thread as the session begins (see ``tests/conftest.py``), so it
overlaps with the workers starting up and running other tests.

Tests that only read templates (cfn-lint, checkov, the review bundle) use this; tests that need
the construct objects use the in-process ``synthesized`` fixture.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from inference_core.naming import RESOLVED_MODEL_PACKAGES_FILE

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE = REPO_ROOT / ".pytest_cache" / "assemblies"
SOURCES = (
    "app.py",
    "cdk.json",
    "package.json",
    "config",
    "inference_config",
    "inference_constructs",
    "inference_core",
    "inference_platform",
    "stacks",
)
MODEL_ARTIFACT = REPO_ROOT / "model_code" / "dist" / "model.tar.gz"
# What the CDK CLI adds to the context from cdk.json and its defaults.
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": False,
    "aws:cdk:bundling-stacks": ["**"],
}


def source_hash() -> str:
    digest = hashlib.sha256()
    digest.update(sys.executable.encode())
    # The model package versions the pipeline resolved (absent outside the pipeline) go in too.
    for name in (*SOURCES, RESOLVED_MODEL_PACKAGES_FILE):
        root = REPO_ROOT / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())  # none if absent
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    if MODEL_ARTIFACT.is_file():
        digest.update(MODEL_ARTIFACT.read_bytes())
    return digest.hexdigest()[:16]


def run_app(outdir: Path, **context: str) -> subprocess.CompletedProcess[str]:
    """``app.py`` in its own process, given its output directory and context as the CDK CLI gives them."""
    full_context = {**json.loads((REPO_ROOT / "cdk.json").read_text())["context"], **CLI_CONTEXT, **context}
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(full_context),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "app.py")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _synthesize(outdir: Path) -> None:
    resolved_file = RESOLVED_MODEL_PACKAGES_FILE
    resolved = REPO_ROOT / resolved_file
    result = run_app(outdir, **({"model_packages": resolved_file} if resolved.is_file() else {}))
    if result.returncode != 0:
        raise RuntimeError(f"app.py failed ({result.returncode}):\n{result.stderr[-5000:]}")


def shipped_assembly() -> Path:
    """The directory of the shipped app's assembly for the current sources (built if missing)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = source_hash()
    target = CACHE / f"shipped-{key}"
    with open(CACHE / "shipped.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "manifest.json").is_file():
            for stale in [*CACHE.glob("shipped-*"), *CACHE.glob("building-*")]:
                shutil.rmtree(stale, ignore_errors=True)
            building = Path(tempfile.mkdtemp(prefix="building-", dir=CACHE))
            try:
                _synthesize(building)
                building.rename(target)
            finally:
                shutil.rmtree(building, ignore_errors=True)
    return target


def stack_template(assembly: Path, stage: str, stack: str) -> dict:
    """The template of ``<stage>/<stack>`` (e.g. ``Dev``, ``ModelIris``) in an on-disk assembly,
    found by its display name in the stage's manifest (the file name carries a hash)."""
    stage_dir = assembly / f"assembly-{stage}"
    artifacts = json.loads((stage_dir / "manifest.json").read_text())["artifacts"]
    (template_file,) = [
        artifact["properties"]["templateFile"]
        for artifact in artifacts.values()
        if artifact["type"] == "aws:cloudformation:stack" and artifact.get("displayName") == f"{stage}/{stack}"
    ]
    return json.loads((stage_dir / template_file).read_text())
