"""A model served from a Model Registry package version: the container names the package, the
role reads exactly the package, its artifact and its image, and the app stays clean under the
four cdk-nag packs and cfn-lint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inference_config.loader import load_environment
from stacks.application import build_stages, register_compliance_checks
from tests.conftest import new_app, resources_of_type

ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/iris-models/3"
ARTIFACT = "s3://ml-registry-artifacts-111111111111/iris/3/model.tar.gz"
IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
CONFIG = f"""\
environment: dev
region: eu-west-1
models:
  - name: iris
    image: {{uri: {IMAGE}}}
    model_data: {ARTIFACT}
    model_package: {{arn: {ARN}}}
    realtime:
      instance_type: ml.m5.large
    serverless:
      memory_size_in_mb: 2048
      max_concurrency: 2
"""


@pytest.fixture(scope="module")
def synthesized_package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    repository = tmp_path_factory.mktemp("repository")
    (repository / "dev.yaml").write_text(CONFIG)
    config = load_environment(repository / "dev.yaml", base_dir=repository)
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = new_app(outdir)
    (stage,) = build_stages(app, [config], base_dir=str(repository))
    register_compliance_checks(app)
    assembly = app.synth()  # raises on any unacknowledged cdk-nag finding of the four packs
    nested = assembly.get_nested_assembly("assembly-Dev")
    template = nested.get_stack_by_name(stage.model_stacks["iris"].stack_name).template
    return outdir, template


def test_every_model_names_the_package_instead_of_an_image_and_artifact(synthesized_package):
    _, template = synthesized_package
    models = resources_of_type(template, "AWS::SageMaker::Model")
    assert len(models) == 2  # real-time and serverless
    for model in models.values():
        container = model["Properties"]["PrimaryContainer"]
        assert container["ModelPackageName"] == ARN
        assert "Image" not in container and "ModelDataUrl" not in container


def test_the_role_reads_exactly_the_package_its_artifact_and_its_image(synthesized_package):
    _, template = synthesized_package
    statements = [
        statement
        for policy in resources_of_type(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    describe = [s for s in statements if s["Action"] == "sagemaker:DescribeModelPackage"]
    assert describe and all(s["Resource"] == ARN for s in describe)
    reads = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert reads and all(
        json.dumps(s["Resource"]).count("ml-registry-artifacts-111111111111/iris/3/model.tar.gz") == 1 for s in reads
    )
    pulls = [
        s
        for s in statements
        if s["Action"] == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    ]
    assert pulls and all("repository/sagemaker-scikit-learn" in json.dumps(s["Resource"]) for s in pulls)
    assert not any("sagemaker:*" in json.dumps(s["Action"]) for s in statements)


def test_cfn_lint_finds_nothing_in_the_package_model(synthesized_package):
    outdir, _ = synthesized_package
    files = [str(path) for path in sorted(outdir.rglob("*Model*.template.json"))]
    assert files
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), "--format", "json", "--", *files], capture_output=True, text=True)
    errors = [m for m in json.loads(result.stdout or "[]") if m["Level"] == "Error"]
    assert not errors, errors


def test_the_review_bundle_says_which_model_version_the_environment_runs(synthesized_package, tmp_path):
    from review_bundle.bundle import write_bundle
    from review_bundle.cost import DEFAULT_PRICES

    outdir, _ = synthesized_package
    write_bundle(outdir, tmp_path / "review", DEFAULT_PRICES)
    index = (tmp_path / "review" / "index.md").read_text()
    assert "| iris (model package iris-models/3) |" in index
    summary = (tmp_path / "review" / "environments" / "dev.md").read_text()
    assert f"| Model package version | `{ARN}` |" in summary or f"| Model package version | {ARN} |" in summary
