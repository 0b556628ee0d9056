from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from inference_constructs.async_endpoint import AsyncEndpoint, AsyncSettings
from inference_constructs.errors import InvalidPropsError
from inference_constructs.platform_key import PlatformKey
from tests.conftest import new_app
from tests.inference_constructs.helpers import new_model, new_stack

SCALE_TO_ZERO = {
    "instance_type": "ml.m5.large",
    "max_concurrent_invocations_per_instance": 4,
    "invocation_timeout_seconds": 3600,
    "include_inference_response_in": ["SUCCESS_NOTIFICATION_TOPIC", "ERROR_NOTIFICATION_TOPIC"],
    "autoscaling": {
        "min_capacity": 0,
        "max_capacity": 3,
        "target_backlog_per_instance": 7,
        "scale_in_cooldown_seconds": 900,
        "scale_out_cooldown_seconds": 120,
    },
    "alarms": {
        "oldest_request_age_seconds": 2400,
        "backlog_size": 250,
        "invocation_failures": 2,
        "evaluation_periods": 3,
        "datapoints_to_alarm": 3,
    },
    "error_queue": {"retention_days": 10, "max_receive_count": 4},
}


def _join(*parts):
    return {"Fn::Join": ["", list(parts)]}


def build(model_artifact, settings, *, endpoint_name="test-iris-async", path_prefix="test/iris", stack=None):
    stack = stack or new_stack()
    # The platform key: its policy lets SNS deliver to the encrypted error queue.
    key = PlatformKey(stack, "PlatformKey", alias="test/key", removal_policy=cdk.RemovalPolicy.DESTROY).key
    bucket = s3.Bucket(stack, "AsyncBucket", encryption=s3.BucketEncryption.KMS, encryption_key=key)
    alarm_topic = sns.Topic(stack, "Alarms")
    model = new_model(stack, key, model_artifact)
    endpoint = AsyncEndpoint(
        stack,
        "Async",
        model=model,
        encryption_key=key,
        async_bucket=bucket,
        path_prefix=path_prefix,
        endpoint_name=endpoint_name,
        alarm_topic=alarm_topic,
        settings=settings,
    )
    return stack, endpoint


def logical_id(stack: cdk.Stack, construct) -> str:
    return stack.get_logical_id(construct.node.default_child)


@pytest.fixture(scope="module")
def scale_to_zero(model_artifact):
    stack, endpoint = build(model_artifact, SCALE_TO_ZERO)
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(caller)
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_read_results(reader)
    template = Template.from_stack(stack)
    ids = {
        "bucket": stack.get_logical_id(endpoint.bucket.node.default_child),
        "key": stack.get_logical_id(endpoint.encryption_key.node.default_child),
        "success": stack.get_logical_id(endpoint.success_topic.node.default_child),
        "error": stack.get_logical_id(endpoint.error_topic.node.default_child),
        "role": stack.get_logical_id(endpoint.model.role.node.default_child),
        "alarms": stack.get_logical_id(stack.node.find_child("Alarms").node.default_child),
    }
    return endpoint, template, ids


# Endpoint config and endpoint -------------------------------------------------------------


def test_endpoint_config_writes_results_and_failures_under_its_own_prefixes(scale_to_zero):
    _, template, ids = scale_to_zero
    template.resource_count_is("AWS::SageMaker::EndpointConfig", 1)
    key_arn = {"Fn::GetAtt": [ids["key"], "Arn"]}
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "KmsKeyId": key_arn,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                    "InitialVariantWeight": 1,
                    "ModelName": {"Fn::GetAtt": [Match.string_like_regexp("^Model"), "ModelName"]},
                }
            ],
            "AsyncInferenceConfig": {
                "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4},
                "OutputConfig": {
                    "S3OutputPath": _join("s3://", {"Ref": ids["bucket"]}, "/test/iris/output"),
                    "S3FailurePath": _join("s3://", {"Ref": ids["bucket"]}, "/test/iris/failure"),
                    "KmsKeyId": key_arn,
                    "NotificationConfig": {
                        "SuccessTopic": {"Ref": ids["success"]},
                        "ErrorTopic": {"Ref": ids["error"]},
                        "IncludeInferenceResponseIn": ["SUCCESS_NOTIFICATION_TOPIC", "ERROR_NOTIFICATION_TOPIC"],
                    },
                },
            },
        },
    )
    config = next(iter(template.find_resources("AWS::SageMaker::EndpointConfig").values()))
    assert "EndpointConfigName" not in config["Properties"]
    # SageMaker checks the role at creation: the config waits for the role's async permissions.
    assert any(dependency.startswith("AsyncExecutionPolicy") for dependency in config["DependsOn"])


def test_endpoint_has_stable_name_and_keeps_autoscaled_capacity(scale_to_zero):
    endpoint, template, _ = scale_to_zero
    template.resource_count_is("AWS::SageMaker::Endpoint", 1)
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "EndpointName": "test-iris-async",
            "EndpointConfigName": {
                "Fn::GetAtt": [Match.string_like_regexp("^AsyncEndpointConfig"), "EndpointConfigName"]
            },
            "RetainAllVariantProperties": True,
        },
    )
    assert endpoint.endpoint_name == "test-iris-async"


def test_attributes_name_the_paths_topics_and_timeout(scale_to_zero):
    endpoint, _, ids = scale_to_zero
    stack = cdk.Stack.of(endpoint)
    for attribute, folder in (("input_path", "input"), ("output_path", "output"), ("failure_path", "failure")):
        assert stack.resolve(getattr(endpoint, attribute)) == _join(
            "s3://", {"Ref": ids["bucket"]}, f"/test/iris/{folder}/"
        )
    assert endpoint.input_prefix == "test/iris/input/"
    assert stack.resolve(endpoint.success_topic.topic_arn) == {"Ref": ids["success"]}
    assert stack.resolve(endpoint.error_topic.topic_arn) == {"Ref": ids["error"]}
    assert endpoint.invocation_timeout_seconds == 3600


# Topics -----------------------------------------------------------------------------------


def test_success_and_error_topics_are_kms_encrypted_and_tls_only(scale_to_zero):
    _, template, ids = scale_to_zero
    template.resource_count_is("AWS::SNS::Topic", 3)  # success, error and the test's alarm topic
    for topic in ("success", "error"):
        properties = template.to_json()["Resources"][ids[topic]]["Properties"]
        assert properties["KmsMasterKeyId"] == {"Fn::GetAtt": [ids["key"], "Arn"]}
        template.has_resource_properties(
            "AWS::SNS::TopicPolicy",
            {
                "Topics": [{"Ref": ids[topic]}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Action": "sns:Publish",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )


# Execution role ---------------------------------------------------------------------------


def test_execution_role_writes_only_its_own_prefixes_and_publishes_only_its_own_topics(scale_to_zero):
    _, template, ids = scale_to_zero
    bucket_arn = {"Fn::GetAtt": [ids["bucket"], "Arn"]}
    policies = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyName": Match.string_like_regexp("^AsyncExecutionPolicy")}}
    )
    assert len(policies) == 1
    policy = next(iter(policies.values()))["Properties"]
    assert policy["Roles"] == [{"Ref": ids["role"]}]
    statements = {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}
    assert statements == {
        "ReadOwnRequests": {
            "Sid": "ReadOwnRequests",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": _join(bucket_arn, "/test/iris/input/*"),
        },
        "WriteOwnResultsAndFailures": {
            "Sid": "WriteOwnResultsAndFailures",
            "Effect": "Allow",
            "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
            "Resource": [_join(bucket_arn, "/test/iris/failure/*"), _join(bucket_arn, "/test/iris/output/*")],
        },
        "EncryptResultsAndNotifications": {
            "Sid": "EncryptResultsAndNotifications",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": {"Fn::GetAtt": [ids["key"], "Arn"]},
        },
        "PublishOwnNotifications": {
            "Sid": "PublishOwnNotifications",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": [{"Ref": ids["error"]}, {"Ref": ids["success"]}],
        },
    }


def test_no_other_policy_lets_the_execution_role_write_objects_or_publish(scale_to_zero):
    _, template, ids = scale_to_zero
    for name, policy in template.find_resources("AWS::IAM::Policy").items():
        if {"Ref": ids["role"]} not in policy["Properties"]["Roles"] or name.startswith("AsyncExecutionPolicy"):
            continue
        rendered = json.dumps(policy["Properties"]["PolicyDocument"])
        assert "s3:PutObject" not in rendered and "sns:Publish" not in rendered


# Scaling ----------------------------------------------------------------------------------


def test_scalable_target_reaches_zero(scale_to_zero):
    _, template, _ = scale_to_zero
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 1)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "ServiceNamespace": "sagemaker",
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "ResourceId": "endpoint/test-iris-async/variant/AllTraffic",
            "MinCapacity": 0,
            "MaxCapacity": 3,
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
    assert any(dependency.startswith("AsyncEndpoint") for dependency in target["DependsOn"])


def test_target_tracking_on_backlog_per_instance(scale_to_zero):
    _, template, _ = scale_to_zero
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 2)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "CustomizedMetricSpecification": {
                    "MetricName": "ApproximateBacklogSizePerInstance",
                    "Namespace": "AWS/SageMaker",
                    "Dimensions": [{"Name": "EndpointName", "Value": "test-iris-async"}],
                    "Statistic": "Average",
                },
                "TargetValue": 7,
                "ScaleInCooldown": 900,
                "ScaleOutCooldown": 120,
            },
        },
    )


def test_backlog_without_capacity_alarm_triggers_the_step_policy_that_wakes_from_zero(scale_to_zero):
    _, template, _ = scale_to_zero
    step_policies = template.find_resources(
        "AWS::ApplicationAutoScaling::ScalingPolicy", {"Properties": {"PolicyType": "StepScaling"}}
    )
    assert len(step_policies) == 1
    step_id, step_policy = next(iter(step_policies.items()))
    assert step_policy["Properties"]["ScalingTargetId"] == {
        "Ref": next(iter(template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")))
    }
    assert step_policy["Properties"]["StepScalingPolicyConfiguration"] == {
        "AdjustmentType": "ChangeInCapacity",
        "Cooldown": 120,
        "MetricAggregationType": "Maximum",
        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
    }
    wake = template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "HasBacklogWithoutCapacity"}}
    )
    assert len(wake) == 1
    properties = next(iter(wake.values()))["Properties"]
    # The alarm's only action is the step policy: a Ref to a scaling policy is its ARN.
    assert properties["AlarmActions"] == [{"Ref": step_id}]
    assert properties["Namespace"] == "AWS/SageMaker"
    assert properties["Dimensions"] == [{"Name": "EndpointName", "Value": "test-iris-async"}]
    assert properties["Threshold"] == 1
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert properties["TreatMissingData"] == "notBreaching"
    assert properties["Period"] == 60 and properties["EvaluationPeriods"] == 1


# Alarms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric_name", "threshold"), [("ApproximateAgeOfOldestRequest", 2400), ("ApproximateBacklogSize", 250)]
)
def test_backlog_alarms_notify_the_platform_alarm_topic(scale_to_zero, metric_name, threshold):
    _, template, ids = scale_to_zero
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": metric_name,
            "Namespace": "AWS/SageMaker",
            "Dimensions": [{"Name": "EndpointName", "Value": "test-iris-async"}],
            "Statistic": "Maximum",
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 3,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": ids["alarms"]}],
            "OKActions": [{"Ref": ids["alarms"]}],
        },
    )


def test_invocation_failures_alarm_fires_on_the_first_failing_minute(scale_to_zero):
    endpoint, template, ids = scale_to_zero
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "test-iris-async-InvocationFailures",
            "MetricName": "InvocationFailures",
            "Namespace": "AWS/SageMaker",
            "Dimensions": Match.array_with(
                [{"Name": "EndpointName", "Value": "test-iris-async"}, {"Name": "VariantName", "Value": "AllTraffic"}]
            ),
            "Statistic": "Sum",
            "Period": 60,
            "Threshold": 2,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            # One failing minute fires it; evaluation_periods clean minutes clear it.
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 1,
            # An idle endpoint processes nothing and publishes nothing: that is not a failure.
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": ids["alarms"]}],
            "OKActions": [{"Ref": ids["alarms"]}],
        },
    )
    assert endpoint.alarm_names["InvocationFailures"] == "test-iris-async-InvocationFailures"


def test_three_health_alarms_with_stable_names_plus_the_wake_up_alarm(scale_to_zero):
    endpoint, template, _ = scale_to_zero
    template.resource_count_is("AWS::CloudWatch::Alarm", 4)
    assert set(endpoint.alarms) == {"OldestRequestAge", "BacklogSize", "InvocationFailures"}
    for key, name in endpoint.alarm_names.items():
        template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": name})
        assert name == f"test-iris-async-{key}"
    # The wake-up alarm drives scaling, not people: it has no name of ours and no topic.
    wake = template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "HasBacklogWithoutCapacity"}}
    )
    (properties,) = [alarm["Properties"] for alarm in wake.values()]
    assert "AlarmName" not in properties and "OKActions" not in properties


# Data capture -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capturing(model_artifact):
    stack = new_stack()
    key = PlatformKey(stack, "PlatformKey", alias="test/key", removal_policy=cdk.RemovalPolicy.DESTROY).key
    capture_bucket = s3.Bucket(stack, "CaptureBucket", encryption=s3.BucketEncryption.KMS, encryption_key=key)
    endpoint = AsyncEndpoint(
        stack,
        "Async",
        model=new_model(stack, key, model_artifact),
        encryption_key=key,
        async_bucket=s3.Bucket(stack, "AsyncBucket", encryption=s3.BucketEncryption.KMS, encryption_key=key),
        path_prefix="test/iris",
        endpoint_name="test-iris-async",
        alarm_topic=sns.Topic(stack, "Alarms"),
        settings={
            "instance_type": "ml.m5.large",
            "data_capture": {"sampling_percentage": 30, "capture": ["response"], "json_content_types": []},
        },
        data_capture_bucket=capture_bucket,
        data_capture_prefix="test/iris/async/",
    )
    ids = {
        "key": stack.get_logical_id(key.node.default_child),
        "capture": stack.get_logical_id(capture_bucket.node.default_child),
    }
    return stack, endpoint, Template.from_stack(stack), ids


def test_data_capture_goes_to_the_capture_bucket_under_the_model_prefix_encrypted(capturing):
    _, _, template, ids = capturing
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "AsyncInferenceConfig": Match.any_value(),
            "DataCaptureConfig": {
                "EnableCapture": True,
                "InitialSamplingPercentage": 30,
                "DestinationS3Uri": _join("s3://", {"Ref": ids["capture"]}, "/test/iris/async/"),
                "KmsKeyId": {"Fn::GetAtt": [ids["key"], "Arn"]},
                "CaptureOptions": [{"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
            },
        },
    )


def test_data_capture_writes_only_under_its_prefix_before_the_config_exists(capturing):
    stack, endpoint, template, ids = capturing
    policy_id = stack.get_logical_id(endpoint.node.find_child("ExecutionPolicy").node.default_child)
    statements = template.to_json()["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]
    capture = [s for s in statements if s.get("Sid") == "WriteOwnCapturedData"]
    assert capture == [
        {
            "Sid": "WriteOwnCapturedData",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": _join({"Fn::GetAtt": [ids["capture"], "Arn"]}, "/test/iris/async/*"),
        }
    ]
    encrypt = next(s for s in statements if s.get("Sid") == "EncryptCapturedData")
    assert sorted(encrypt["Action"]) == ["kms:Encrypt", "kms:GenerateDataKey"]
    assert encrypt["Resource"] == {"Fn::GetAtt": [ids["key"], "Arn"]}
    # The endpoint config waits for the policy that lets SageMaker write the captured data.
    config = next(iter(template.find_resources("AWS::SageMaker::EndpointConfig").values()))
    assert policy_id in config["DependsOn"]


def test_data_capture_survives_retained_variant_properties(capturing):
    _, _, template, _ = capturing
    # Async endpoints retain their instance count across updates; data capture must follow
    # the new config instead of being retained from the old one.
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "RetainAllVariantProperties": True,
            "ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DataCaptureConfig"}],
        },
    )


def test_without_data_capture_the_config_has_none(scale_to_zero):
    _, template, _ = scale_to_zero
    config = next(iter(template.find_resources("AWS::SageMaker::EndpointConfig").values()))["Properties"]
    assert "DataCaptureConfig" not in config


def test_data_capture_needs_its_bucket_and_prefix(model_artifact):
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, {"instance_type": "ml.m5.large", "data_capture": {}})
    assert "data_capture_bucket and data_capture_prefix: required when settings.data_capture is set" in str(
        raised.value
    )


# Error queue ------------------------------------------------------------------------------


def test_error_queue_keeps_failure_notices_encrypted_with_a_dead_letter_queue(scale_to_zero):
    endpoint, template, ids = scale_to_zero
    stack = cdk.Stack.of(endpoint)
    queue_id = stack.get_logical_id(endpoint.error_queue.node.default_child)
    dead_letter_id = stack.get_logical_id(endpoint.error_dead_letter_queue.node.default_child)
    template.resource_count_is("AWS::SQS::Queue", 2)
    key_arn = {"Fn::GetAtt": [ids["key"], "Arn"]}
    resources = template.to_json()["Resources"]
    assert resources[queue_id]["Properties"]["KmsMasterKeyId"] == key_arn
    assert resources[queue_id]["Properties"]["MessageRetentionPeriod"] == 10 * 24 * 3600
    assert resources[queue_id]["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_letter_id, "Arn"]},
        "maxReceiveCount": 4,
    }
    assert resources[dead_letter_id]["Properties"]["KmsMasterKeyId"] == key_arn
    assert resources[dead_letter_id]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    for queue in (queue_id, dead_letter_id):
        template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": queue}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                    )
                },
            },
        )


def test_error_queue_is_subscribed_to_the_error_topic_only(scale_to_zero):
    endpoint, template, ids = scale_to_zero
    queue_id = cdk.Stack.of(endpoint).get_logical_id(endpoint.error_queue.node.default_child)
    template.resource_count_is("AWS::SNS::Subscription", 1)
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "sqs",
            "TopicArn": {"Ref": ids["error"]},
            "Endpoint": {"Fn::GetAtt": [queue_id, "Arn"]},
            "RawMessageDelivery": True,
        },
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Effect": "Allow",
                            "Action": "sqs:SendMessage",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
                            "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": ids["error"]}}},
                        }
                    ]
                )
            },
        },
    )


def test_queues_reference_the_key_without_editing_its_policy(scale_to_zero):
    endpoint, template, ids = scale_to_zero
    stack = cdk.Stack.of(endpoint)
    # Editing it would name the error topic, which the key encrypts: a dependency cycle.
    statements = template.to_json()["Resources"][ids["key"]]["Properties"]["KeyPolicy"]["Statement"]
    assert "AsyncErrorTopic" not in json.dumps(statements)
    sns_statement = next(s for s in statements if s.get("Principal") == {"Service": "sns.amazonaws.com"})
    assert sns_statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "aws:SourceArn" in sns_statement["Condition"]["ArnLike"]
    assert stack.resolve(endpoint.error_queue.encryption_master_key.key_arn) == {"Fn::GetAtt": [ids["key"], "Arn"]}


def test_key_from_another_stack_is_referenced_not_modified(model_artifact):
    """The platform key lives in the platform stack; the model stack must not edit its policy
    (that would make the two stacks reference each other)."""
    app = new_app()
    platform = cdk.Stack(app, "Platform")
    key = PlatformKey(platform, "Key", alias="test/key", removal_policy=cdk.RemovalPolicy.DESTROY).key
    bucket = s3.Bucket(platform, "AsyncBucket", encryption=s3.BucketEncryption.KMS, encryption_key=key)
    alarm_topic = sns.Topic(platform, "Alarms")
    resources_before = json.dumps(Template.from_stack(platform).to_json()["Resources"], sort_keys=True)

    app = new_app()
    platform = cdk.Stack(app, "Platform")
    key = PlatformKey(platform, "Key", alias="test/key", removal_policy=cdk.RemovalPolicy.DESTROY).key
    bucket = s3.Bucket(platform, "AsyncBucket", encryption=s3.BucketEncryption.KMS, encryption_key=key)
    alarm_topic = sns.Topic(platform, "Alarms")
    model_stack = cdk.Stack(app, "Model")
    AsyncEndpoint(
        model_stack,
        "Async",
        model=new_model(model_stack, key, model_artifact),
        encryption_key=key,
        async_bucket=bucket,
        path_prefix="test/iris",
        endpoint_name="test-iris-async",
        alarm_topic=alarm_topic,
        settings=SCALE_TO_ZERO,
    )
    assembly = app.synth()  # would raise on a dependency cycle between the stacks
    platform_template = assembly.get_stack_by_name("Platform").template
    # Only exports are added to the platform stack; none of its resources (the key policy) change.
    assert json.dumps(platform_template["Resources"], sort_keys=True) == resources_before
    # The platform key already lets SNS deliver for this account's topics.
    statements = platform_template["Resources"][platform.get_logical_id(key.node.default_child)]["Properties"][
        "KeyPolicy"
    ]["Statement"]
    assert any(statement.get("Principal") == {"Service": "sns.amazonaws.com"} for statement in statements)
    queues = Template.from_json(assembly.get_stack_by_name("Model").template).find_resources("AWS::SQS::Queue")
    assert len(queues) == 2
    for queue in queues.values():
        assert "Fn::ImportValue" in queue["Properties"]["KmsMasterKeyId"]


# Grants -----------------------------------------------------------------------------------


def _statements_of(template: Template, role_prefix: str) -> list[dict]:
    policies = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp(f"^{role_prefix}")}]}}
    )
    assert len(policies) == 1
    return next(iter(policies.values()))["Properties"]["PolicyDocument"]["Statement"]


def test_grant_invoke_allows_async_invocation_and_writing_inputs_only(scale_to_zero):
    _, template, ids = scale_to_zero
    statements = _statements_of(template, "Caller")
    by_action = {json.dumps(statement["Action"]): statement for statement in statements}
    assert set(by_action) == {
        '"sagemaker:InvokeEndpointAsync"',
        '["s3:AbortMultipartUpload", "s3:PutObject"]',
        '["kms:Decrypt", "kms:GenerateDataKey"]',
    }
    assert by_action['"sagemaker:InvokeEndpointAsync"']["Resource"] == _join(
        "arn:",
        {"Ref": "AWS::Partition"},
        ":sagemaker:",
        {"Ref": "AWS::Region"},
        ":",
        {"Ref": "AWS::AccountId"},
        ":endpoint/test-iris-async",
    )
    assert by_action['["s3:AbortMultipartUpload", "s3:PutObject"]']["Resource"] == _join(
        {"Fn::GetAtt": [ids["bucket"], "Arn"]}, "/test/iris/input/*"
    )
    assert by_action['["kms:Decrypt", "kms:GenerateDataKey"]']["Resource"] == {"Fn::GetAtt": [ids["key"], "Arn"]}


def test_grant_read_results_reads_outputs_and_failures_only(scale_to_zero):
    _, template, ids = scale_to_zero
    bucket_arn = {"Fn::GetAtt": [ids["bucket"], "Arn"]}
    statements = _statements_of(template, "Reader")
    assert statements == [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [_join(bucket_arn, "/test/iris/failure/*"), _join(bucket_arn, "/test/iris/output/*")],
        },
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": [ids["key"], "Arn"]}},
    ]


# Metrics ----------------------------------------------------------------------------------


def test_queue_metrics_are_per_endpoint_and_processing_metrics_per_variant(scale_to_zero):
    endpoint, _, _ = scale_to_zero
    endpoint_only = {"EndpointName": "test-iris-async"}
    for metric, name, statistic in (
        (endpoint.metric_approximate_backlog_size(), "ApproximateBacklogSize", "Average"),
        (endpoint.metric_approximate_backlog_size_per_instance(), "ApproximateBacklogSizePerInstance", "Average"),
        (endpoint.metric_approximate_age_of_oldest_request(), "ApproximateAgeOfOldestRequest", "Maximum"),
        (endpoint.metric_has_backlog_without_capacity(), "HasBacklogWithoutCapacity", "Average"),
    ):
        assert (metric.metric_name, metric.statistic, metric.dimensions) == (name, statistic, endpoint_only)
        assert metric.namespace == "AWS/SageMaker"
    with_variant = {"EndpointName": "test-iris-async", "VariantName": "AllTraffic"}
    assert endpoint.metric_invocations_processed().dimensions == with_variant
    assert endpoint.metric_invocation_failures().statistic == "Sum"
    assert endpoint.metric_time_in_backlog().statistic == "p99"
    assert endpoint.metric_total_processing_time().metric_name == "TotalProcessingTime"
    assert endpoint.metric_approximate_backlog_size(period=cdk.Duration.minutes(5)).period.to_seconds() == 300


# Variants of the settings -----------------------------------------------------------------


def test_a_warm_minimum_needs_no_wake_up_policy_and_the_defaults_are_lean(model_artifact):
    stack, endpoint = build(
        model_artifact, {"instance_type": "ml.c5.xlarge", "autoscaling": {"min_capacity": 1, "max_capacity": 2}}
    )
    template = Template.from_stack(stack)
    assert endpoint.wake_from_zero is None and endpoint.wake_alarm is None
    assert endpoint.error_queue is None
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 1)
    template.resource_count_is("AWS::CloudWatch::Alarm", 3)
    template.resource_count_is("AWS::SQS::Queue", 0)
    template.resource_count_is("AWS::SNS::Subscription", 0)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 1, "MaxCapacity": 2}
    )
    config = next(iter(template.find_resources("AWS::SageMaker::EndpointConfig").values()))["Properties"]
    assert config["AsyncInferenceConfig"]["ClientConfig"] == {"MaxConcurrentInvocationsPerInstance": 1}
    assert "IncludeInferenceResponseIn" not in config["AsyncInferenceConfig"]["OutputConfig"]["NotificationConfig"]
    assert endpoint.invocation_timeout_seconds == 900


def test_settings_default_to_scale_to_zero():
    settings = AsyncSettings(instance_type="ml.m5.large")
    assert settings.autoscaling.min_capacity == 0
    assert settings.error_queue is None
    with pytest.raises(Exception, match="frozen"):
        settings.invocation_timeout_seconds = 60  # type: ignore[misc]


# Validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"instance_type": "ml.m5.large", "invocation_timeout_seconds": 3601},
            "settings.invocation_timeout_seconds: Input should be less than or equal to 3600 (got 3601)",
        ),
        (
            {"instance_type": "ml.m5.large", "max_concurrent_invocations_per_instance": 0},
            "settings.max_concurrent_invocations_per_instance: Input should be greater than or equal to 1 (got 0)",
        ),
        (
            {"instance_type": "ml.m5.large", "autoscaling": {"min_capacity": 3, "max_capacity": 2}},
            "settings.autoscaling: min_capacity (3) is above max_capacity (2)",
        ),
        (
            {"instance_type": "ml.m5.large", "initial_instance_count": 3, "autoscaling": {"max_capacity": 2}},
            "initial_instance_count (3) is above autoscaling.max_capacity (2)",
        ),
        ({"instance_type": "ml.m5.large", "initial_instance_count": 0}, "greater than or equal to 1"),
        (
            {"instance_type": "ml.m5.large", "include_inference_response_in": ["SUCCESS"]},
            "Input should be 'SUCCESS_NOTIFICATION_TOPIC' or 'ERROR_NOTIFICATION_TOPIC'",
        ),
        (
            {
                "instance_type": "ml.m5.large",
                "include_inference_response_in": ["ERROR_NOTIFICATION_TOPIC", "ERROR_NOTIFICATION_TOPIC"],
            },
            "lists a topic twice",
        ),
        ({"instance_type": "ml.m5.large", "error_queue": {"retention_days": 15}}, "less than or equal to 14"),
        ({"instance_type": "ml.m5.large", "alarms": {"backlog_size": 0}}, "settings.alarms.backlog_size"),
        ({"instance_type": "ml.m5.larg"}, "did you mean ml.m5.large"),
        ({"instance_type": "ml.t2.medium"}, "autoscaling is not supported on burstable instance type ml.t2.medium"),
        ({"instance_type": "ml.inf1.xlarge", "deployment": {"strategy": "canary", "canary_percent": 10}}, "Inf1"),
        (
            {"instance_type": "ml.m5.large", "timeout": 60},
            "settings.timeout: unknown field; allowed fields: instance_type, initial_instance_count",
        ),
    ],
)
def test_invalid_settings_are_rejected_with_the_field_named(model_artifact, settings, expected):
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, settings)
    assert expected in str(raised.value)
    assert "Test/Async" in str(raised.value)


@pytest.mark.parametrize("prefix", ["/test/iris", "test/iris/", "test//iris", "Test/Iris", ""])
def test_bad_path_prefix_is_rejected(model_artifact, prefix):
    with pytest.raises(InvalidPropsError, match=r"path_prefix: .* e\.g\. prod/iris"):
        build(model_artifact, {"instance_type": "ml.m5.large"}, path_prefix=prefix)


def test_every_problem_is_reported_together(model_artifact):
    with pytest.raises(InvalidPropsError) as raised:
        build(
            model_artifact,
            {
                "instance_type": "ml.m5.large",
                "invocation_timeout_seconds": 0,
                "max_concurrent_invocations_per_instance": 0,
            },
            endpoint_name="bad_name!",
            path_prefix="/x",
        )
    assert len(raised.value.problems) == 4


def test_construct_builds_from_a_settings_object(model_artifact):
    settings = AsyncSettings.model_validate(SCALE_TO_ZERO)
    stack, endpoint = build(model_artifact, settings)
    assert endpoint.settings is settings
    Template.from_stack(stack).resource_count_is("AWS::SageMaker::Endpoint", 1)


# Deployment guardrails ----------------------------------------------------------------------


def test_updates_roll_back_on_the_failures_alarm_as_real_time_ones_do(scale_to_zero):
    endpoint, template, _ = scale_to_zero
    (resource,) = template.find_resources("AWS::SageMaker::Endpoint").values()
    config = resource["Properties"]["DeploymentConfig"]
    assert config["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "test-iris-async-InvocationFailures"}]}
    assert config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {"Type": "ALL_AT_ONCE"}
    assert endpoint.rollback_alarms == [endpoint.alarms["InvocationFailures"]]
    # SageMaker checks the rollback alarms exist when it takes the config.
    assert any(dep.startswith("AsyncInvocationFailuresAlarm") for dep in resource["DependsOn"])


def test_a_canary_update_on_an_async_endpoint(model_artifact):
    settings = {**SCALE_TO_ZERO, "deployment": {"strategy": "canary", "canary_percent": 10}}
    stack, _ = build(model_artifact, settings)
    (resource,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Endpoint").values()
    routing = resource["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["Type"] == "CANARY" and routing["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 10}
