"""Weighted production variants (A/B) on a real-time endpoint: one model, scalable target and
set of alarms per variant, and weights that follow the config unless asked to be kept."""

from __future__ import annotations

import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from inference_constructs.dashboard import InferenceDashboard
from inference_constructs.errors import InvalidPropsError
from inference_constructs.realtime_endpoint import RealtimeEndpoint, RealtimeSettings, retained_variant_properties
from tests.inference_constructs.helpers import new_key, new_model, new_stack
from tests.inference_constructs.test_dashboard import dashboard_body

SCALING = {"min_capacity": 1, "max_capacity": 3, "target_invocations_per_instance": 100}
AB = {
    "instance_type": "ml.m5.large",
    "initial_variant_weight": 0.9,
    "autoscaling": SCALING,
    "deployment": {"strategy": "canary", "canary_percent": 10, "wait_interval_seconds": 300},
    "variants": [
        {
            "variant_name": "Challenger",
            "instance_type": "ml.c5.xlarge",
            "initial_variant_weight": 0.1,
            "autoscaling": SCALING,
            "alarms": {"model_latency_p99_milliseconds": 500},
        }
    ],
}


def build(model_artifact, settings, variant_ids=("Challenger",), capture=False):
    """An endpoint with a model per name in ``variant_ids``; ``capture``: with a data-capture bucket."""
    stack = new_stack()
    key = new_key(stack)
    model = new_model(stack, key, model_artifact)
    variant_models = {name: new_model(stack, key, model_artifact, id=f"{name}Model") for name in variant_ids}
    capture_props = {"data_capture_bucket": s3.Bucket(stack, "Capture"), "data_capture_prefix": "test/iris/realtime/"}
    endpoint = RealtimeEndpoint(
        stack,
        "Realtime",
        model=model,
        encryption_key=key,
        endpoint_name="test-iris-realtime",
        settings=settings,
        variant_models=variant_models,
        **(capture_props if capture else {}),
    )
    return stack, endpoint


@pytest.fixture(scope="module")
def ab(model_artifact):
    stack, endpoint = build(model_artifact, AB)
    return endpoint, Template.from_stack(stack)


def test_each_variant_has_its_model_instances_and_weight(ab):
    _, template = ab
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like(
                    {
                        "VariantName": "AllTraffic",
                        "InstanceType": "ml.m5.large",
                        "InitialVariantWeight": 0.9,
                        "ModelName": {"Fn::GetAtt": [Match.string_like_regexp("^Model"), "ModelName"]},
                    }
                ),
                {
                    "VariantName": "Challenger",
                    "InstanceType": "ml.c5.xlarge",
                    "InitialInstanceCount": 1,
                    "InitialVariantWeight": 0.1,
                    "ModelName": {"Fn::GetAtt": [Match.string_like_regexp("^ChallengerModel"), "ModelName"]},
                },
            ]
        },
    )
    template.resource_count_is("AWS::SageMaker::Model", 2)


def test_each_variant_has_its_own_scalable_target_registered_with_the_guard(ab):
    endpoint, template = ab
    targets = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")
    assert sorted(t["Properties"]["ResourceId"] for t in targets.values()) == [
        "endpoint/test-iris-realtime/variant/AllTraffic",
        "endpoint/test-iris-realtime/variant/Challenger",
    ]
    # The first variant keeps its logical id; the challenger's carries its name and instance type.
    assert any(i.startswith("RealtimeScalableTargetMlM5Large") for i in targets)
    assert any(i.startswith("RealtimeChallengerScalableTargetMlC5Xlarge") for i in targets)
    assert all(t["DeletionPolicy"] == "Retain" for t in targets.values())
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 2)
    template.has_resource_properties(
        "Custom::ScalingRegistrationGuard",
        {
            "AutoscaledVariants": {
                "AllTraffic": {
                    "InstanceType": "ml.m5.large",
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                },
                "Challenger": {
                    "InstanceType": "ml.c5.xlarge",
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                },
            }
        },
    )
    assert set(endpoint.variant_scalable_targets) == {"Challenger"}


def test_each_variant_has_its_own_alarms_and_rolls_back_the_update(ab):
    endpoint, template = ab
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "test-iris-realtime-Challenger-ModelLatency",
            "Threshold": 500_000,
            "Dimensions": Match.array_with([{"Name": "VariantName", "Value": "Challenger"}]),
        },
    )
    # CPU alarms are per vCPU of each variant's own instance type (ml.c5.xlarge: 4 vCPUs).
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "test-iris-realtime-Challenger-CpuUtilization", "Threshold": 360}
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "test-iris-realtime-CpuUtilization", "Threshold": 180}
    )
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "DeploymentConfig": Match.object_like(
                {
                    "AutoRollbackConfiguration": {
                        "Alarms": [
                            {"AlarmName": "test-iris-realtime-Invocation5XXErrors"},
                            {"AlarmName": "test-iris-realtime-ModelLatency"},
                            {"AlarmName": "test-iris-realtime-Challenger-Invocation5XXErrors"},
                            {"AlarmName": "test-iris-realtime-Challenger-ModelLatency"},
                        ]
                    }
                }
            )
        },
    )
    assert endpoint.weighted_variant_names == ["Challenger"]
    # SageMaker reads the rollback alarms as an execution role; the challenger's may read them too.
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("^ChallengerModelExecutionRole")}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": "cloudwatch:DescribeAlarms", "Resource": Match.any_value()})]
                )
            },
        },
    )


def test_autoscaled_counts_are_kept_but_weights_follow_the_config(ab):
    _, template = ab
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "RetainAllVariantProperties": True,
            "ExcludeRetainedVariantProperties": [
                {"VariantPropertyType": "DataCaptureConfig"},
                {"VariantPropertyType": "DesiredWeight"},
            ],
        },
    )


def test_every_variant_model_may_write_captured_data(model_artifact):
    stack, _ = build(model_artifact, {**AB, "data_capture": {"sampling_percentage": 100}}, capture=True)
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    writers = [
        policy["Properties"]["Roles"][0]["Ref"]
        for policy in policies.values()
        if any(
            "s3:PutObject" in str(statement["Action"])
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    assert sorted(w.split("ExecutionRole")[0] for w in writers) == ["ChallengerModel", "Model"]


@pytest.mark.parametrize(
    ("changes", "retain", "follow_config"),
    [
        # One variant, fixed count: nothing kept, the config decides everything (no exclusion list).
        ({"variants": [], "autoscaling": None}, False, ("DataCaptureConfig", "DesiredInstanceCount")),
        # One autoscaled variant: its count is kept; its weight takes all traffic whatever it is.
        ({"variants": []}, True, ("DataCaptureConfig",)),
        # A/B, autoscaled: counts kept, weights follow the config (a traffic shift is a config change).
        ({}, True, ("DataCaptureConfig", "DesiredWeight")),
        # A/B, weights kept on request: shifted outside CloudFormation, they survive deploys.
        ({"retain_variant_weights": True}, True, ("DataCaptureConfig",)),
        # Weights kept, no autoscaling: counts still follow the config.
        (
            {
                "retain_variant_weights": True,
                "autoscaling": None,
                "variants": [{**AB["variants"][0], "autoscaling": None}],
            },
            True,
            ("DataCaptureConfig", "DesiredInstanceCount"),
        ),
    ],
)
def test_what_an_update_keeps(changes, retain, follow_config):
    settings = RealtimeSettings.model_validate({**AB, **changes})
    assert retained_variant_properties(settings) == {
        "retain_variant_properties": retain,
        "follow_config": follow_config,
    }


def test_kept_weights_are_not_excluded_in_the_template(model_artifact):
    stack, _ = build(model_artifact, {**AB, "retain_variant_weights": True})
    endpoint = next(iter(Template.from_stack(stack).find_resources("AWS::SageMaker::Endpoint").values()))
    assert endpoint["Properties"]["RetainAllVariantProperties"] is True
    assert endpoint["Properties"]["ExcludeRetainedVariantProperties"] == [{"VariantPropertyType": "DataCaptureConfig"}]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"shadow": {"model_data": "s3://bucket/v2/model.tar.gz", "instance_type": "ml.m5.large"}},
            "variants and shadow cannot be combined",
        ),
        (
            {"variants": [{**AB["variants"][0], "variant_name": f"V{i}"} for i in range(10)]},
            r"at most 10 production variants per endpoint \(sagemaker ProductionVariantList\)",
        ),
        (
            {"variants": [{**AB["variants"][0], "variant_name": "AllTraffic"}]},
            r"variant names must be unique in the endpoint .*duplicated: \['AllTraffic'\]",
        ),
        (
            {"variants": [{**AB["variants"][0], "variant_name": "-bad"}]},
            r"variants\[0\]\.variant_name: .*must match .* \(sagemaker VariantName\)",
        ),
        (
            {"variants": [{**AB["variants"][0], "initial_variant_weight": -0.1}]},
            r"variants\[0\]\.initial_variant_weight: Input should be greater than or equal to 0",
        ),
        (
            {"variants": [{**AB["variants"][0], "instance_type": "ml.t2.medium"}]},
            "autoscaling is not supported on burstable instance type ml.t2.medium",
        ),
        (
            {"variants": [{**AB["variants"][0], "initial_instance_count": 5}]},
            r"initial_instance_count \(5\) must lie within autoscaling min_capacity..max_capacity \(1..3\)",
        ),
        (
            {"variants": [{**AB["variants"][0], "variant_name": f"V{i}"} for i in range(5)]},
            r"6 variants have 12 rollback alarms .* at most 10 \(sagemaker AlarmList\)",
        ),
        (
            {"deployment": {"strategy": "rolling", "rolling_batch_percent": 50, "wait_interval_seconds": 60}},
            "'rolling' is not supported on multi-variant",
        ),
    ],
)
def test_refused_settings(model_artifact, changes, message):
    with pytest.raises(InvalidPropsError, match=message):
        build(model_artifact, {**AB, **changes})


def test_a_model_for_each_variant_and_none_left_over(model_artifact):
    with pytest.raises(
        InvalidPropsError, match=r"variant_models: give one model per weighted variant \['Challenger'\]"
    ):
        build(model_artifact, AB, variant_ids=("Other",))


def test_a_variant_model_must_run_on_its_instance_type(model_artifact):
    variants = [{**AB["variants"][0], "instance_type": "ml.c6g.large"}]
    with pytest.raises(InvalidPropsError, match=r"settings\.variants\[0\]\.instance_type: .*ml\.c6g\.large runs arm64"):
        build(model_artifact, {**AB, "variants": variants})


def test_the_dashboard_compares_the_variants_side_by_side(model_artifact):
    stack, endpoint = build(model_artifact, AB)
    board = InferenceDashboard(stack, "Dashboard", dashboard_name="test-inference", title="Inference: test")
    board.add_realtime_endpoint(endpoint, model_name="iris")
    widgets = dashboard_body(Template.from_stack(stack).to_json())["widgets"]
    by_title = {w["properties"].get("title"): w for w in widgets if w["type"] == "metric"}
    # Each graph has a line per variant, labelled with its name.
    labels = [m[-1]["label"] for m in by_title["Invocations"]["properties"]["metrics"]]
    assert labels == ["invocations (AllTraffic)", "invocations (Challenger)"]
    # Each variant's share of requests: its invocations over every variant's.
    shares = by_title["Requests per variant (%)"]["properties"]["metrics"]
    expressions = [m[0]["expression"] for m in shares if "expression" in m[0]]
    assert expressions == [
        "IF((FILL(v0, 0) + FILL(v1, 0)) > 0, 100 * FILL(v0, 0) / (FILL(v0, 0) + FILL(v1, 0)), 0)",
        "IF((FILL(v0, 0) + FILL(v1, 0)) > 0, 100 * FILL(v1, 0) / (FILL(v0, 0) + FILL(v1, 0)), 0)",
    ]
    instances = by_title["Instances in service per variant"]["properties"]["metrics"]
    assert [m[-1]["label"] for m in instances] == ["instances (AllTraffic)", "instances (Challenger)"]
    # Both variants' alarms join the alarm status widget.
    assert {"test-iris-realtime-ModelLatency", "test-iris-realtime-Challenger-ModelLatency"} <= {
        a.alarm_name for a in board.alarms
    }
