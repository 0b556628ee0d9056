"""Property-based tests: any valid config synthesizes clean; any invalid one stops at validation.

Valid configs are synthesized through ``app.main`` with the four cdk-nag packs (~0.5-3 s each),
so they get few examples; invalid ones stop before CDK builds anything, so they get many. The
examples are derandomized (a fixed seed, no example database): CI sees the same ones every run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference_config.loader import ConfigError, load_environment
from inference_constructs.instance_types import has_local_storage
from inference_core.modes import COMPONENT, registered
from inference_core.naming import shared_endpoint_name
from tests.conftest import REPO_ROOT, new_app
from tests.nag import stale_acknowledgements
from tests.strategies import (
    NETWORK_SHAPES,
    Config,
    Mutation,
    environment_configs,
    invalid_environment_configs,
)

# Three examples for each network shape: nine synths in all.
SYNTHESIZING = settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
VALIDATING = settings(max_examples=120, deadline=None, derandomize=True, database=None)
THROUGH_THE_APP = settings(max_examples=40, deadline=None, derandomize=True, database=None)


@pytest.fixture(scope="module")
def app_module():
    spec = importlib.util.spec_from_file_location("cdk_app_entrypoint_properties", REPO_ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config_path(directory: Path, config: Config) -> Path:
    """``<directory>/config/<environment>.yaml`` (a mutated, non-text environment gets a stand-in name)."""
    environment = config["environment"]
    return directory / "config" / f"{environment if isinstance(environment, str) else 'unnamed'}.yaml"


def _write(directory: Path, config: Config) -> Path:
    path = _config_path(directory, config)
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _run_app(app_module, directory: Path, config: Config):
    """``cdk synth`` in-process: returns (exit code, stderr, app, output directory)."""
    path = _write(directory, config)
    outdir = directory / "cdk.out"
    app = new_app(outdir)
    app.node.set_context("config_dir", str(path.parent))
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        exit_code = app_module.main(app)
    return exit_code, stderr.getvalue(), app, outdir


def _endpoint_modes(model: dict) -> set[str]:
    """The modes a drawn model block serves with an endpoint of its own (every registered mode but
    batch and inference components, which run on the environment's shared endpoint)."""
    return {
        mode.name
        for mode in registered()
        if mode.config_key in model and mode.is_endpoint and mode.name != COMPONENT.name
    }


@pytest.mark.usefixtures("model_artifact")
@pytest.mark.parametrize("network_shape", NETWORK_SHAPES)
@SYNTHESIZING
@given(data=st.data())
def test_valid_configs_synthesize_and_pass_the_four_nag_packs(app_module, network_shape, data):
    config = data.draw(environment_configs(network_shape), label="config")
    with tempfile.TemporaryDirectory() as directory:
        exit_code, stderr, app, outdir = _run_app(app_module, Path(directory), config)
        # main() synthesizes with the nag packs registered: any unacknowledged finding fails it.
        assert exit_code == 0, stderr
        assert not stale_acknowledgements(app)
        templates = [json.loads(path.read_text()) for path in outdir.rglob("*.template.json")]

    # Platform and monitoring stacks, one per model, and the shared endpoint's when components need it.
    assert len(templates) == 2 + len(config["models"]) + ("shared_endpoint" in config)
    resources = [resource for template in templates for resource in template["Resources"].values()]

    def of_type(resource_type: str) -> list[dict]:
        return [resource["Properties"] for resource in resources if resource["Type"] == resource_type]

    environment = config["environment"]
    served = {f"{environment}-{model['name']}-{mode}" for model in config["models"] for mode in _endpoint_modes(model)}
    shared = {shared_endpoint_name(environment)} if "shared_endpoint" in config else set()
    assert {endpoint["EndpointName"] for endpoint in of_type("AWS::SageMaker::Endpoint")} == served | shared
    for endpoint_config in of_type("AWS::SageMaker::EndpointConfig"):
        variants = endpoint_config["ProductionVariants"] + endpoint_config.get("ShadowProductionVariants", [])
        local = any(has_local_storage(v["InstanceType"]) for v in variants if "InstanceType" in v)
        # Every config carries the platform key, except where SageMaker refuses one (local NVMe storage).
        assert ("KmsKeyId" in endpoint_config) is not local
    # Endpoint log groups have literal names; a batch state machine's has a generated suffix.
    log_groups = {
        group["LogGroupName"]: group
        for group in of_type("AWS::Logs::LogGroup")
        if isinstance(group.get("LogGroupName"), str)
    }
    for name in served | shared:
        group = log_groups[f"/aws/sagemaker/Endpoints/{name}"]
        assert "KmsKeyId" in group and group["RetentionInDays"] == config["log_retention_days"]

    network = config.get("network")
    for model in of_type("AWS::SageMaker::Model"):
        serverless_copy = model["EnableNetworkIsolation"] is False
        # Only the serverless copy leaves isolation (and the VPC); every other model keeps both.
        assert ("VpcConfig" in model) == (network is not None and not serverless_copy)
    serverless_models = sum(1 for model in config["models"] if "serverless" in model)
    isolated = [model for model in of_type("AWS::SageMaker::Model") if model["EnableNetworkIsolation"]]
    assert len(of_type("AWS::SageMaker::Model")) - len(isolated) == serverless_models
    endpoints = of_type("AWS::EC2::VPCEndpoint")
    assert bool(endpoints) == bool(network and network["create_vpc_endpoints"])


def _assert_names_file_and_field(problems: list[str], file: str, mutation: Mutation) -> None:
    naming = [problem for problem in problems if problem.startswith(f"{file}:") and f" {mutation.field}: " in problem]
    assert naming, f"{mutation.kind} at {mutation.field} not reported; got {problems}"
    if mutation.kind == "unknown field":
        assert any("unknown field; allowed fields: " in problem for problem in naming), naming
    else:
        # Every message says what is allowed and shows what was given.
        assert any(" (got " in problem for problem in naming), naming


@pytest.mark.usefixtures("model_artifact")
@VALIDATING
@given(mutation=invalid_environment_configs())
def test_invalid_configs_fail_validation_naming_file_and_field(mutation):
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), mutation.config)
        with pytest.raises(ConfigError) as raised:
            load_environment(path, base_dir=REPO_ROOT)
    _assert_names_file_and_field(raised.value.problems, str(path), mutation)


@pytest.mark.usefixtures("model_artifact")
@THROUGH_THE_APP
@given(mutation=invalid_environment_configs())
def test_invalid_configs_stop_the_app_before_cdk_with_no_traceback_and_no_template(app_module, mutation):
    with tempfile.TemporaryDirectory() as directory:
        exit_code, stderr, _, outdir = _run_app(app_module, Path(directory), mutation.config)
        assert exit_code == 1
        assert stderr.startswith("Invalid configuration ("), stderr
        assert "Traceback" not in stderr and "jsii" not in stderr
        problems = [line.strip() for line in stderr.splitlines()[1:]]
        _assert_names_file_and_field(problems, str(_config_path(Path(directory), mutation.config)), mutation)
        assert not list(outdir.rglob("*.template.json"))
