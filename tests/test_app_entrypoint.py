"""``app.py`` as the CDK CLI runs it: bad config fails before any template is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CDK_CONTEXT, REPO_ROOT


def run_app(outdir: Path, **context: str) -> subprocess.CompletedProcess[str]:
    # The CDK CLI hands cdk.json's context to the app the same way.
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps({**CDK_CONTEXT, **context})}
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "app.py")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.usefixtures("model_artifact")
def test_bad_config_exits_non_zero_with_every_problem_and_writes_nothing(tmp_path):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "dev.yaml").write_text("environment: dev\nmodels:\n  - name: Iris\n    image: {framework: sklearn}\n")
    (config_dir / "prod.yaml").write_text("environment: production\n")
    outdir = tmp_path / "cdk.out"
    result = run_app(outdir, config_dir=str(config_dir))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Invalid configuration" in result.stderr
    assert "dev.yaml:3: models[0].name: must be 2-32 characters: lowercase letters" in result.stderr
    assert "dev.yaml:4: models[0].image: give framework and version" in result.stderr
    assert "prod.yaml:1: environment: must match the file name: expected 'prod' (got 'production')" in result.stderr
    assert not outdir.exists() or not list(outdir.rglob("*.template.json"))


@pytest.mark.usefixtures("model_artifact")
def test_one_environment_can_be_selected(tmp_path):
    outdir = tmp_path / "cdk.out"
    result = run_app(outdir, environments="dev")
    assert result.returncode == 0, result.stderr
    assert sorted(path.parent.name for path in outdir.rglob("*.template.json")) == ["assembly-Dev"] * 3
