"""A group-sourced model validates only once the pipeline has resolved it (and only in the pipeline)."""

from __future__ import annotations

import json

import pytest

from inference_config.loader import ConfigError, load_environment
from inference_core.naming import RESOLVED_MODEL_PACKAGES_FILE

GROUP = "iris-models"
ARN = f"arn:aws:sagemaker:eu-west-1:111111111111:model-package/{GROUP}/7"
IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
ARTIFACT = "s3://ml-registry-artifacts-111111111111/iris/7/model.tar.gz"
CONFIG = f"""\
environment: dev
models:
  - name: iris
    image: {{framework: sklearn, version: "1.4-2"}}
    model_data: s3://placeholder/replaced-by-the-resolved-version.tar.gz
    model_package: {{group: {GROUP}}}
    realtime:
      instance_type: ml.m5.large
"""


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_text(CONFIG)
    return path


def test_the_resolved_version_its_artifact_and_image_replace_the_files(config_file):
    resolved = {GROUP: {"arn": ARN, "model_data": ARTIFACT, "image": IMAGE}}
    config = load_environment(config_file, base_dir=config_file.parent, pipeline=True, model_packages=resolved)
    (model,) = config.models
    assert model.model_package is not None and model.model_package.arn == ARN and model.model_package.group == GROUP
    assert model.model_data == ARTIFACT and model.image.uri == IMAGE


def test_an_unresolved_group_in_the_pipeline_says_how_to_resolve_it(config_file):
    with pytest.raises(ConfigError) as error:
        load_environment(config_file, base_dir=config_file.parent, pipeline=True)
    (problem,) = error.value.problems
    assert problem.startswith("dev.yaml:6: models[0].model_package: group 'iris-models' is not resolved")
    assert "python -m scripts.resolve_model_packages" in problem


def _pipeline_repository(tmp_path, *, enabled: bool):
    """A repository whose pipeline (enabled or not) delivers dev, whose iris comes from GROUP."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "dev.yaml").write_text(CONFIG)
    (config_dir / "pipeline.yaml").write_text(
        f"enabled: {str(enabled).lower()}\naccount: '111111111111'\nregion: eu-west-1\n"
        "source: {connection_arn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/"
        "00000000-0000-0000-0000-000000000000', repository: o/r, branch: main}\nstages:\n  - environment: dev\n"
    )
    return config_dir


def test_the_tests_load_the_versions_the_pipeline_resolved_before_make_test(tmp_path):
    # The pipeline's synth step writes the resolved versions, then runs `make test`: the tests'
    # configs must be the ones that deploy, or a group-sourced model fails the pipeline's tests.
    from tests.conftest import load_shipped_configs

    config_dir = _pipeline_repository(tmp_path, enabled=True)
    with pytest.raises(ConfigError, match="group 'iris-models' is not resolved"):
        load_shipped_configs(config_dir, tmp_path)
    (tmp_path / RESOLVED_MODEL_PACKAGES_FILE).write_text(
        json.dumps({GROUP: {"arn": ARN, "model_data": ARTIFACT, "image": IMAGE}})
    )
    (model,) = load_shipped_configs(config_dir, tmp_path)["dev"].models
    assert model.model_package is not None and model.model_package.arn == ARN and model.model_data == ARTIFACT


def test_without_an_enabled_pipeline_the_tests_refuse_a_group_as_the_synth_does(tmp_path):
    config_dir = _pipeline_repository(tmp_path, enabled=False)
    from tests.conftest import load_shipped_configs

    with pytest.raises(ConfigError, match=r"group 'iris-models': only the delivery pipeline resolves"):
        load_shipped_configs(config_dir, tmp_path)


def test_a_resolved_package_keeps_what_its_image_is_built_for(tmp_path):
    # The package names the image; the config still says it is a CUDA image, so the accelerator
    # check applies: a CUDA image on a CPU instance type is refused, resolved or not.
    path = tmp_path / "dev.yaml"
    path.write_text(
        CONFIG.replace('image: {framework: sklearn, version: "1.4-2"}', "image: {uri: x, accelerator: cuda}")
    )
    resolved = {GROUP: {"arn": ARN, "model_data": ARTIFACT, "image": IMAGE}}
    with pytest.raises(ConfigError, match="built for cuda and needs NVIDIA GPUs"):
        load_environment(path, base_dir=tmp_path, pipeline=True, model_packages=resolved)
