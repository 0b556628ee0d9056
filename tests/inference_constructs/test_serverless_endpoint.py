from __future__ import annotations

import json
import re

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Match, Template
from cdk_nag import HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks

from inference_constructs.compliance import recorded_acknowledgements
from inference_constructs.errors import InvalidPropsError
from inference_constructs.realtime_endpoint import RealtimeSettings
from inference_constructs.serverless_endpoint import (
    NETWORK_ISOLATION_CHECK,
    ServerlessEndpoint,
    ServerlessSettings,
    serverless_model,
)
from tests.inference_constructs.helpers import new_key, new_model, new_stack

NETWORK = {
    "vpc_id": "vpc-0123456789abcdef0",
    "subnets": [
        {"id": "subnet-0123456789abcdef0", "availability_zone": "eu-west-1a"},
        {"id": "subnet-0123456789abcdef1", "availability_zone": "eu-west-1b"},
    ],
    "security_group_ids": ["sg-0123456789abcdef0"],
}
ON_DEMAND = {"memory_size_in_mb": 2048, "max_concurrency": 5}
AUTOSCALED = {
    "memory_size_in_mb": 4096,
    "max_concurrency": 20,
    "provisioned_concurrency": 4,
    "autoscaling": {
        "min_capacity": 2,
        "max_capacity": 10,
        "target_utilization": 0.6,
        "scale_in_cooldown_seconds": 600,
        "scale_out_cooldown_seconds": 30,
    },
}


def new_serverless_model(stack, key, artifact, id="ServerlessModel"):
    return serverless_model(
        stack,
        id,
        name="iris",
        name_prefix="test-iris",
        image={"framework": "sklearn", "version": "1.4-2"},
        model_data=str(artifact),
        encryption_key=key,
    )


def build(model_artifact, settings, endpoint_name="test-iris-serverless", model=None):
    """A stack with a key, a model (a serverless one unless ``model`` builds another) and the endpoint."""
    stack = new_stack()
    key = new_key(stack)
    served = model(stack, key) if model else new_serverless_model(stack, key, model_artifact)
    endpoint = ServerlessEndpoint(
        stack, "Serverless", model=served, encryption_key=key, endpoint_name=endpoint_name, settings=settings
    )
    return stack, endpoint


@pytest.fixture(scope="module")
def autoscaled(model_artifact):
    stack, endpoint = build(model_artifact, AUTOSCALED)
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(role)
    return endpoint, Template.from_stack(stack)


@pytest.fixture(scope="module")
def on_demand(model_artifact):
    stack, endpoint = build(model_artifact, ON_DEMAND)
    return endpoint, Template.from_stack(stack)


# The resources ------------------------------------------------------------------------------


def test_resource_counts(autoscaled):
    _, template = autoscaled
    template.resource_count_is("AWS::SageMaker::Model", 1)
    template.resource_count_is("AWS::SageMaker::EndpointConfig", 1)
    template.resource_count_is("AWS::SageMaker::Endpoint", 1)
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 1)
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 1)
    # The model's execution role and the test's caller; scaling uses the service-linked role.
    template.resource_count_is("AWS::IAM::Role", 2)


def test_endpoint_config_has_one_serverless_variant_encrypted_with_the_platform_key(autoscaled):
    _, template = autoscaled
    # Arrays match exactly: one variant, with no instance, accelerator or data capture settings.
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": {"Fn::GetAtt": [Match.string_like_regexp("^ServerlessModel"), "ModelName"]},
                    "ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 20, "ProvisionedConcurrency": 4},
                }
            ],
            "DataCaptureConfig": Match.absent(),
            "AsyncInferenceConfig": Match.absent(),
            "EndpointConfigName": Match.absent(),
        },
    )


def test_endpoint_has_stable_name_and_does_not_retain_variant_properties(autoscaled):
    endpoint, template = autoscaled
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "EndpointName": "test-iris-serverless",
            "EndpointConfigName": {
                "Fn::GetAtt": [Match.string_like_regexp("^ServerlessEndpointConfig"), "EndpointConfigName"]
            },
            # Retention covers instance counts, weights and data capture, none of which applies;
            # a new config must bring its new memory size and concurrency.
            "RetainAllVariantProperties": Match.absent(),
        },
    )
    assert endpoint.endpoint_name == "test-iris-serverless"
    assert endpoint.variant_name == "AllTraffic"


def test_serverless_model_is_outside_any_vpc_and_not_isolated_with_its_checkov_reason(autoscaled):
    _, template = autoscaled
    template.has_resource(
        "AWS::SageMaker::Model",
        {
            "Properties": Match.object_like(
                {"EnableNetworkIsolation": False, "VpcConfig": Match.absent(), "ModelName": Match.absent()}
            ),
            "Metadata": Match.object_like(
                {
                    "checkov": {
                        "skip": [
                            {
                                "id": NETWORK_ISOLATION_CHECK,
                                "comment": Match.string_like_regexp(
                                    "SageMaker refuses network isolation and VPC config for serverless"
                                ),
                            }
                        ]
                    }
                }
            ),
        },
    )
    assert NETWORK_ISOLATION_CHECK == "CKV_AWS_370"


# Autoscaling of provisioned concurrency -----------------------------------------------------


def test_provisioned_concurrency_is_a_scalable_target_with_bounds(autoscaled):
    _, template = autoscaled
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "ServiceNamespace": "sagemaker",
            "ScalableDimension": "sagemaker:variant:DesiredProvisionedConcurrency",
            "ResourceId": "endpoint/test-iris-serverless/variant/AllTraffic",
            "MinCapacity": 2,
            "MaxCapacity": 10,
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
        },
    )
    target = next(iter(template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").values()))
    assert any(dep.startswith("ServerlessEndpoint") for dep in target["DependsOn"])


def test_target_tracking_on_provisioned_concurrency_utilization(autoscaled):
    _, template = autoscaled
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": Match.string_like_regexp("^ServerlessScalableTarget")},
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantProvisionedConcurrencyUtilization"
                },
                "TargetValue": 0.6,
                "ScaleInCooldown": 600,
                "ScaleOutCooldown": 30,
            },
        },
    )


def test_on_demand_endpoint_has_no_provisioned_concurrency_and_no_scaling(on_demand):
    _, template = on_demand
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like({"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}})
            ]
        },
    )
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 0)


def test_fixed_provisioned_concurrency_without_autoscaling(model_artifact):
    stack, endpoint = build(model_artifact, {**ON_DEMAND, "provisioned_concurrency": 5})
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like({"ServerlessConfig": Match.object_like({"ProvisionedConcurrency": 5})})
            ]
        },
    )
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    assert endpoint.scalable_target is None


# Grants and metrics -------------------------------------------------------------------------


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
                            "Resource": {"Fn::Join": ["", Match.array_with([":endpoint/test-iris-serverless"])]},
                        }
                    )
                ]
            },
        },
    )


@pytest.mark.parametrize(
    ("method", "metric_name", "statistic", "namespace"),
    [
        ("metric_overhead_latency", "OverheadLatency", "p99", "AWS/SageMaker"),
        ("metric_model_setup_time", "ModelSetupTime", "p99", "AWS/SageMaker"),
        ("metric_cold_starts", "ModelSetupTime", "SampleCount", "AWS/SageMaker"),
        ("metric_model_latency", "ModelLatency", "p99", "AWS/SageMaker"),
        ("metric_invocations", "Invocations", "Sum", "AWS/SageMaker"),
        ("metric_invocation_4xx_errors", "Invocation4XXErrors", "Sum", "AWS/SageMaker"),
        ("metric_invocation_5xx_errors", "Invocation5XXErrors", "Sum", "AWS/SageMaker"),
        ("metric_memory_utilization", "MemoryUtilization", "Average", "/aws/sagemaker/Endpoints"),
        (
            "metric_concurrent_executions_utilization",
            "ServerlessConcurrentExecutionsUtilization",
            "Maximum",
            "AWS/SageMaker",
        ),
        (
            "metric_provisioned_concurrency_utilization",
            "ServerlessProvisionedConcurrencyUtilization",
            "Average",
            "AWS/SageMaker",
        ),
        (
            "metric_provisioned_concurrency_executions",
            "ServerlessProvisionedConcurrencyExecutions",
            "Maximum",
            "AWS/SageMaker",
        ),
        (
            "metric_provisioned_concurrency_invocations",
            "ServerlessProvisionedConcurrencyInvocations",
            "Sum",
            "AWS/SageMaker",
        ),
        (
            "metric_provisioned_concurrency_spillover_invocations",
            "ServerlessProvisionedConcurrencySpilloverInvocations",
            "Sum",
            "AWS/SageMaker",
        ),
    ],
)
def test_metrics_name_the_serverless_signals_with_endpoint_and_variant(
    autoscaled, method, metric_name, statistic, namespace
):
    endpoint, _ = autoscaled
    metric = getattr(endpoint, method)()
    assert (metric.metric_name, metric.statistic, metric.namespace) == (metric_name, statistic, namespace)
    assert metric.dimensions == {"EndpointName": "test-iris-serverless", "VariantName": "AllTraffic"}


# Compliance -----------------------------------------------------------------------------------


def test_kms_rule_of_the_regulatory_packs_is_satisfied_not_acknowledged(model_artifact):
    stack, _ = build(model_artifact, ON_DEMAND)
    # A control: the same serverless variant without KmsKeyId, which the rule must flag.
    sagemaker.CfnEndpointConfig(
        stack,
        "Unencrypted",
        production_variants=[
            sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="AllTraffic",
                model_name="any",
                serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                    memory_size_in_mb=1024, max_concurrency=1
                ),
            )
        ],
    )
    app = stack.node.root
    for pack in (HIPAASecurityChecks(app), NIST80053R5Checks(app), PCIDSS321Checks(app)):
        flagged = [
            resource.construct_path
            for violation in pack.validate_scope(app).violations
            if violation.rule_name.endswith("SageMakerEndpointConfigurationKMSKeyConfigured")
            for resource in violation.violating_resources
        ]
        assert flagged == ["Test/Unencrypted"], (pack.name, flagged)
    assert not [
        ack
        for ack in recorded_acknowledgements(app)
        if "SageMakerEndpointConfigurationKMSKeyConfigured" in ack.finding_id
    ]


# Rejected combinations: settings ------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # Memory: 1024-6144 MB in 1 GB steps.
        ({**ON_DEMAND, "memory_size_in_mb": 512}, "settings.memory_size_in_mb: memory_size_in_mb must be one of 1024"),
        ({**ON_DEMAND, "memory_size_in_mb": 8192}, "must be one of 1024, 2048, 3072, 4096, 5120, 6144"),
        ({**ON_DEMAND, "memory_size_in_mb": 1536}, "must be one of 1024, 2048, 3072, 4096, 5120, 6144"),
        ({"max_concurrency": 5}, "settings.memory_size_in_mb: required field is missing"),
        # Concurrency: 1-200, provisioned 1..max_concurrency.
        ({**ON_DEMAND, "max_concurrency": 0}, "settings.max_concurrency: Input should be greater than or equal to 1"),
        ({**ON_DEMAND, "max_concurrency": 201}, "settings.max_concurrency: Input should be less than or equal to 200"),
        (
            {**ON_DEMAND, "provisioned_concurrency": 0},
            "settings.provisioned_concurrency: Input should be greater than or equal to 1",
        ),
        (
            {**ON_DEMAND, "provisioned_concurrency": 6},
            "provisioned_concurrency (6) is above max_concurrency (5); it must be 1 to 5",
        ),
        # Autoscaling of provisioned concurrency.
        (
            {**ON_DEMAND, "autoscaling": {"min_capacity": 1, "max_capacity": 2, "target_utilization": 0.5}},
            "autoscaling scales provisioned concurrency: set provisioned_concurrency too",
        ),
        (
            {**AUTOSCALED, "provisioned_concurrency": 12},
            "provisioned_concurrency (12) must lie within autoscaling min_capacity..max_capacity (2..10)",
        ),
        (
            {**AUTOSCALED, "max_concurrency": 8, "provisioned_concurrency": 4},
            "autoscaling max_capacity (10) is above max_concurrency (8)",
        ),
        (
            {
                **AUTOSCALED,
                "autoscaling": {"min_capacity": 6, "max_capacity": 3, "target_utilization": 0.5},
            },
            "min_capacity (6) is above max_capacity (3)",
        ),
        (
            {**AUTOSCALED, "autoscaling": {"min_capacity": 2, "max_capacity": 10, "target_utilization": 70}},
            "settings.autoscaling.target_utilization: Input should be less than or equal to 1",
        ),
        (
            {**AUTOSCALED, "autoscaling": {"min_capacity": 0, "max_capacity": 10, "target_utilization": 0.5}},
            "settings.autoscaling.min_capacity: Input should be greater than or equal to 1",
        ),
        # Data capture.
        (
            {**ON_DEMAND, "data_capture": {"sampling_percentage": 10}},
            "settings.data_capture: SageMaker does not capture requests or responses of serverless endpoints",
        ),
        # GPUs and accelerators.
        (
            {**ON_DEMAND, "instance_type": "ml.g5.xlarge"},
            "settings.instance_type: ml.g5.xlarge is a GPU instance type; serverless endpoints run on CPU only",
        ),
        (
            {**ON_DEMAND, "instance_type": "ml.inf2.xlarge"},
            "ml.inf2.xlarge is an Inferentia/Trainium accelerator instance type; serverless endpoints run on CPU",
        ),
        (
            {**ON_DEMAND, "accelerator_type": "ml.eia2.medium"},
            "settings.accelerator_type: serverless endpoints run on CPU only",
        ),
        # Instance-backed settings, and instance-backed variants in the same config.
        (
            {**ON_DEMAND, "instance_type": "ml.m5.large"},
            "settings.instance_type: serverless endpoints have no instances",
        ),
        (
            {**ON_DEMAND, "initial_instance_count": 2},
            "settings.initial_instance_count: serverless endpoints have no instances",
        ),
        (
            {**ON_DEMAND, "variants": [{"instance_type": "ml.m5.large", "initial_instance_count": 1}]},
            "settings.variants: a serverless endpoint config holds exactly one production variant",
        ),
        # VPC and network isolation given with the endpoint settings.
        ({**ON_DEMAND, "vpc_config": NETWORK}, "settings.vpc_config: serverless endpoints cannot run in a VPC"),
        ({**ON_DEMAND, "network_isolation": True}, "settings.network_isolation: serverless endpoints cannot use"),
        # Anything else is an unknown field, listing what is allowed.
        (
            {**ON_DEMAND, "memory": 2048},
            "settings.memory: unknown field; allowed fields: memory_size_in_mb, max_concurrency, "
            "provisioned_concurrency, variant_name, autoscaling",
        ),
        ({**ON_DEMAND, "variant_name": "all traffic"}, "settings.variant_name: String should match pattern"),
    ],
)
def test_rejected_settings_are_named_with_what_is_allowed(model_artifact, settings, expected):
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, settings)
    assert expected in str(raised.value)
    assert "Test/Serverless" in str(raised.value)


@pytest.mark.parametrize("memory", [1024, 2048, 3072, 4096, 5120, 6144])
def test_every_memory_size_sagemaker_offers_is_accepted(memory):
    assert ServerlessSettings(memory_size_in_mb=memory, max_concurrency=1).memory_size_in_mb == memory


@pytest.mark.parametrize(("maximum", "provisioned"), [(1, 1), (200, 200), (200, 1)])
def test_concurrency_bounds_are_inclusive(maximum, provisioned):
    settings = ServerlessSettings(memory_size_in_mb=1024, max_concurrency=maximum, provisioned_concurrency=provisioned)
    assert (settings.max_concurrency, settings.provisioned_concurrency) == (maximum, provisioned)


def test_refused_settings_are_reported_together_with_range_problems(model_artifact):
    settings = {"memory_size_in_mb": 1500, "max_concurrency": 5, "provisioned_concurrency": 9, "data_capture": {}}
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, settings)
    problems = raised.value.problems
    assert len(problems) == 2, problems
    assert any(p.startswith("settings.memory_size_in_mb:") for p in problems)
    assert any(p.startswith("settings.data_capture:") for p in problems)


def test_instance_backed_settings_object_is_refused(model_artifact):
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, RealtimeSettings(instance_type="ml.m5.large"))
    assert "settings: expected ServerlessSettings or a mapping, got RealtimeSettings" in str(raised.value)
    assert "holds exactly one production variant" in str(raised.value)


def test_settings_are_immutable():
    settings = ServerlessSettings(memory_size_in_mb=2048, max_concurrency=5)
    with pytest.raises(Exception, match="frozen"):
        settings.max_concurrency = 10  # type: ignore[misc]


# Rejected combinations: the model -----------------------------------------------------------


def test_model_in_a_vpc_is_rejected_with_what_serverless_needs(model_artifact):
    with pytest.raises(InvalidPropsError) as raised:
        build(
            model_artifact,
            ON_DEMAND,
            model=lambda stack, key: new_model(stack, key, model_artifact, network=NETWORK, network_isolation=False),
        )
    assert raised.value.problems == [
        "model: Test/Model runs in VPC vpc-0123456789abcdef0, and SageMaker cannot serve a model in a VPC from a "
        "serverless endpoint. Serverless needs a VPC-less model without network isolation: build one with "
        "serverless_model(...) or InferenceModel(network=None, network_isolation=False)"
    ]


def test_network_isolated_model_is_rejected_with_what_serverless_needs(model_artifact):
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, ON_DEMAND, model=lambda stack, key: new_model(stack, key, model_artifact))
    assert len(raised.value.problems) == 1
    assert re.search(
        r"model: Test/Model has network isolation on, which SageMaker rejects for serverless endpoints\. "
        r"Serverless needs a VPC-less model without network isolation",
        raised.value.problems[0],
    )


def test_every_problem_is_reported_at_once(model_artifact):
    with pytest.raises(InvalidPropsError) as raised:
        build(
            model_artifact,
            {"memory_size_in_mb": 100, "max_concurrency": 5, "instance_type": "ml.g5.xlarge"},
            endpoint_name="bad_name!",
            model=lambda stack, key: new_model(stack, key, model_artifact, network=NETWORK),
        )
    problems = raised.value.problems
    assert len(problems) == 5, problems  # memory, instance type, VPC, isolation, endpoint name
    assert [p.split(":")[0] for p in problems] == [
        "settings.memory_size_in_mb",
        "settings.instance_type",
        "model",
        "model",
        "endpoint_name",
    ]


# Rejected combinations made after construction, caught at synth ------------------------------


def _synth_errors(stack) -> str:
    with pytest.raises(RuntimeError, match="Validation failed") as raised:
        stack.node.root.synth()
    return str(raised.value)


def test_untouched_endpoint_has_nothing_to_report(autoscaled):
    endpoint, _ = autoscaled
    assert endpoint.rendered_problems() == []


def test_data_capture_added_to_the_config_fails_synth(model_artifact):
    stack, endpoint = build(model_artifact, ON_DEMAND)
    endpoint.endpoint_config.data_capture_config = sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        capture_options=[sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input")],
        destination_s3_uri="s3://bucket/capture",
        initial_sampling_percentage=10,
    )
    assert "[Test/Serverless] endpoint config: SageMaker does not capture requests" in _synth_errors(stack)


def test_instance_backed_variant_mixed_into_the_config_fails_synth(model_artifact):
    stack, endpoint = build(model_artifact, ON_DEMAND)
    config = endpoint.endpoint_config
    config.production_variants = [
        *config.production_variants,
        sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name="Instances",
            model_name=endpoint.model.model_name,
            instance_type="ml.g5.xlarge",
            initial_instance_count=1,
        ),
    ]
    errors = _synth_errors(stack)
    assert "endpoint config: has 2 production variants; a serverless endpoint config holds exactly one" in errors
    assert "variant Instances sets instanceType" in errors
    assert "variant Instances has no ServerlessConfig" in errors


@pytest.mark.parametrize(
    ("memory", "provisioned", "expected"),
    [
        (7168, None, "variant AllTraffic.memory_size_in_mb: memory_size_in_mb must be one of 1024"),
        (2048, 8, "variant AllTraffic: provisioned_concurrency (8) is above max_concurrency (5)"),
    ],
)
def test_serverless_config_changed_out_of_range_fails_synth(model_artifact, memory, provisioned, expected):
    stack, endpoint = build(model_artifact, ON_DEMAND)
    endpoint.endpoint_config.production_variants = [
        sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name="AllTraffic",
            model_name=endpoint.model.model_name,
            serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                memory_size_in_mb=memory, max_concurrency=5, provisioned_concurrency=provisioned
            ),
        )
    ]
    assert expected in _synth_errors(stack)


def test_vpc_or_isolation_given_to_the_model_later_fails_synth(model_artifact):
    stack, endpoint = build(model_artifact, ON_DEMAND)
    endpoint.model.cfn_model.vpc_config = sagemaker.CfnModel.VpcConfigProperty(
        security_group_ids=["sg-0123456789abcdef0"], subnets=["subnet-0123456789abcdef0"]
    )
    endpoint.model.cfn_model.enable_network_isolation = True
    errors = _synth_errors(stack)
    assert "model: Test/ServerlessModel was given a VpcConfig; serverless endpoints cannot run in a VPC" in errors
    assert "model: Test/ServerlessModel was given network isolation; serverless endpoints cannot use" in errors


def test_removing_the_platform_key_fails_synth(model_artifact):
    stack, endpoint = build(model_artifact, ON_DEMAND)
    endpoint.endpoint_config.kms_key_id = None
    assert "KmsKeyId was removed" in _synth_errors(stack)


# Deployment policy and alarms ---------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(model_artifact):
    from aws_cdk import aws_sns as sns

    stack = new_stack()
    key = new_key(stack)
    endpoint = ServerlessEndpoint(
        stack,
        "Serverless",
        model=new_serverless_model(stack, key, model_artifact),
        encryption_key=key,
        endpoint_name="test-iris-serverless",
        settings={
            **ON_DEMAND,
            "deployment": {"strategy": "linear", "linear_step_percent": 25, "wait_interval_seconds": 120},
            "alarms": {
                "overhead_latency_p99_milliseconds": 3000,
                "invocation_5xx_errors": 2,
                "concurrent_executions_utilization": 0.8,
                "evaluation_periods": 4,
                "datapoints_to_alarm": 2,
            },
        },
        alarm_topic=sns.Topic(stack, "AlarmTopic"),
    )
    return stack, endpoint, Template.from_stack(stack)


def _alarms_by_name(template) -> dict[str, dict]:
    return {
        alarm["Properties"]["AlarmName"]: alarm["Properties"]
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
    }


def test_alarms_cover_cold_starts_errors_latency_and_throttling(guarded):
    _, endpoint, template = guarded
    alarms = _alarms_by_name(template)
    assert set(alarms) == {
        "test-iris-serverless-OverheadLatency",
        "test-iris-serverless-Invocation5XXErrors",
        "test-iris-serverless-ModelLatency",
        "test-iris-serverless-ConcurrentExecutionsUtilization",
    }
    assert endpoint.alarm_names == {key: f"test-iris-serverless-{key}" for key in endpoint.alarms}
    overhead = alarms["test-iris-serverless-OverheadLatency"]
    assert (overhead["MetricName"], overhead["ExtendedStatistic"], overhead["Threshold"]) == (
        "OverheadLatency",
        "p99",
        3_000_000,  # microseconds
    )
    errors = alarms["test-iris-serverless-Invocation5XXErrors"]
    assert (errors["MetricName"], errors["Statistic"], errors["Threshold"]) == ("Invocation5XXErrors", "Sum", 2)
    throttling = alarms["test-iris-serverless-ConcurrentExecutionsUtilization"]
    assert (throttling["MetricName"], throttling["Statistic"], throttling["Threshold"]) == (
        "ServerlessConcurrentExecutionsUtilization",
        "Maximum",
        0.8,
    )
    assert "at 100% requests are throttled" in throttling["AlarmDescription"]
    for properties in alarms.values():
        # An idle serverless endpoint publishes nothing: silence is healthy.
        assert properties["TreatMissingData"] == "notBreaching"
        assert (properties["EvaluationPeriods"], properties["DatapointsToAlarm"]) == (4, 2)
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert properties["Dimensions"] == [
            {"Name": "EndpointName", "Value": "test-iris-serverless"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ]
        (action,) = properties["AlarmActions"]
        assert action["Ref"].startswith("AlarmTopic") and properties["OKActions"] == properties["AlarmActions"]


def test_default_alarm_thresholds(on_demand):
    _, template = on_demand
    alarms = _alarms_by_name(template)
    assert alarms["test-iris-serverless-OverheadLatency"]["Threshold"] == 5_000_000
    assert alarms["test-iris-serverless-Invocation5XXErrors"]["Threshold"] == 5
    assert alarms["test-iris-serverless-ModelLatency"]["Threshold"] == 1_000_000
    assert alarms["test-iris-serverless-ConcurrentExecutionsUtilization"]["Threshold"] == 0.9
    # Without a topic the alarms still exist, notifying nobody.
    assert all("AlarmActions" not in alarm for alarm in alarms.values())


def test_blue_green_linear_update_rolls_back_on_its_own_error_and_latency_alarms(guarded):
    _, endpoint, template = guarded
    resources = template.to_json()["Resources"]
    (properties,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SageMaker::Endpoint"]
    policy = properties["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "LINEAR",
        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
        "WaitIntervalInSeconds": 120,
    }
    referenced = {alarm["AlarmName"] for alarm in properties["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]}
    created = {r["Properties"]["AlarmName"]: r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert referenced == {endpoint.alarm_names[key] for key in ("Invocation5XXErrors", "ModelLatency")}
    # Cold starts are expected on the new capacity of every update: OverheadLatency never rolls back.
    assert {created[name]["Properties"]["MetricName"] for name in referenced} == {"Invocation5XXErrors", "ModelLatency"}


def test_serverless_model_role_may_describe_only_the_rollback_alarms(guarded):
    stack, endpoint, template = guarded
    role_id = stack.get_logical_id(endpoint.model.role.node.default_child)
    describe = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "cloudwatch:DescribeAlarms" and policy["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    (statement,) = describe
    rendered = str(statement["Resource"])
    assert len(statement["Resource"]) == len(endpoint.rollback_alarms) == 2
    for alarm in endpoint.rollback_alarms:
        assert f":alarm:{alarm.node.default_child.alarm_name}" in rendered


def test_default_deployment_is_all_at_once_with_rollback(on_demand):
    endpoint, template = on_demand
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": Match.object_like({"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE"}}),
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": Match.any_value()}] * 2},
            }
        },
    )
    assert len(endpoint.rollback_alarms) == 2


def test_canary_is_accepted(model_artifact):
    stack, _ = build(model_artifact, {**ON_DEMAND, "deployment": {"strategy": "canary", "canary_percent": 10}})
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "DeploymentConfig": Match.object_like(
                {
                    "BlueGreenUpdatePolicy": Match.object_like(
                        {"TrafficRoutingConfiguration": Match.object_like({"Type": "CANARY"})}
                    )
                }
            )
        },
    )


def test_rolling_update_is_refused_citing_sagemakers_exclusions(model_artifact):
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, {**ON_DEMAND, "deployment": {"strategy": "rolling", "rolling_batch_percent": 20}})
    (problem,) = raised.value.problems
    assert problem.startswith("settings.deployment: strategy 'rolling' is not supported on serverless endpoints")
    assert "exclude serverless inference endpoints from rolling deployments" in problem
    assert "deployment-guardrails-exclusions.html" in problem
    assert "use all_at_once, canary or linear (blue/green)" in problem


def test_rollback_switched_off_grants_nothing(model_artifact):
    stack, endpoint = build(model_artifact, {**ON_DEMAND, "deployment": {"auto_rollback": False}})
    template = Template.from_stack(stack)
    assert endpoint.rollback_alarms == []
    (properties,) = [r["Properties"] for r in template.find_resources("AWS::SageMaker::Endpoint").values()]
    assert "AutoRollbackConfiguration" not in properties["DeploymentConfig"]
    assert "cloudwatch:DescribeAlarms" not in json.dumps(template.find_resources("AWS::IAM::Policy"))
