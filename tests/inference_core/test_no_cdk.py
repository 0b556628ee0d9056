"""The core and every client run without the CDK: importing them loads no aws_cdk, jsii or constructs.

Clients run where Node and the CDK are not installed (a laptop, the pipeline's smoke stage) and
should start fast; one jsii import costs seconds. Each module is imported in a fresh interpreter,
since the test session itself has the CDK loaded.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import inference_core
import inference_platform.commands
from tests.conftest import REPO_ROOT

CDK = ("aws_cdk", "jsii", "constructs")
CLIENT_MODULES = [
    "inference_platform.__main__",
    "inference_platform.async_client",
    "inference_platform.batch_client",
    "inference_platform.deployed",
    "inference_platform.smoke",
    *(
        f"inference_platform.commands.{module.name}"
        for module in pkgutil.iter_modules(inference_platform.commands.__path__)
    ),
]
CORE_MODULES = [
    "inference_core",
    *(f"inference_core.{module.name}" for module in pkgutil.iter_modules(inference_core.__path__)),
]


def cdk_modules_loaded_by(modules: list[str]) -> list[str]:
    code = (
        f"import importlib, sys\nfor name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(set({CDK!r}) & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return eval(result.stdout)


def test_the_module_lists_are_complete():
    assert len(CORE_MODULES) >= 6  # __init__, naming, outputs, batch, s3, iam
    assert "inference_platform.commands.smoke" in CLIENT_MODULES
    assert "inference_platform.commands.run_batch" in CLIENT_MODULES


def test_the_core_and_every_client_load_no_cdk():
    assert cdk_modules_loaded_by(CORE_MODULES + CLIENT_MODULES) == []


def test_the_check_sees_a_module_that_loads_cdk():
    # The check must be able to fail: a module that starts jsii shows up.
    assert set(cdk_modules_loaded_by(["inference_constructs.async_endpoint"])) == set(CDK)
