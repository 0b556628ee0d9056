"""InferenceComponent and SharedEndpoint: what they deploy, and what AWS would refuse, refused here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from pydantic import ValidationError

from inference_constructs.deployment_policy import DeploymentPolicy
from inference_constructs.endpoint import EndpointLogSettings
from inference_constructs.inference_component import (
    ComponentSettings,
    InferenceComponent,
    check_fits_endpoint,
    component_deployment_config,
)
from inference_constructs.instance_resources import resources_of
from inference_constructs.shared_endpoint import SharedEndpoint, SharedEndpointSettings
from tests.inference_constructs.helpers import new_key, new_model, new_stack

COMPUTE = {"cpu_cores": 0.5, "memory_mib": 1024}
TO_ZERO = {"min_capacity": 0, "max_capacity": 2, "target_invocations_per_copy": 100}


def shared(**overrides: Any) -> SharedEndpointSettings:
    props: dict[str, Any] = {
        "instance_type": "ml.m5.large",
        "managed_instance_scaling": {"min_instance_count": 0, "max_instance_count": 2},
    }
    props.update(overrides)
    return SharedEndpointSettings.model_validate(props)


def component(**overrides: Any) -> ComponentSettings:
    props: dict[str, Any] = {"compute": COMPUTE}
    props.update(overrides)
    return ComponentSettings.model_validate(props)


def build(settings: ComponentSettings, artifact: Path) -> tuple[InferenceComponent, dict[str, Any]]:
    stack = new_stack()
    key = new_key(stack)
    built = InferenceComponent(
        stack,
        "Component",
        component_name="dev-iris-component",
        endpoint_name="dev-inference-components",
        variant_name="AllTraffic",
        model=new_model(stack, key, artifact),
        settings=settings,
    )
    return built, Template.from_stack(stack).to_json()


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


# --- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("compute", "message"),
    [
        ({"cpu_cores": 0.1, "memory_mib": 1024}, "greater than or equal to 0.25"),
        ({"memory_mib": 64}, "greater than or equal to 128"),
        ({"memory_mib": 256, "accelerators": 0}, "greater than or equal to 1"),
        ({"memory_mib": 2048, "max_memory_mib": 1024}, r"max_memory_mib \(1024\) is below memory_mib \(2048\)"),
    ],
)
def test_compute_ranges_come_from_botocore(compute: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        component(compute=compute)


def test_copy_count_lies_within_the_autoscaling_bounds() -> None:
    with pytest.raises(
        ValidationError, match=r"copy_count \(3\) must lie within autoscaling min_capacity..max_capacity"
    ):
        component(copy_count=3, autoscaling=TO_ZERO)


@pytest.mark.parametrize("strategy", ["all_at_once", "canary", "linear"])
def test_only_rolling_updates_are_accepted(strategy: str) -> None:
    extra = {"canary": {"canary_percent": 10}, "linear": {"linear_step_percent": 10}}.get(strategy, {})
    with pytest.raises(ValidationError, match="inference components update only with strategy 'rolling'"):
        component(deployment={"strategy": strategy, **extra})


def test_a_rolling_batch_above_half_the_copies_is_refused() -> None:
    # "The value must be between 5% to 50% of the copy count" (InferenceComponentRollingUpdatePolicy).
    with pytest.raises(ValidationError, match="less than or equal to 50"):
        component(deployment={"strategy": "rolling", "rolling_batch_percent": 60})


# --- against the shared endpoint's instance type -----------------------------------------------


def test_instance_resources_follow_the_ec2_tables() -> None:
    m5 = resources_of("ml.m5.large")
    assert (m5.vcpus, m5.memory_mib, m5.accelerators) == (2, 8192, 0)
    g5 = resources_of("ml.g5.12xlarge")
    assert (g5.vcpus, g5.memory_mib, g5.accelerators) == (48, 196608, 4)
    # Unknown figures stay unknown rather than guessed.
    assert resources_of("ml.p3.2xlarge").memory_mib is None


@pytest.mark.parametrize(
    ("compute", "message"),
    [
        ({"cpu_cores": 4, "memory_mib": 1024}, "compute.cpu_cores 4 is more than the 2 vCPUs of one ml.m5.large"),
        ({"memory_mib": 9000}, "compute.memory_mib 9000 is more than the 8192 MiB of one ml.m5.large"),
        ({"memory_mib": 1024, "accelerators": 1}, "compute.accelerators 1 is more than the 0 accelerator devices"),
    ],
)
def test_a_copy_larger_than_one_instance_is_refused(compute: dict[str, Any], message: str) -> None:
    (problem,) = check_fits_endpoint(component(compute=compute), shared())
    assert message in problem


def test_a_copy_that_fits_passes() -> None:
    assert check_fits_endpoint(component(autoscaling=TO_ZERO), shared()) == []


def test_scale_to_zero_needs_an_endpoint_minimum_of_zero_instances() -> None:
    endpoint = shared(managed_instance_scaling={"min_instance_count": 1, "max_instance_count": 2})
    (problem,) = check_fits_endpoint(component(autoscaling=TO_ZERO), endpoint)
    assert "needs shared_endpoint.managed_instance_scaling.min_instance_count 0, but it is 1" in problem
    assert "endpoint-auto-scaling-zero-instances" in problem
    # Copies that never reach zero are fine on such an endpoint.
    assert check_fits_endpoint(component(autoscaling={**TO_ZERO, "min_capacity": 1}), endpoint) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"instance_type": "ml.t2.medium"}, "autoscaling is not supported on burstable instance type ml.t2.medium"),
        ({"routing_strategy": "ROUND_ROBIN"}, "must be one of LEAST_OUTSTANDING_REQUESTS, RANDOM"),
        ({"initial_instance_count": 3}, r"initial_instance_count \(3\) is above managed_instance_scaling"),
        (
            {"managed_instance_scaling": {"min_instance_count": 3, "max_instance_count": 2}},
            r"min_instance_count \(3\) is above max_instance_count \(2\)",
        ),
        (
            {"managed_instance_scaling": {"min_instance_count": -1, "max_instance_count": 2}},
            "greater than or equal to 0",
        ),
    ],
)
def test_shared_endpoint_settings_aws_refuses(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        shared(**overrides)


# --- the construct ---------------------------------------------------------------------------


def test_the_component_names_its_model_compute_copies_and_rolling_update(model_artifact: Path) -> None:
    _built, template = build(component(copy_count=2), model_artifact)
    (resource,) = of_type(template, "AWS::SageMaker::InferenceComponent").values()
    properties = resource["Properties"]
    assert properties["InferenceComponentName"] == "dev-iris-component"
    assert properties["EndpointName"] == "dev-inference-components"
    assert properties["VariantName"] == "AllTraffic"
    assert properties["Specification"]["ComputeResourceRequirements"] == {
        "NumberOfCpuCoresRequired": 0.5,
        "MinMemoryRequiredInMb": 1024,
    }
    (model_id,) = of_type(template, "AWS::SageMaker::Model")
    assert properties["Specification"]["ModelName"] == {"Fn::GetAtt": [model_id, "ModelName"]}
    assert properties["RuntimeConfig"] == {"CopyCount": 2}
    assert properties["DeploymentConfig"] == {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
            "WaitIntervalInSeconds": 300,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [
                {"AlarmName": "dev-iris-component-Invocation5XXErrors"},
                {"AlarmName": "dev-iris-component-ModelLatency"},
            ]
        },
    }
    # SageMaker checks the rollback alarms exist when it takes the deployment config.
    alarm_ids = set(of_type(template, "AWS::CloudWatch::Alarm"))
    assert alarm_ids <= set(resource["DependsOn"])
    # No scaling asked, none deployed.
    assert of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget") == {}


def test_the_models_role_may_describe_exactly_the_rollback_alarms(model_artifact: Path) -> None:
    _built, template = build(component(), model_artifact)
    statements = [
        statement
        for policy in of_type(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "cloudwatch:DescribeAlarms"
    ]
    (statement,) = statements
    text = json.dumps(statement["Resource"])
    assert "alarm:dev-iris-component-Invocation5XXErrors" in text and "alarm:dev-iris-component-ModelLatency" in text
    assert len(statement["Resource"]) == 2


def test_rollback_batches_and_no_auto_rollback_render() -> None:
    policy = DeploymentPolicy(
        strategy="rolling", rolling_batch_percent=20, rollback_batch_percent=100, auto_rollback=False
    )
    config = component_deployment_config(policy, [])
    assert config == {
        "rollingUpdatePolicy": {
            "maximumBatchSize": {"type": "CAPACITY_PERCENT", "value": 20},
            "waitIntervalInSeconds": 300,
            "maximumExecutionTimeoutInSeconds": 3600,
            "rollbackMaximumBatchSize": {"type": "CAPACITY_PERCENT", "value": 100},
        }
    }


def test_copies_scale_on_invocations_per_copy_and_wake_from_zero(model_artifact: Path) -> None:
    built, template = build(component(autoscaling=TO_ZERO), model_artifact)
    ((target_id, target),) = of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").items()
    assert target["Properties"] | {"RoleARN": None} == {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "inference-component/dev-iris-component",
        "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount",
        "MinCapacity": 0,
        "MaxCapacity": 2,
        "RoleARN": None,
    }
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in json.dumps(target["Properties"]["RoleARN"])
    # Registered only once the component exists.
    (component_id,) = of_type(template, "AWS::SageMaker::InferenceComponent")
    assert component_id in target["DependsOn"]
    policies = {
        policy["Properties"]["PolicyType"]: (policy_id, policy["Properties"])
        for policy_id, policy in of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy").items()
    }
    tracking = policies["TargetTrackingScaling"][1]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"
    }
    assert tracking["TargetValue"] == 100
    step_id, step = policies["StepScaling"]
    assert step["ScalingTargetId"] == {"Ref": target_id}
    assert step["StepScalingPolicyConfiguration"]["StepAdjustments"] == [
        {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}
    ]
    assert step["StepScalingPolicyConfiguration"]["AdjustmentType"] == "ChangeInCapacity"
    (wake,) = [
        alarm["Properties"]
        for alarm in of_type(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["MetricName"] == "NoCapacityInvocationFailures"
    ]
    assert wake["Namespace"] == "AWS/SageMaker"
    assert wake["Dimensions"] == [{"Name": "InferenceComponentName", "Value": "dev-iris-component"}]
    assert wake["AlarmActions"] == [{"Ref": step_id}]
    assert (wake["Threshold"], wake["ComparisonOperator"], wake["EvaluationPeriods"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
        1,
    )
    assert built.wake_from_zero is not None


def test_copies_that_never_reach_zero_have_no_wake_up(model_artifact: Path) -> None:
    built, template = build(component(autoscaling={**TO_ZERO, "min_capacity": 1}), model_artifact)
    types = {
        policy["Properties"]["PolicyType"]
        for policy in of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }
    assert types == {"TargetTrackingScaling"}
    assert built.wake_from_zero is None
    assert "NoCapacityInvocationFailures" not in json.dumps(template)


def test_the_shared_endpoint_config_has_no_model_and_scales_managed_instances() -> None:
    stack = new_stack()
    SharedEndpoint(
        stack,
        "Shared",
        endpoint_name="dev-inference-components",
        settings=shared(routing_strategy="RANDOM"),
        encryption_key=new_key(stack),
        logs=EndpointLogSettings(retention_days=30, retain_on_delete=False),
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ExecutionRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("SharedExecutionRole"), "Arn"]},
            "KmsKeyId": Match.any_value(),
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                    "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 2},
                    "RoutingConfig": {"RoutingStrategy": "RANDOM"},
                }
            ],
        },
    )
    config = next(iter(template.find_resources("AWS::SageMaker::EndpointConfig").values()))
    assert "ModelName" not in config["Properties"]["ProductionVariants"][0]
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint", {"EndpointName": "dev-inference-components", "RetainAllVariantProperties": True}
    )
    # The execution role may write the endpoint's and the components' logs, nothing broader.
    policy = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "log-group:/aws/sagemaker/InferenceComponents/*" in policy
    assert "s3:" not in policy
