"""``app.py`` as the CDK CLI runs it: bad config fails before any template is written.

One test runs it as a real process (as ``cdk synth`` does); the rest call its ``main`` in
process with an App carrying the same context, which is several times faster.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, new_app
from tests.shared_assembly import run_app


@dataclass
class Result:
    returncode: int
    stderr: str


def run_main(outdir: Path, **context: str) -> Result:
    """``app.main`` in this process, with cdk.json's context plus ``context``."""
    spec = importlib.util.spec_from_file_location("cdk_app_entrypoint_tests", REPO_ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = new_app(outdir)
    for key, value in context.items():
        app.node.set_context(key, value)
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        code = module.main(app)
    return Result(code, errors.getvalue())


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
    assert "dev.yaml:3: models[0].name: must be 2-32 characters: lowercase letters" in result.stderr
    assert "dev.yaml:4: models[0].image: give framework and version" in result.stderr
    assert "prod.yaml:1: environment: must match the file name: expected 'prod' (got 'production')" in result.stderr
    assert not outdir.exists() or not list(outdir.rglob("*.template.json"))


@pytest.mark.usefixtures("model_artifact")
def test_one_environment_can_be_selected(tmp_path):
    outdir = tmp_path / "cdk.out"
    result = run_main(outdir, environments="dev")
    assert result.returncode == 0, result.stderr
    # Dev's platform, shared endpoint, two model stacks and monitoring; no other environment.
    assert sorted(path.parent.name for path in outdir.rglob("*.template.json")) == ["assembly-Dev"] * 5


def _config_with_pipeline(tmp_path: Path, enabled: bool) -> Path:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    for path in (REPO_ROOT / "config").glob("*.yaml"):
        text = path.read_text()
        if path.name == "pipeline.yaml":
            text = text.replace("enabled: false", f"enabled: {str(enabled).lower()}")
        (config_dir / path.name).write_text(text)
    return config_dir


@pytest.mark.usefixtures("model_artifact")
def test_an_enabled_pipeline_replaces_the_stages_with_the_pipeline_stack(tmp_path):
    outdir = tmp_path / "cdk.out"
    result = run_main(outdir, config_dir=str(_config_with_pipeline(tmp_path, enabled=True)))
    assert result.returncode == 0, result.stderr
    artifacts = json.loads((outdir / "manifest.json").read_text())["artifacts"]
    stacks = [name for name, artifact in artifacts.items() if artifact["type"] == "aws:cloudformation:stack"]
    assert stacks == ["Pipeline"]
    assert artifacts["Pipeline"]["properties"]["stackName"] == "sagemaker-inference-pipeline"
    nested = sorted(name for name, artifact in artifacts.items() if artifact["type"] == "cdk:cloud-assembly")
    assert nested == ["assembly-Pipeline-Dev", "assembly-Pipeline-Prod", "assembly-Pipeline-Staging"]


@pytest.mark.usefixtures("model_artifact")
def test_selecting_environments_with_an_enabled_pipeline_is_refused(tmp_path):
    result = run_main(
        tmp_path / "cdk.out", config_dir=str(_config_with_pipeline(tmp_path, enabled=True)), environments="dev"
    )
    assert result.returncode == 1
    assert (
        "pipeline.yaml: the pipeline deploys its stages; drop -c environments or add -c pipeline=false" in result.stderr
    )


def test_the_pipeline_file_is_never_read_as_an_environment(tmp_path):
    config_dir = _config_with_pipeline(tmp_path, enabled=False)
    (config_dir / "pipeline.yaml").write_text((config_dir / "pipeline.yaml").read_text().replace("region:", "regio:"))
    result = run_main(tmp_path / "cdk.out", config_dir=str(config_dir))
    assert result.returncode == 1
    assert "pipeline.yaml:11: regio: unknown field" in result.stderr
    assert "models" not in result.stderr  # validated as the pipeline, not as an environment


def _config_with_a_package_group(tmp_path: Path) -> Path:
    config_dir = _config_with_pipeline(tmp_path, enabled=True)
    dev = config_dir / "dev.yaml"
    dev.write_text(
        dev.read_text().replace(
            "    model_data: model_code/dist/model.tar.gz\n",
            "    model_data: s3://placeholder/replaced.tar.gz\n    model_package: {group: iris-models}\n",
        )
    )
    return config_dir


@pytest.mark.usefixtures("model_artifact")
def test_the_pipeline_synthesizes_the_versions_its_synth_step_resolved(tmp_path):
    arn = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/iris-models/7"
    resolved = tmp_path / "model-packages.json"
    resolved.write_text(
        json.dumps(
            {
                "iris-models": {
                    "arn": arn,
                    "model_data": "s3://ml-registry-artifacts-111111111111/iris/7/model.tar.gz",
                    "image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3",
                }
            }
        )
    )
    outdir = tmp_path / "cdk.out"
    result = run_main(outdir, config_dir=str(_config_with_a_package_group(tmp_path)), model_packages=str(resolved))
    assert result.returncode == 0, result.stderr
    dev_models = [
        resource["Properties"]["PrimaryContainer"]
        for path in (outdir / "assembly-Pipeline-Dev").glob("*.template.json")
        for resource in json.loads(path.read_text())["Resources"].values()
        if resource["Type"] == "AWS::SageMaker::Model"
    ]
    assert dev_models and all(container["ModelPackageName"] == arn for container in dev_models)
    manifest = json.loads((outdir / "manifest.json").read_text())
    pipeline = json.loads((outdir / manifest["artifacts"]["Pipeline"]["properties"]["templateFile"]).read_text())
    rules = [resource for resource in pipeline["Resources"].values() if resource["Type"] == "AWS::Events::Rule"]
    assert [rule["Properties"]["EventPattern"]["detail"]["ModelPackageGroupName"] for rule in rules] == [
        ["iris-models"]
    ]


@pytest.mark.usefixtures("model_artifact")
def test_resolved_versions_that_are_not_json_are_refused(tmp_path):
    config_dir = _config_with_a_package_group(tmp_path)
    result = run_main(tmp_path / "cdk.out", config_dir=str(config_dir), model_packages="{not json")
    assert result.returncode == 1
    assert "pipeline.yaml: -c model_packages is not JSON (" in result.stderr
    unresolved = run_main(tmp_path / "cdk2.out", config_dir=str(config_dir))
    assert unresolved.returncode == 1
    assert "dev.yaml:" in unresolved.stderr and "group 'iris-models' is not resolved" in unresolved.stderr


@pytest.mark.usefixtures("model_artifact")
def test_the_construct_tree_is_written_only_when_asked_for(shipped_cdk_out, tmp_path):
    """`cdk synth` writes no tree.json by default (app.py: it costs memory and time at scale, and
    nothing reads it); `-c tree_metadata=true` brings it back for IDE explorers and diagram tools."""
    assert (shipped_cdk_out / "manifest.json").is_file()
    assert not (shipped_cdk_out / "tree.json").exists()
    outdir = tmp_path / "cdk.out"
    result = run_app(outdir, environments="dev", tree_metadata="true")
    assert result.returncode == 0, result.stderr[-3000:]
    tree = json.loads((outdir / "tree.json").read_text())
    assert "Dev" in tree["tree"]["children"]
