"""The registry of modes: each mode described once, recognised in templates by its own rule."""

from __future__ import annotations

import pytest

from inference_core import outputs
from inference_core.modes import (
    ASYNC,
    BATCH,
    COMPONENT,
    ENDPOINT_CONFIG,
    REALTIME,
    SERVERLESS,
    STATE_MACHINE,
    Invocation,
    named,
    recognise,
    registered,
)


def _config(**properties: object) -> dict[str, object]:
    return {"Type": ENDPOINT_CONFIG, "Properties": properties}


def test_each_endpoint_configuration_is_recognised_as_its_mode():
    instance = {"VariantName": "AllTraffic", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
    assert recognise(ENDPOINT_CONFIG, _config(ProductionVariants=[instance])) is REALTIME
    serverless = {"VariantName": "AllTraffic", "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
    assert recognise(ENDPOINT_CONFIG, _config(ProductionVariants=[serverless])) is SERVERLESS
    async_config = _config(ProductionVariants=[instance], AsyncInferenceConfig={"OutputConfig": {}})
    assert recognise(ENDPOINT_CONFIG, async_config) is ASYNC
    # A shared endpoint: a config-level execution role and variants that name no model.
    shared = _config(ProductionVariants=[instance], ExecutionRoleArn="arn:aws:iam::111111111111:role/shared")
    assert recognise(ENDPOINT_CONFIG, shared) is COMPONENT
    served = _config(ProductionVariants=[{**instance, "ModelName": "m"}], ExecutionRoleArn="arn:aws:iam::1:role/r")
    assert recognise(ENDPOINT_CONFIG, served) is REALTIME


def test_real_time_takes_only_what_the_other_modes_leave():
    # Real-time is first in the registry (and in every table), yet asked last.
    assert registered()[0] is REALTIME and REALTIME.catch_all
    assert not any(mode.catch_all for mode in registered() if mode is not REALTIME)


def test_a_state_machine_is_batch_only_when_it_runs_transform_jobs():
    transform = {
        "Properties": {
            "DefinitionString": {
                "Fn::Join": ["", ['{"Resource":"arn:', "aws", ':states:::sagemaker:createTransformJob.sync"}']]
            }
        }
    }
    assert recognise(STATE_MACHINE, transform) is BATCH
    assert recognise(STATE_MACHINE, {"Properties": {"DefinitionString": '{"StartAt":"Pass"}'}}) is None


def test_modes_describe_their_outputs_and_invocation():
    assert ASYNC.field == "async_" and ASYNC.config_key == "async" and REALTIME.field == "realtime"
    assert ASYNC.marker_output == outputs.ASYNC_ENDPOINT_NAME
    assert set(ASYNC.client_outputs) < set(ASYNC.outputs)
    assert {mode.invocation for mode in registered()} == set(Invocation)
    assert [mode.name for mode in registered() if mode.is_endpoint] == ["realtime", "serverless", "async", "component"]
    every_output = [key for mode in registered() for key in mode.outputs]
    assert len(every_output) == len(set(every_output)), "two modes publish the same output key"


def test_an_unknown_mode_is_named_with_the_known_ones():
    assert named("batch") is BATCH
    with pytest.raises(KeyError, match="no mode named 'toy'; the modes are realtime, serverless, async, batch"):
        named("toy")
