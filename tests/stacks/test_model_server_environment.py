"""Every SageMaker model in every shipped environment tells the image's model server the limits
of the mode it serves: without them the server cuts every invocation at 60 s, in every mode."""

from __future__ import annotations

import json

import pytest

from inference_constructs.inference_model import (
    MODEL_SERVER_TIMEOUT,
    MODEL_SERVER_WORKERS,
    REALTIME_INVOCATION_SECONDS,
)
from tests.conftest import ENVIRONMENTS, resources_of_type


def _mode_of_each_model(template: dict) -> dict[str, list[str]]:
    """Logical id of each AWS::SageMaker::Model -> the modes that serve it, read off the template."""
    modes: dict[str, list[str]] = {key: [] for key in resources_of_type(template, "AWS::SageMaker::Model")}
    for config in resources_of_type(template, "AWS::SageMaker::EndpointConfig").values():
        properties = config["Properties"]
        for variant in properties["ProductionVariants"] + properties.get("ShadowProductionVariants", []):
            model = variant["ModelName"]["Fn::GetAtt"][0]
            if "AsyncInferenceConfig" in properties:
                modes[model].append("async")
            elif "ServerlessConfig" in variant:
                modes[model].append("serverless")
            else:
                modes[model].append("realtime")
    # An inference component serves its model on the shared endpoint, with real-time's limits.
    for component in resources_of_type(template, "AWS::SageMaker::InferenceComponent").values():
        modes[component["Properties"]["Specification"]["ModelName"]["Fn::GetAtt"][0]].append("component")
    for machine in resources_of_type(template, "AWS::StepFunctions::StateMachine").values():
        definition = json.dumps(machine["Properties"]["DefinitionString"])
        for model in modes:
            if json.dumps({"Fn::GetAtt": [model, "ModelName"]}) in definition:
                modes[model].append("batch")
    return modes


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_model_serves_one_mode_with_that_modes_timeout_and_workers(synthesized, environment):
    config = synthesized.configs[environment]
    checked = 0
    for model_config in config.models:
        template = synthesized.template(synthesized.stages[environment].model_stacks[model_config.name])
        models = resources_of_type(template, "AWS::SageMaker::Model")
        for logical_id, modes in _mode_of_each_model(template).items():
            assert len(modes) == 1 or set(modes) == {"realtime"}, (logical_id, modes)
            properties = models[logical_id]["Properties"]
            # A serial pipeline's own container is the last of its Containers.
            own = properties["PrimaryContainer"] if "PrimaryContainer" in properties else properties["Containers"][-1]
            variables = own["Environment"]
            server = {key: variables.get(key) for key in (MODEL_SERVER_TIMEOUT, MODEL_SERVER_WORKERS)}
            if modes[0] == "async":
                settings = model_config.async_
                expected = {
                    MODEL_SERVER_TIMEOUT: str(settings.invocation_timeout_seconds),
                    MODEL_SERVER_WORKERS: str(settings.max_concurrent_invocations_per_instance),
                }
            elif modes[0] == "batch":
                settings = model_config.batch
                expected = {
                    MODEL_SERVER_TIMEOUT: str(settings.model_client.invocations_timeout_seconds),
                    MODEL_SERVER_WORKERS: str(settings.max_concurrent_transforms or 1),
                }
            else:  # real-time (and its shadow), serverless, component: SageMaker's 60 s, a worker per vCPU
                expected = {MODEL_SERVER_TIMEOUT: str(REALTIME_INVOCATION_SECONDS), MODEL_SERVER_WORKERS: None}
            assert server == expected, (environment, logical_id, modes)
            # The framework images' start-up `pip install` of code/ must build offline (network isolation).
            if model_config.image.is_framework:
                assert variables["PIP_NO_BUILD_ISOLATION"] == "false"
            else:
                assert "PIP_NO_BUILD_ISOLATION" not in variables
            checked += 1
    assert checked >= len(config.models)


def test_the_shipped_async_timeout_is_longer_than_the_real_time_limit(synthesized):
    """The case the variable exists for: dev's async model runs 900 s invocations, not 60 s ones."""
    assert any(
        model.async_ is not None and model.async_.invocation_timeout_seconds > REALTIME_INVOCATION_SECONDS
        for config in synthesized.configs.values()
        for model in config.models
    )
