from __future__ import annotations

import pytest
from pydantic import ValidationError

from inference_constructs.deployment_policy import DeploymentPolicy
from tests.inference_constructs.helpers import new_stack


def rendered(policy: DeploymentPolicy, alarms: list[str] | None = None) -> dict:
    stack = new_stack()
    return stack.resolve(policy.to_cloudformation(alarms or ["five-xx", "latency"]))


def test_default_is_blue_green_all_at_once_with_rollback():
    config = rendered(DeploymentPolicy())
    assert config["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"] == {"type": "ALL_AT_ONCE"}
    assert config["autoRollbackConfiguration"] == {"alarms": [{"alarmName": "five-xx"}, {"alarmName": "latency"}]}


def test_canary_shifts_a_percentage_then_waits():
    config = rendered(DeploymentPolicy(strategy="canary", canary_percent=10, wait_interval_seconds=600))
    routing = config["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing == {
        "type": "CANARY",
        "canarySize": {"type": "CAPACITY_PERCENT", "value": 10},
        "waitIntervalInSeconds": 600,
    }
    assert config["blueGreenUpdatePolicy"]["maximumExecutionTimeoutInSeconds"] == 3600


def test_linear_shifts_in_steps():
    config = rendered(DeploymentPolicy(strategy="linear", linear_step_percent=25, termination_wait_seconds=120))
    policy = config["blueGreenUpdatePolicy"]
    assert policy["trafficRoutingConfiguration"]["type"] == "LINEAR"
    assert policy["trafficRoutingConfiguration"]["linearStepSize"] == {"type": "CAPACITY_PERCENT", "value": 25}
    assert policy["terminationWaitInSeconds"] == 120


def test_rolling_update_for_large_fleets():
    config = rendered(DeploymentPolicy(strategy="rolling", rolling_batch_percent=20, rollback_batch_percent=100))
    assert "blueGreenUpdatePolicy" not in config
    assert config["rollingUpdatePolicy"] == {
        "maximumBatchSize": {"type": "CAPACITY_PERCENT", "value": 20},
        "rollbackMaximumBatchSize": {"type": "CAPACITY_PERCENT", "value": 100},
        "waitIntervalInSeconds": 300,
        "maximumExecutionTimeoutInSeconds": 3600,
    }


def test_rollback_can_be_switched_off_explicitly():
    assert "autoRollbackConfiguration" not in rendered(DeploymentPolicy(auto_rollback=False))


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"strategy": "canary"}, "strategy 'canary' needs canary_percent"),
        ({"strategy": "linear"}, "strategy 'linear' needs linear_step_percent"),
        ({"strategy": "rolling"}, "strategy 'rolling' needs rolling_batch_percent"),
        ({"strategy": "all_at_once", "canary_percent": 10}, "canary_percent do not apply to strategy 'all_at_once'"),
        (
            {"strategy": "canary", "canary_percent": 10, "rolling_batch_percent": 10},
            "rolling_batch_percent do not apply",
        ),
        ({"strategy": "blue"}, "Input should be 'all_at_once', 'canary', 'linear' or 'rolling'"),
        ({"strategy": "canary", "canary_percent": 80}, "less than or equal to 50"),
        ({"maximum_execution_timeout_seconds": 60}, "greater than or equal to 600"),
        ({"wait_interval_seconds": 7200}, "less than or equal to 3600"),
    ],
)
def test_invalid_policies(props, expected):
    with pytest.raises(ValidationError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        DeploymentPolicy(**props)
