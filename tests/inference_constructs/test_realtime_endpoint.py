from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from inference_constructs.errors import InvalidPropsError
from inference_constructs.realtime_endpoint import RealtimeEndpoint, RealtimeSettings
from tests.inference_constructs.helpers import new_key, new_model, new_stack

AUTOSCALED = {
    "instance_type": "ml.m5.large",
    "initial_instance_count": 2,
    "autoscaling": {
        "min_capacity": 2,
        "max_capacity": 6,
        "target_invocations_per_instance": 150,
        "scale_in_cooldown_seconds": 600,
        "scale_out_cooldown_seconds": 30,
        "target_cpu_utilization_percent": 70,
        "scheduled_actions": [
            {"name": "night", "schedule": "cron(0 20 * * ? *)", "time_zone": "Europe/Dublin", "max_capacity": 2}
        ],
    },
}


def build(model_artifact, settings, endpoint_name="test-iris-realtime"):
    stack = new_stack()
    key = new_key(stack)
    model = new_model(stack, key, model_artifact)
    endpoint = RealtimeEndpoint(
        stack, "Realtime", model=model, encryption_key=key, endpoint_name=endpoint_name, settings=settings
    )
    return stack, endpoint


@pytest.fixture(scope="module")
def autoscaled(model_artifact):
    stack, endpoint = build(model_artifact, AUTOSCALED)
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(role)
    return endpoint, Template.from_stack(stack)


def test_endpoint_config_is_encrypted_with_platform_key_and_names_are_generated(autoscaled):
    _, template = autoscaled
    template.resource_count_is("AWS::SageMaker::EndpointConfig", 1)
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 2,
                    "InitialVariantWeight": 1,
                    "ModelName": {"Fn::GetAtt": [Match.string_like_regexp("^Model"), "ModelName"]},
                }
            ],
        },
    )
    config = next(iter(template.find_resources("AWS::SageMaker::EndpointConfig").values()))
    assert "EndpointConfigName" not in config["Properties"]


def test_endpoint_has_stable_name_and_keeps_autoscaled_capacity(autoscaled):
    endpoint, template = autoscaled
    template.resource_count_is("AWS::SageMaker::Endpoint", 1)
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "EndpointName": "test-iris-realtime",
            "EndpointConfigName": {
                "Fn::GetAtt": [Match.string_like_regexp("^RealtimeEndpointConfig"), "EndpointConfigName"]
            },
            "RetainAllVariantProperties": True,
        },
    )
    assert endpoint.endpoint_name == "test-iris-realtime"


def test_scalable_target_bounds_and_service_linked_role(autoscaled):
    _, template = autoscaled
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 1)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "ServiceNamespace": "sagemaker",
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "ResourceId": "endpoint/test-iris-realtime/variant/AllTraffic",
            "MinCapacity": 2,
            "MaxCapacity": 6,
            "RoleARN": Match.object_like(
                {
                    "Fn::Join": Match.array_with(
                        [
                            Match.array_with(
                                [Match.string_like_regexp("AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")]
                            )
                        ]
                    )
                }
            ),
            "ScheduledActions": [
                Match.object_like(
                    {
                        "Schedule": "cron(0 20 * * ? *)",
                        "Timezone": "Europe/Dublin",
                        "ScalableTargetAction": {"MaxCapacity": 2},
                    }
                )
            ],
        },
    )
    # The scaling target waits for the endpoint it scales.
    target = next(iter(template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").values()))
    assert any(dep.startswith("RealtimeEndpoint") for dep in target["DependsOn"])
    # No scaling role of our own: the service-linked one is used.
    template.resource_count_is("AWS::IAM::Role", 2)  # model execution role + the test's caller


def test_target_tracking_on_invocations_and_cpu(autoscaled):
    _, template = autoscaled
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 2)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                "TargetValue": 150,
                "ScaleInCooldown": 600,
                "ScaleOutCooldown": 30,
            },
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "CustomizedMetricSpecification": Match.object_like(
                        {
                            "MetricName": "CPUUtilization",
                            "Namespace": "/aws/sagemaker/Endpoints",
                            "Dimensions": Match.array_with([{"Name": "EndpointName", "Value": "test-iris-realtime"}]),
                        }
                    ),
                    "TargetValue": 70,
                }
            )
        },
    )


def test_grant_invoke_is_scoped_to_this_endpoint(autoscaled):
    _, template = autoscaled
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("^Caller")}],
            "PolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": "sagemaker:InvokeEndpoint",
                            "Resource": {"Fn::Join": ["", Match.array_with([":endpoint/test-iris-realtime"])]},
                        }
                    )
                ]
            },
        },
    )


def test_metrics_use_endpoint_and_variant_dimensions(autoscaled):
    endpoint, _ = autoscaled
    latency = endpoint.metric_model_latency()
    assert latency.metric_name == "ModelLatency" and latency.statistic == "p99"
    assert latency.dimensions == {"EndpointName": "test-iris-realtime", "VariantName": "AllTraffic"}
    assert endpoint.metric_invocation_5xx_errors().statistic == "Sum"
    assert endpoint.metric_cpu_utilization().namespace == "/aws/sagemaker/Endpoints"


def test_fixed_capacity_endpoint_has_no_scaling_and_does_not_retain(model_artifact):
    stack, _ = build(model_artifact, {"instance_type": "ml.t2.medium"})
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    endpoint = next(iter(template.find_resources("AWS::SageMaker::Endpoint").values()))
    assert "RetainAllVariantProperties" not in endpoint["Properties"]
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {"ProductionVariants": [Match.object_like({"InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"})]},
    )


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"instance_type": "ml.m5.larg"}, "unknown instance size 'larg'"),
        ({"instance_type": "ml.zz9.large"}, "unknown instance family 'zz9'"),
        ({"instance_type": "m5.large"}, "ml.<family>.<size>"),
        ({"instance_type": "ml.m5.large", "initial_instance_count": 0}, "greater than or equal to 1"),
        (
            {
                "instance_type": "ml.m5.large",
                "autoscaling": {"min_capacity": 5, "max_capacity": 2, "target_invocations_per_instance": 10},
            },
            "min_capacity (5) is above max_capacity (2)",
        ),
        (
            {
                "instance_type": "ml.m5.large",
                "initial_instance_count": 9,
                "autoscaling": {"min_capacity": 1, "max_capacity": 2, "target_invocations_per_instance": 10},
            },
            "must lie within autoscaling",
        ),
        (
            {
                "instance_type": "ml.m5.large",
                "autoscaling": {
                    "min_capacity": 1,
                    "max_capacity": 2,
                    "target_invocations_per_instance": 10,
                    "scheduled_actions": [{"name": "x", "schedule": "every night"}],
                },
            },
            "expected cron(...)",
        ),
        (
            {"instance_type": "ml.m5.large", "instance_count": 2},
            "settings.instance_count: unknown field; allowed fields: instance_type, initial_instance_count",
        ),
    ],
)
def test_invalid_settings_are_rejected_with_the_field_named(model_artifact, settings, expected):
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, settings)
    assert expected in str(raised.value)
    assert "Test/Realtime" in str(raised.value)
    assert "  - settings" in str(raised.value)


def test_bad_endpoint_name_and_bad_settings_are_reported_together(model_artifact):
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, {"instance_type": "ml.nope.large"}, endpoint_name="bad_name!")
    assert len(raised.value.problems) == 2


def test_settings_are_immutable():
    settings = RealtimeSettings(instance_type="ml.m5.large")
    with pytest.raises(Exception, match="frozen"):
        settings.initial_instance_count = 3  # type: ignore[misc]
