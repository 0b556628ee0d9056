"""An autoscaled endpoint's instance type can change in one deploy.

SageMaker refuses UpdateEndpoint while a variant whose instance type changes (or that goes away)
is a registered scalable target (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html).
These tests pin the three parts that make the change deploy: the guard the endpoint waits for,
scalable targets keyed by instance type, and Application Auto Scaling resources that CloudFormation's
cleanup leaves alone. tests/e2e performs the update on the emulator, which refuses it like SageMaker.
"""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from inference_constructs.endpoint import scalable_target_id
from inference_constructs.scaling_guard import HANDLER_SOURCE, MAX_INLINE_CODE_BYTES, RESOURCE_TYPE, RUNTIME
from tests.inference_constructs import test_async_endpoint, test_realtime_endpoint

SCALING_RESOURCE_TYPES = ("AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy")


def _realtime(model_artifact, instance_type="ml.m5.large", autoscaled=True):
    settings = {**test_realtime_endpoint.AUTOSCALED, "instance_type": instance_type}
    if not autoscaled:
        settings.pop("autoscaling")
    stack, _ = test_realtime_endpoint.build(model_artifact, settings)
    return Template.from_stack(stack).to_json()


def _async(model_artifact, instance_type="ml.m5.large"):
    stack, _ = test_async_endpoint.build(
        model_artifact, {**test_async_endpoint.SCALE_TO_ZERO, "instance_type": instance_type}
    )
    return Template.from_stack(stack).to_json()


@pytest.fixture(scope="module")
def realtime(model_artifact):
    return _realtime(model_artifact), _realtime(model_artifact, "ml.c5.xlarge")


@pytest.fixture(scope="module")
def asynchronous(model_artifact):
    return _async(model_artifact), _async(model_artifact, "ml.c5.xlarge")


def _of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def _single(template: dict, resource_type: str) -> tuple[str, dict]:
    (item,) = _of_type(template, resource_type).items()
    return item


@pytest.mark.parametrize("mode", ["realtime", "asynchronous"])
def test_the_endpoint_waits_for_the_guard_that_knows_its_autoscaled_variant(mode, request):
    template, _ = request.getfixturevalue(mode)
    guard_id, guard = _single(template, RESOURCE_TYPE)
    _, endpoint = _single(template, "AWS::SageMaker::Endpoint")
    assert guard_id in endpoint["DependsOn"]
    assert guard["Properties"]["EndpointName"] == endpoint["Properties"]["EndpointName"]
    assert guard["Properties"]["AutoscaledVariants"] == {
        "AllTraffic": {"InstanceType": "ml.m5.large", "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}
    }


@pytest.mark.parametrize("mode", ["realtime", "asynchronous"])
def test_a_new_instance_type_is_a_new_scalable_target_with_new_policies(mode, request):
    before, after = request.getfixturevalue(mode)
    for resource_type in SCALING_RESOURCE_TYPES:
        old, new = set(_of_type(before, resource_type)), set(_of_type(after, resource_type))
        assert old and len(old) == len(new) and not old & new, f"{resource_type}: {sorted(old)} -> {sorted(new)}"
    (target_id,) = _of_type(after, SCALING_RESOURCE_TYPES[0])
    assert "ScalableTargetMlC5Xlarge" in target_id
    # Policy names follow the construct path, so the new policies never collide with the old ones.
    old_names = {p["Properties"]["PolicyName"] for p in _of_type(before, SCALING_RESOURCE_TYPES[1]).values()}
    new_names = {p["Properties"]["PolicyName"] for p in _of_type(after, SCALING_RESOURCE_TYPES[1]).values()}
    assert not old_names & new_names
    # ... and the guard learns the new type, so its update deregisters the old registration.
    _, guard = _single(after, RESOURCE_TYPE)
    assert guard["Properties"]["AutoscaledVariants"]["AllTraffic"]["InstanceType"] == "ml.c5.xlarge"


@pytest.mark.parametrize("mode", ["realtime", "asynchronous"])
def test_scaling_resources_are_retained_and_registered_after_the_endpoint(mode, request):
    template, _ = request.getfixturevalue(mode)
    endpoint_id, _ = _single(template, "AWS::SageMaker::Endpoint")
    for resource_type in SCALING_RESOURCE_TYPES:
        for logical_id, resource in _of_type(template, resource_type).items():
            assert resource.get("DeletionPolicy") == "Retain", logical_id
            assert resource.get("UpdateReplacePolicy") == "Retain", logical_id
    _, target = _single(template, SCALING_RESOURCE_TYPES[0])
    assert endpoint_id in target["DependsOn"]


def test_the_wake_from_zero_policy_belongs_to_the_target(asynchronous):
    template, _ = asynchronous
    target_id, _ = _single(template, SCALING_RESOURCE_TYPES[0])
    step = [
        (logical_id, policy)
        for logical_id, policy in _of_type(template, SCALING_RESOURCE_TYPES[1]).items()
        if policy["Properties"]["PolicyType"] == "StepScaling"
    ]
    assert len(step) == 1
    logical_id, policy = step[0]
    assert logical_id.startswith("AsyncScalableTargetMlM5LargeWakeFromZero")
    assert policy["Properties"]["ScalingTargetId"] == {"Ref": target_id}


def test_an_endpoint_without_autoscaling_has_a_guard_with_no_variants(model_artifact):
    """Dropping autoscaling is an update the guard must see: it deregisters the variant, which
    the retained target would otherwise keep scaling."""
    template = _realtime(model_artifact, autoscaled=False)
    assert not _of_type(template, SCALING_RESOURCE_TYPES[0])
    _, guard = _single(template, RESOURCE_TYPE)
    assert guard["Properties"]["AutoscaledVariants"] == {}


def test_the_function_runs_the_handler_inline_with_only_the_permissions_it_needs(realtime):
    template, _ = realtime
    _, function = _single(template, "AWS::Lambda::Function")
    assert function["Properties"]["Code"] == {"ZipFile": HANDLER_SOURCE}
    assert function["Properties"]["Runtime"] == RUNTIME.name
    assert len(HANDLER_SOURCE.encode()) <= MAX_INLINE_CODE_BYTES
    guard_policies = [
        policy
        for logical_id, policy in _of_type(template, "AWS::IAM::Policy").items()
        if logical_id.startswith("RealtimeScalingGuardRole")
    ]
    assert len(guard_policies) == 1
    statements = guard_policies[0]["Properties"]["PolicyDocument"]["Statement"]
    actions = {
        action
        for statement in statements
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "application-autoscaling:DeregisterScalableTarget",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
    }
    text = json.dumps(statements)
    assert ":scalable-target/*" in text
    assert ":alarm:TargetTracking-endpoint/test-iris-realtime/variant/*" in text
    assert all(statement["Effect"] == "Allow" and statement["Resource"] != "*" for statement in statements)


def test_the_guard_logs_to_its_own_encrypted_expiring_log_group(realtime):
    template, _ = realtime
    _, function = _single(template, "AWS::Lambda::Function")
    log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = template["Resources"][log_group_id]
    # The endpoint's key (the platform key in the stacks), as for the endpoint's own log group.
    (key_id,) = _of_type(template, "AWS::KMS::Key")
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert log_group["Properties"]["RetentionInDays"] == 365


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    [("ml.m5.large", "ScalableTargetMlM5Large"), ("ml.g4dn.xlarge", "ScalableTargetMlG4dnXlarge")],
)
def test_scalable_target_ids_carry_the_instance_type(instance_type, expected):
    assert scalable_target_id(instance_type) == expected
