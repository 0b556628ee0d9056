"""The repository layout promises users rely on."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_constructs_is_the_installed_library_not_a_local_package():
    import constructs

    assert "site-packages" in Path(constructs.__file__).parts
    assert not (REPO_ROOT / "constructs").exists()
    assert importlib.util.find_spec("constructs._jsii") is not None


def test_constructs_package_lives_in_inference_constructs():
    assert (REPO_ROOT / "inference_constructs" / "__init__.py").is_file()


def test_template_rules_and_aws_constraints_load_no_cdk():
    # aws_rules reads templates and botocore's models only: it must run where CDK is not loaded
    # (python -m aws_rules cdk.out), and a change that pulls CDK in would cost every call seconds.
    import subprocess
    import sys

    code = (
        "import sys, aws_rules.__main__, inference_constructs.service_models, inference_constructs.instance_types, "
        "inference_constructs.subscribers; print(sorted({'aws_cdk', 'jsii', 'constructs'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
