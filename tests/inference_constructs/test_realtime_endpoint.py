from __future__ import annotations

import json
import re

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
            {"name": "night", "schedule": "cron(0 20 * * ? *)", "time_zone": "Europe/Dublin", "max_capacity": 2},
            {"name": "morning", "schedule": "cron(0 7 * * ? *)", "time_zone": "Europe/Dublin", "max_capacity": 6},
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
                ),
                Match.object_like({"Schedule": "cron(0 7 * * ? *)", "ScalableTargetAction": {"MaxCapacity": 6}}),
            ],
        },
    )
    # The scaling target waits for the endpoint it scales.
    target = next(iter(template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").values()))
    assert any(dep.startswith("RealtimeEndpoint") for dep in target["DependsOn"])
    # No scaling role of our own: the service-linked one is used. The third role is the scaling
    # guard's function's (tests/inference_constructs/test_scaling_guard.py).
    template.resource_count_is("AWS::IAM::Role", 3)  # model execution role + the test's caller + the guard


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
                    # 70% of the instance: CloudWatch counts 100% per vCPU, and ml.m5.large has 2.
                    "TargetValue": 140,
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
                            "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
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


def test_cpu_alarm_threshold_is_a_share_of_every_vcpu(guarded):
    endpoint, template = guarded
    (cpu,) = template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "CPUUtilization"}}
    ).values()
    vcpus = {"ml.m5.large": 2, "ml.m5.xlarge": 4}[endpoint.settings.instance_type]
    assert cpu["Properties"]["Threshold"] == endpoint.settings.alarms.cpu_utilization_percent * vcpus


@pytest.mark.parametrize("instance_type", ["ml.t2.medium", "ml.t2.xlarge"])
def test_autoscaling_a_burstable_instance_is_refused(model_artifact, instance_type):
    # Application Auto Scaling refuses to register T2/T3 variants; the stack would roll back.
    settings = {**AUTOSCALED, "instance_type": instance_type}
    with pytest.raises(
        InvalidPropsError, match=f"autoscaling is not supported on burstable instance type {instance_type}"
    ):
        build(model_artifact, settings)


def test_a_schedule_that_lowers_a_bound_without_restoring_it_is_refused(model_artifact):
    scaling = {**AUTOSCALED["autoscaling"], "scheduled_actions": [AUTOSCALED["autoscaling"]["scheduled_actions"][0]]}
    with pytest.raises(InvalidPropsError, match=r"scheduled actions \['night'\] change max_capacity from 6, and no "):
        build(model_artifact, {**AUTOSCALED, "autoscaling": scaling})


def test_a_schedule_that_raises_the_minimum_must_lower_it_again(model_artifact):
    action = {"name": "peak", "schedule": "cron(0 8 * * ? *)", "min_capacity": 4}
    scaling = {**AUTOSCALED["autoscaling"], "scheduled_actions": [action]}
    with pytest.raises(
        InvalidPropsError, match="change min_capacity from 2, and no scheduled action sets it back to 2"
    ):
        build(model_artifact, {**AUTOSCALED, "autoscaling": scaling})


def test_a_real_time_variant_is_never_scheduled_to_zero(model_artifact):
    actions = [
        {"name": "night", "schedule": "cron(0 20 * * ? *)", "min_capacity": 0},
        {"name": "morning", "schedule": "cron(0 7 * * ? *)", "min_capacity": 2},
    ]
    scaling = {**AUTOSCALED["autoscaling"], "scheduled_actions": actions}
    with pytest.raises(InvalidPropsError, match="cannot scale to zero instances"):
        build(model_artifact, {**AUTOSCALED, "autoscaling": scaling})


def test_more_datapoints_than_periods_is_refused_not_clamped(model_artifact):
    settings = {"instance_type": "ml.m5.large", "alarms": {"evaluation_periods": 2, "datapoints_to_alarm": 3}}
    with pytest.raises(InvalidPropsError, match=r"datapoints_to_alarm \(3\) must not exceed evaluation_periods \(2\)"):
        build(model_artifact, settings)


def test_an_x86_image_on_a_graviton_instance_is_refused(model_artifact):
    with pytest.raises(InvalidPropsError, match=r"ml\.c6g\.large runs arm64 images but the model's image is x86_64"):
        build(model_artifact, {"instance_type": "ml.c6g.large"})


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
        ({"instance_type": "ml.m5.larg"}, "did you mean ml.m5.large"),
        ({"instance_type": "ml.zz9.large"}, "'ml.zz9.large' is not an instance type SageMaker offers for hosting"),
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


# Deployment policy, alarms, data capture and shadow variants -------------------------------

GUARDED = {
    "instance_type": "ml.m5.large",
    "initial_instance_count": 2,
    "deployment": {"strategy": "canary", "canary_percent": 10, "wait_interval_seconds": 600},
    "alarms": {"model_latency_p99_milliseconds": 250, "invocation_5xx_errors": 3},
    "data_capture": {"sampling_percentage": 25, "capture": ["request"]},
    "shadow": {
        "model_data": "s3://my-bucket/iris/v2/model.tar.gz",
        "instance_type": "ml.m5.large",
        "traffic_percent": 50,
    },
}


@pytest.fixture(scope="module")
def guarded(model_artifact):
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sns as sns

    stack = new_stack()
    key = new_key(stack)
    model = new_model(stack, key, model_artifact)
    shadow = new_model(stack, key, model_artifact, id="Shadow", model_data="s3://my-bucket/iris/v2/model.tar.gz")
    endpoint = RealtimeEndpoint(
        stack,
        "Realtime",
        model=model,
        encryption_key=key,
        endpoint_name="test-iris-realtime",
        settings=GUARDED,
        alarm_topic=sns.Topic(stack, "AlarmTopic"),
        data_capture_bucket=s3.Bucket(stack, "Capture"),
        data_capture_prefix="test/iris/realtime/",
        shadow_model=shadow,
    )
    return endpoint, Template.from_stack(stack)


def test_rollback_alarms_named_in_the_deployment_config_are_the_constructs_own(guarded):
    endpoint, template = guarded
    resolved = template.to_json()["Resources"]
    endpoint_resource = next(r for r in resolved.values() if r["Type"] == "AWS::SageMaker::Endpoint")
    alarm_refs = endpoint_resource["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    referenced = {alarm["AlarmName"] for alarm in alarm_refs}
    # The names in the deployment config are the names of alarms this construct creates ...
    created = {r["Properties"]["AlarmName"]: r for r in resolved.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert referenced <= created.keys()
    assert {created[name]["Properties"]["MetricName"] for name in referenced} == {"Invocation5XXErrors", "ModelLatency"}
    # ... and the endpoint waits for them, since SageMaker checks they exist.
    stack = endpoint.node.scope
    own = {stack.get_logical_id(alarm.node.default_child) for alarm in endpoint.rollback_alarms}
    assert own <= set(endpoint_resource["DependsOn"])


def test_canary_policy_on_the_endpoint(guarded):
    _, template = guarded
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "DeploymentConfig": Match.object_like(
                {
                    "BlueGreenUpdatePolicy": Match.object_like(
                        {
                            "TrafficRoutingConfiguration": {
                                "Type": "CANARY",
                                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                                "WaitIntervalInSeconds": 600,
                            }
                        }
                    )
                }
            )
        },
    )


def test_alarms_cover_errors_latency_and_utilization_and_notify_the_topic(guarded):
    _, template = guarded
    template.resource_count_is("AWS::CloudWatch::Alarm", 6)
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    for alarm in alarms.values():
        properties = alarm["Properties"]
        assert len(properties["AlarmActions"]) == 1
        assert properties["AlarmActions"][0]["Ref"].startswith("AlarmTopic")
        assert properties["OKActions"] == properties["AlarmActions"]
    by_metric = {a["Properties"].get("MetricName", "4XX rate"): a["Properties"] for a in alarms.values()}
    assert by_metric["ModelLatency"]["Threshold"] == 250_000  # microseconds
    assert by_metric["ModelLatency"]["ExtendedStatistic"] == "p99"
    assert by_metric["Invocation5XXErrors"]["Threshold"] == 3
    assert by_metric["Invocation5XXErrors"]["TreatMissingData"] == "notBreaching"
    assert by_metric["CPUUtilization"]["TreatMissingData"] == "missing"
    assert by_metric["CPUUtilization"]["Namespace"] == "/aws/sagemaker/Endpoints"
    rate = by_metric["4XX rate"]
    assert rate["Metrics"][0]["Expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"


def test_execution_role_may_describe_only_the_rollback_alarms(guarded):
    endpoint, template = guarded
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "cloudwatch:DescribeAlarms"
    ]
    assert len(statements) == 1
    rendered = json.dumps(statements[0]["Resource"])
    assert len(statements[0]["Resource"]) == 2
    for key in ("Invocation5XXErrors", "ModelLatency"):
        assert f":alarm:{endpoint.alarm_names[key]}" in rendered


def test_data_capture_is_encrypted_under_the_model_prefix(guarded):
    _, template = guarded
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "DataCaptureConfig": {
                "EnableCapture": True,
                "InitialSamplingPercentage": 25,
                "DestinationS3Uri": Match.object_like({"Fn::Join": ["", Match.array_with(["/test/iris/realtime/"])]}),
                "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
                "CaptureOptions": [{"CaptureMode": "Input"}],
                "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
            }
        },
    )


def test_shadow_variant_mirrors_a_share_of_traffic_to_the_shadow_model(guarded):
    _, template = guarded
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ShadowProductionVariants": [
                {
                    "VariantName": "Shadow",
                    "ModelName": {"Fn::GetAtt": [Match.string_like_regexp("^Shadow"), "ModelName"]},
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                    "InitialVariantWeight": 0.5,
                }
            ]
        },
    )


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {**GUARDED, "deployment": {"strategy": "rolling", "rolling_batch_percent": 20}},
            "'rolling' is not supported on multi-variant (shadow or weighted) endpoints",
        ),
        (
            {"instance_type": "ml.inf1.xlarge", "deployment": {"strategy": "linear", "linear_step_percent": 10}},
            "not supported on Inf1 instances",
        ),
    ],
)
def test_deployment_policies_sagemaker_refuses(model_artifact, settings, expected):
    with pytest.raises(InvalidPropsError, match=re.escape(expected)):
        build(model_artifact, settings)


def test_data_capture_and_shadow_need_their_resources(model_artifact):
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, {**GUARDED})
    assert "data_capture_bucket and data_capture_prefix: required" in str(raised.value)
    assert "shadow_model: give a shadow model exactly when settings.shadow is set" in str(raised.value)


def test_changing_only_model_data_replaces_model_and_config_but_keeps_the_endpoint(model_artifact, tmp_path):
    import shutil

    other = tmp_path / "other.tar.gz"
    shutil.copy(model_artifact, other)
    other.write_bytes(model_artifact.read_bytes() + b"\0")  # different bytes, different asset
    templates = []
    for artifact in (model_artifact, other):
        stack = new_stack()
        key = new_key(stack)
        RealtimeEndpoint(
            stack,
            "Realtime",
            model=new_model(stack, key, artifact),
            encryption_key=key,
            endpoint_name="test-iris-realtime",
            settings=AUTOSCALED,
        )
        templates.append(Template.from_stack(stack).to_json()["Resources"])
    before, after = templates
    assert before.keys() == after.keys()  # same logical ids: CloudFormation updates, never deletes by id
    model_id = next(k for k, v in before.items() if v["Type"] == "AWS::SageMaker::Model")
    endpoint_id = next(k for k, v in before.items() if v["Type"] == "AWS::SageMaker::Endpoint")
    # ModelDataUrl forces replacement; with a generated name the new Model is created first.
    assert (
        before[model_id]["Properties"]["PrimaryContainer"]["ModelDataUrl"]
        != after[model_id]["Properties"]["PrimaryContainer"]["ModelDataUrl"]
    )
    assert "ModelName" not in after[model_id]["Properties"]
    # The endpoint keeps its name and points at the (replaced) config: an in-place update.
    assert before[endpoint_id]["Properties"]["EndpointName"] == after[endpoint_id]["Properties"]["EndpointName"]
    assert before[endpoint_id]["Properties"] == after[endpoint_id]["Properties"]


def test_alarms_have_stable_names_after_the_endpoint(guarded):
    endpoint, template = guarded
    names = {a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()}
    assert names == {
        f"test-iris-realtime-{key}"
        for key in (
            "Invocation5XXErrors",
            "Invocation4XXErrorRate",
            "ModelLatency",
            "CpuUtilization",
            "MemoryUtilization",
            "DiskUtilization",
        )
    }
    assert endpoint.alarm_names == {key: f"test-iris-realtime-{key}" for key in endpoint.alarms}


def test_autoscaled_endpoint_retains_instance_counts_but_not_data_capture(autoscaled):
    endpoint, template = autoscaled
    # Retaining everything would keep the old data capture settings through an update and
    # silently ignore the new config's; only the instance count (and weight) is retained.
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "RetainAllVariantProperties": True,
            "ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DataCaptureConfig"}],
        },
    )
    assert endpoint.capacity_bounds == (2, 6)


def test_fixed_capacity_bounds_are_the_instance_count(model_artifact):
    _, endpoint = build(model_artifact, {"instance_type": "ml.t2.medium", "initial_instance_count": 3})
    assert endpoint.capacity_bounds == (3, 3)
    metric = endpoint.metric_instances_reporting()
    assert (metric.metric_name, metric.statistic, metric.period.to_seconds()) == ("CPUUtilization", "SampleCount", 60)
    assert metric.namespace == "/aws/sagemaker/Endpoints"


# Multi-variant (shadow) endpoints ------------------------------------------------------------


def test_rollback_alarms_watch_the_production_variant_not_the_shadow(guarded):
    endpoint, template = guarded
    resources = template.to_json()["Resources"]
    stack = endpoint.node.scope
    for alarm in endpoint.rollback_alarms:
        dimensions = resources[stack.get_logical_id(alarm.node.default_child)]["Properties"]["Dimensions"]
        assert {"Name": "VariantName", "Value": "AllTraffic"} in dimensions
    assert endpoint.shadow_variant_name == "Shadow"
    shadow_latency = endpoint.metric_model_latency(variant_name=endpoint.shadow_variant_name)
    assert shadow_latency.dimensions == {"EndpointName": "test-iris-realtime", "VariantName": "Shadow"}


@pytest.mark.parametrize(
    ("deployment", "routing"),
    [
        ({"strategy": "all_at_once"}, "ALL_AT_ONCE"),
        ({"strategy": "canary", "canary_percent": 20}, "CANARY"),
        ({"strategy": "linear", "linear_step_percent": 25}, "LINEAR"),
    ],
)
def test_shadow_endpoints_take_every_blue_green_strategy(model_artifact, deployment, routing):
    """SageMaker excludes multi-variant endpoints from rolling updates only; blue/green
    traffic shifting (and its rollback alarms) applies to them as to any endpoint."""
    from aws_cdk import aws_s3 as s3

    stack = new_stack()
    key = new_key(stack)
    RealtimeEndpoint(
        stack,
        "Realtime",
        model=new_model(stack, key, model_artifact),
        encryption_key=key,
        endpoint_name="test-iris-realtime",
        settings={**GUARDED, "deployment": deployment},
        data_capture_bucket=s3.Bucket(stack, "Capture"),
        data_capture_prefix="test/iris/realtime/",
        shadow_model=new_model(stack, key, model_artifact, id="Shadow"),
    )
    template = Template.from_stack(stack)
    (properties,) = [r["Properties"] for r in template.find_resources("AWS::SageMaker::Endpoint").values()]
    config = properties["DeploymentConfig"]
    assert "RollingUpdatePolicy" not in config
    assert config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == routing
    assert len(config["AutoRollbackConfiguration"]["Alarms"]) == 2


def test_rolling_update_is_accepted_on_a_single_variant_endpoint(model_artifact):
    stack, _ = build(
        model_artifact,
        {"instance_type": "ml.m5.large", "deployment": {"strategy": "rolling", "rolling_batch_percent": 25}},
    )
    (properties,) = [
        r["Properties"] for r in Template.from_stack(stack).find_resources("AWS::SageMaker::Endpoint").values()
    ]
    assert "BlueGreenUpdatePolicy" not in properties["DeploymentConfig"]
    assert properties["DeploymentConfig"]["RollingUpdatePolicy"]["MaximumBatchSize"] == {
        "Type": "CAPACITY_PERCENT",
        "Value": 25,
    }


def test_local_storage_instances_get_no_volume_key_and_the_finding_is_acknowledged(model_artifact):
    from cdk_nag import HIPAASecurityChecks

    from inference_constructs.compliance import recorded_acknowledgements

    # SageMaker refuses a KmsKeyId for instance types with local NVMe storage (hardware-encrypted).
    stack, endpoint = build(model_artifact, {"instance_type": "ml.g4dn.xlarge"})
    config = next(iter(Template.from_stack(stack).find_resources("AWS::SageMaker::EndpointConfig").values()))
    assert "KmsKeyId" not in config["Properties"]
    rule = "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured"
    acknowledged = [ack for ack in recorded_acknowledgements(stack.node.root) if ack.path == endpoint.node.path]
    assert {ack.finding_id for ack in acknowledged} >= {f"HIPAA.Security::{rule}"}
    assert "ml.g4dn.xlarge" in acknowledged[0].reason
    # The acknowledgement matches a real finding of the pack on this endpoint config.
    findings = HIPAASecurityChecks(stack.node.root).validate_scope(stack.node.root).violations
    assert any(v.rule_name == rule for v in findings)


def test_instances_without_local_storage_keep_the_platform_key_without_exception(model_artifact):
    from inference_constructs.compliance import recorded_acknowledgements

    stack, endpoint = build(model_artifact, {"instance_type": "ml.m5.large"})
    assert not [ack for ack in recorded_acknowledgements(stack.node.root) if ack.path == endpoint.node.path]
