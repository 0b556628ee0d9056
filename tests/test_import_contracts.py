"""The layering rules, enforced by import-linter's contracts (pyproject.toml, [tool.importlinter]).

The core imports nothing of ours and no CDK; clients import no CDK, config, construct or stack;
constructs import no config, stack, client or app; stacks import no client and not app.py.
Skipped only where the tool is not installed (it is pinned in requirements.txt).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

# The venv's own script first (make test runs .venv/bin/python without activating the venv).
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
pytestmark = pytest.mark.skipif(
    LINT_IMPORTS is None,
    reason="import-linter is not installed (lint-imports not found): add import-linter to requirements.txt",
)
PACKAGES = (
    "inference_core",
    "inference_config",
    "inference_platform",
    "inference_constructs",
    "stacks",
    "review_bundle",
    "aws_rules",
)


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS is not None
    # The packages are found on PYTHONPATH; grimp reads their source, nothing is imported.
    environment = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=root, env=environment, capture_output=True, text=True, check=False
    )


def test_every_contract_is_kept():
    result = lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_a_broken_layer_fails_the_contracts(tmp_path):
    # The contracts must be able to fail: a copy of the code with four violations breaks each contract.
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path)
    for module, line in (
        ("inference_core/naming.py", "import aws_cdk"),
        ("inference_platform/smoke.py", "import inference_constructs.async_endpoint"),
        ("stacks/limits.py", "import app"),
        ("inference_constructs/log_retention.py", "import inference_config.schema"),
    ):
        path = tmp_path / module
        path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Contracts: 0 kept, 4 broken." in result.stdout, result.stdout
    assert "inference_core.naming -> aws_cdk" in result.stdout
    assert "inference_platform.smoke -> inference_constructs.async_endpoint" in result.stdout
    assert "stacks.limits -> app" in result.stdout
    assert "inference_constructs.log_retention -> inference_config.schema" in result.stdout
