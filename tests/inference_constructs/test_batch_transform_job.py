from __future__ import annotations

import hashlib
import json
import re
import time

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk.assertions import Match, Template
from constructs import Construct
from moto import mock_aws

from inference_constructs import service_models
from inference_constructs.batch import definition as batch_definition
from inference_constructs.batch_transform_job import (
    CAPACITY_ERRORS,
    CREATE_TRANSFORM_JOB_ERRORS,
    FAILURE_ERROR,
    MAX_TRANSFORM_JOB_NAME_LENGTH,
    SERVICE_ERRORS,
    BatchSettings,
    BatchTransformJob,
)
from inference_constructs.errors import InvalidPropsError
from tests import batch_emulator as emulator
from tests.conftest import dumps
from tests.inference_constructs.helpers import new_key, new_model, new_stack

FULL = {
    "instance_type": "ml.c5.xlarge",
    "instance_count": 2,
    "content_type": "text/csv",
    "split_type": "Line",
    "batch_strategy": "MultiRecord",
    "max_payload_in_mb": 10,
    "max_concurrent_transforms": 4,
    "assemble_with": "Line",
    "accept": "text/csv",
    "data_processing": {"input_filter": "$[1:]", "output_filter": "$[0,-1]", "join_source": "Input"},
    "model_client": {"invocations_timeout_seconds": 120, "invocations_max_retries": 1},
    "environment": {"LOG_LEVEL": "INFO"},
    "timeout_hours": 6,
    "schedule": "cron(0 2 * * ? *)",
    "run_on_upload": True,
    "log_retention_days": 90,
}


def build(model_artifact, settings, **overrides):
    stack = new_stack()
    key = new_key(stack)
    model = new_model(stack, key, model_artifact)
    props = {
        "model": model,
        "settings": settings,
        "bucket": s3.Bucket(stack, "BatchBucket"),
        "key_prefix": "test/iris",
        "encryption_key": key,
        "notifications_topic": sns.Topic(stack, "Notifications"),
        "alarms_topic": sns.Topic(stack, "Alarms"),
    }
    props.update(overrides)
    return stack, BatchTransformJob(stack, "Batch", **props)


@pytest.fixture(scope="module")
def full(model_artifact):
    stack, job = build(model_artifact, FULL)
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    job.grant_run(caller)
    return job, Template.from_stack(stack)


def definition(template: Template) -> dict:
    """The state machine definition, references shown as <Ref:Id> / <Id.Attribute>."""
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]

    def show(part):
        if isinstance(part, str):
            return part
        if "Ref" in part:
            return f"<Ref:{part['Ref']}>"
        return "<{}.{}>".format(*part["Fn::GetAtt"])

    return json.loads("".join(show(part) for part in parts))


def policy_statements(template: Template, logical_id_prefix: str) -> list[dict]:
    (policy,) = [
        resource
        for logical_id, resource in template.find_resources("AWS::IAM::Policy").items()
        if logical_id.startswith(logical_id_prefix)
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


# The definition ------------------------------------------------------------------------------


def test_task_runs_the_transform_job_and_waits_for_it(full):
    _, template = full
    states = definition(template)["States"]
    task = states["RunTransformJob"]
    assert task["Type"] == "Task"
    assert task["Resource"] == "arn:<Ref:AWS::Partition>:states:::sagemaker:createTransformJob.sync"
    assert task["TimeoutSeconds"] == 6 * 3600
    parameters = task["Parameters"]
    assert parameters["TransformJobName.$"] == "$.job_name"
    assert parameters["ModelName"].startswith("<Model") and parameters["ModelName"].endswith(".ModelName>")
    assert parameters["TransformInput"] == {
        "ContentType": "text/csv",
        "SplitType": "Line",
        "DataSource": {"S3DataSource": {"S3Uri.$": "$.input_uri", "S3DataType": "S3Prefix"}},
    }
    output = parameters["TransformOutput"]
    assert output["S3OutputPath.$"] == "$.output_uri"
    assert (output["Accept"], output["AssembleWith"]) == ("text/csv", "Line")
    assert output["KmsKeyId"].startswith("<Key") and output["KmsKeyId"].endswith(".Arn>")
    assert parameters["TransformResources"] == {
        "InstanceCount": 2,
        "InstanceType": "ml.c5.xlarge",
        "VolumeKmsKeyId": output["KmsKeyId"],
    }
    assert parameters["BatchStrategy"] == "MultiRecord"
    assert parameters["MaxPayloadInMB"] == 10
    assert parameters["MaxConcurrentTransforms"] == 4
    assert parameters["ModelClientConfig"] == {"InvocationsTimeoutInSeconds": 120, "InvocationsMaxRetries": 1}
    assert parameters["Environment"] == {"LOG_LEVEL": "INFO"}
    assert parameters["DataProcessing"] == {"InputFilter": "$[1:]", "OutputFilter": "$[0,-1]", "JoinSource": "Input"}


def test_every_execution_names_its_own_job_within_the_length_limit(full):
    job, template = full
    name_job = definition(template)["States"]["NameJob"]
    expression = "States.Format('test-iris-{}', States.Hash($$.Execution.Id, 'MD5'))"
    assert name_job["Parameters"]["job_name.$"] == expression
    # "<prefix>-" plus a 32-character MD5 digest, within SageMaker's 63 characters for the longest prefix.
    longest = "a" * 30
    assert len(f"{longest}-{hashlib.md5(b'x').hexdigest()}") == MAX_TRANSFORM_JOB_NAME_LENGTH
    assert job.job_name_prefix == "test-iris"


def test_capacity_and_service_errors_are_retried_with_backoff_under_the_names_the_integration_raises(full):
    _, template = full
    retries = definition(template)["States"]["RunTransformJob"]["Retry"]
    # Step Functions' names: the Java SDK's exception classes (AWS's own example retries these two).
    assert [retry["ErrorEquals"] for retry in retries] == [
        ["SageMaker.ResourceLimitExceededException"],
        ["SageMaker.AmazonSageMakerException"],
    ]
    assert (CAPACITY_ERRORS, SERVICE_ERRORS) == (
        ("SageMaker.ResourceLimitExceededException",),
        ("SageMaker.AmazonSageMakerException",),
    )
    assert {name for retry in retries for name in retry["ErrorEquals"]} <= CREATE_TRANSFORM_JOB_ERRORS
    for retry in retries:
        assert retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 3
    assert retries[0]["IntervalSeconds"] >= 60  # capacity frees up as other jobs end, not in seconds
    assert retries[1]["JitterStrategy"] == "FULL"  # throttling arrives under the generic name


def test_integration_error_names_follow_the_sdk_exception_classes():
    assert service_models.sagemaker_integration_error("ResourceLimitExceeded") == (
        "SageMaker.ResourceLimitExceededException"
    )
    assert service_models.sagemaker_integration_error("AmazonSageMakerException") == (
        "SageMaker.AmazonSageMakerException"
    )


def test_every_failure_is_caught_published_and_ends_the_execution_failed(full):
    _, template = full
    states = definition(template)["States"]
    assert states["RunTransformJob"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "NotifyFailure"}
    ]
    notify = states["NotifyFailure"]
    assert notify["Resource"] == "arn:<Ref:AWS::Partition>:states:::sns:publish"
    assert notify["Parameters"]["TopicArn"].startswith("<Ref:Notifications")
    assert notify["Parameters"]["Message"]["job_name.$"] == "$.job_name"
    assert notify["Parameters"]["Message"]["reason.$"] == "$.failure.Cause"
    assert notify["Parameters"]["Message"]["error.$"] == "$.failure.Error"
    assert notify["Parameters"]["MessageAttributes"]["status"]["StringValue"] == "FAILED"
    assert notify["ResultPath"] is None  # the state keeps the job name and failure for what follows
    assert notify["Next"] == "SummarizeFailure"
    assert states["SummarizeFailure"]["Next"] == "JobFailed"
    assert states["JobFailed"] == {"Type": "Fail", "Error": FAILURE_ERROR, "CausePath": "$.outcome.cause"}


def test_success_is_published_too(full):
    _, template = full
    states = definition(template)["States"]
    assert states["RunTransformJob"]["Next"] == "NotifySuccess"
    success = states["NotifySuccess"]
    assert success["Resource"] == "arn:<Ref:AWS::Partition>:states:::sns:publish"
    assert success["Parameters"]["MessageAttributes"]["status"]["StringValue"] == "SUCCEEDED"
    assert success["Parameters"]["Message"]["output_uri.$"] == "$.output_uri"
    assert success["Next"] == "JobSucceeded"


def test_input_and_output_overrides_are_checked_against_the_model_paths(full):
    job, template = full
    states = definition(template)["States"]
    assert states["InputGiven"]["Choices"][0] == {
        "Variable": "$.request.input_uri",
        "IsPresent": True,
        "Next": "UseGivenInput",
    }
    assert re.fullmatch(r"s3://<Ref:BatchBucket\w+>/test/iris/input/", states["UseDefaultInput"]["Result"])
    assert states["UseGivenOutput"]["InputPath"] == "$.request.output_uri"
    assert re.fullmatch(
        r"States\.Format\('s3://<Ref:BatchBucket\w+>/test/iris/output/\{\}/', States\.Format\(.*\)\)",
        states["NameJob"]["Parameters"]["default_output_uri.$"],
    )
    checks = states["CheckLocations"]["Choices"][0]["And"]
    patterns = [check["StringMatches"] for check in checks if "StringMatches" in check]
    assert [pattern.split(">", 1)[1] for pattern in patterns] == ["/test/iris/input/*", "/test/iris/output/*"]
    assert states["CheckLocations"]["Default"] == "RejectLocations"
    assert states["RejectLocations"]["Next"] == "NotifyFailure"
    assert job.input_prefix == "test/iris/input/" and job.output_prefix == "test/iris/output/"


# The state machine and its role ----------------------------------------------------------


def test_standard_state_machine_logged_traced_and_encrypted(full):
    job, template = full
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineName": "test-iris-batch-transform",
            "StateMachineType": "STANDARD",
            "RoleArn": {"Fn::GetAtt": [Match.string_like_regexp("^BatchStateMachineRole"), "Arn"]},
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": {
                "Level": "ALL",
                "IncludeExecutionData": True,
                "Destinations": [
                    {
                        "CloudWatchLogsLogGroup": {
                            "LogGroupArn": {"Fn::GetAtt": [Match.string_like_regexp("^BatchExecutionLogs"), "Arn"]}
                        }
                    }
                ],
            },
            "EncryptionConfiguration": {
                "Type": "CUSTOMER_MANAGED_KMS_KEY",
                "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
                "KmsDataKeyReusePeriodSeconds": 300,
            },
        },
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
            "RetentionInDays": 90,
            "LogGroupName": {"Fn::Join": ["", Match.array_with(["/aws/vendedlogs/states/test-iris-batch-transform-"])]},
        },
    )
    assert definition(template)["TimeoutSeconds"] == 7 * 3600  # the backstop behind the task's 6 hours
    # Created only once its role may deliver logs and use the key.
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    assert any(dep.startswith("BatchStateMachineRoleDefaultPolicy") for dep in machine["DependsOn"])
    assert job.state_machine_name == "test-iris-batch-transform"


def test_state_machine_role_is_scoped_to_its_own_jobs_model_role_topic_and_key(full):
    _, template = full
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "states.amazonaws.com"},
                            "Condition": {
                                "ArnLike": {
                                    "aws:SourceArn": {
                                        "Fn::Join": ["", Match.array_with([":stateMachine:test-iris-batch-transform"])]
                                    }
                                },
                                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                            },
                        }
                    )
                ]
            }
        },
    )
    statements = {s["Sid"]: s for s in policy_statements(template, "BatchStateMachineRoleDefaultPolicy")}
    jobs = statements["OwnTransformJobs"]
    # CDK's own task grants these for createTransformJob.sync; AddTags because the integration tags each job.
    assert sorted(jobs["Action"]) == [
        "sagemaker:AddTags",
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:ListTags",
        "sagemaker:StopTransformJob",
    ]
    assert jobs["Resource"]["Fn::Join"][1][-1] == ":transform-job/test-iris-*"
    passing = statements["PassTheModelRoleToSageMaker"]
    assert passing["Action"] == "iam:PassRole"
    role_id, attribute = passing["Resource"]["Fn::GetAtt"]
    assert role_id.startswith("ModelExecutionRole") and attribute == "Arn"
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    rule = statements["TrackJobsForTheSyncIntegration"]
    assert sorted(rule["Action"]) == ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
    assert rule["Resource"]["Fn::Join"][1][-1] == ":rule/StepFunctionsGetEventsForSageMakerTransformJobsRule"
    publish = statements["PublishOutcomes"]
    assert publish["Action"] == "sns:Publish" and publish["Resource"]["Ref"].startswith("Notifications")
    assert statements["EncryptJobVolumes"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    execution_data = statements["EncryptExecutionData"]["Condition"]["StringEquals"]
    assert "kms:EncryptionContext:aws:states:stateMachineArn" in execution_data
    # Only log delivery and X-Ray, which have no resource-level permissions, are granted on "*".
    on_everything = sorted(s["Sid"] for s in statements.values() if s["Resource"] == "*")
    assert on_everything == ["DeliverExecutionLogs", "TraceExecutions"]
    for statement in statements.values():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(action.endswith("*") for action in actions), statement


def test_never_amazon_sagemaker_full_access_nor_managed_policies(full):
    _, template = full
    rendered = dumps(template.to_json())
    assert "AmazonSageMakerFullAccess" not in rendered
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
    # CDK's task would create a SageMaker role of its own; the model's execution role is used.
    assert [role_id for role_id in template.find_resources("AWS::IAM::Role") if "Transform" in role_id] == []


def test_model_role_may_read_the_input_path_and_write_the_output_path_only(full):
    _, template = full
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("^ModelExecutionRole")}],
            "PolicyName": Match.string_like_regexp("ModelRoleDataAccess"),
        },
    )
    statements = {s["Sid"]: s for s in policy_statements(template, "BatchModelRoleDataAccess")}
    assert statements["ListTheInputPath"]["Action"] == "s3:ListBucket"
    assert statements["ListTheInputPath"]["Condition"] == {"StringLike": {"s3:prefix": ["test/iris/input/*"]}}
    assert statements["ReadTheInputPath"]["Action"] == "s3:GetObject"
    assert statements["ReadTheInputPath"]["Resource"]["Fn::Join"][1][-1] == "/test/iris/input/*"
    assert sorted(statements["WriteTheOutputPath"]["Action"]) == ["s3:AbortMultipartUpload", "s3:PutObject"]
    assert statements["WriteTheOutputPath"]["Resource"]["Fn::Join"][1][-1] == "/test/iris/output/*"
    s3_actions = {
        action
        for statement in statements.values()
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        if action.startswith("s3:")
    }
    assert s3_actions == {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}


# Triggers, alarms, metrics, grants -----------------------------------------------------------


def test_schedule_starts_a_run_over_the_whole_input_path(full):
    _, template = full
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(0 2 * * ? *)",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": Match.string_like_regexp("^BatchStateMachine")},
                        "Input": "{}",
                        "RoleArn": {"Fn::GetAtt": [Match.string_like_regexp("^BatchTriggerRole"), "Arn"]},
                    }
                )
            ],
        },
    )
    statements = policy_statements(template, "BatchTriggerRoleDefaultPolicy")
    start = next(s for s in statements if s["Action"] == "states:StartExecution")
    assert start["Resource"]["Ref"].startswith("BatchStateMachine")
    assert len(statements) == 2  # and the key, for this state machine's execution data only


def test_upload_under_the_input_path_starts_a_run_for_that_object(full):
    _, template = full
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [{"Ref": Match.string_like_regexp("^BatchBucket")}]},
                    "object": {"key": [{"prefix": "test/iris/input/"}], "size": [{"numeric": [">", 0]}]},
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "InputTransformer": {
                            "InputPathsMap": {"detail-object-key": "$.detail.object.key"},
                            "InputTemplate": {
                                "Fn::Join": [
                                    "",
                                    [
                                        '{"input_uri":"s3://',
                                        {"Ref": Match.string_like_regexp("^BatchBucket")},
                                        '/<detail-object-key>","trigger":"upload"}',
                                    ],
                                ]
                            },
                        }
                    }
                )
            ],
        },
    )


def test_uploads_staged_by_run_batch_start_no_second_run(full):
    _, template = full
    states = definition(template)
    assert states["StartAt"] == "StagedByRunBatch"
    choice = states["States"]["StagedByRunBatch"]
    assert choice["Default"] == "NameJob"
    (rule,) = choice["Choices"]
    assert rule["Next"] == "LeftToRunBatch" and states["States"]["LeftToRunBatch"] == {"Type": "Succeed"}
    conditions = rule["And"]
    assert {"Variable": "$.trigger", "StringEquals": "upload"} in conditions
    (pattern,) = [c["StringMatches"] for c in conditions if "StringMatches" in c]
    assert pattern.endswith("/test/iris/input/run-batch/*")


def test_failed_and_timed_out_executions_alarm_to_the_alarm_topic(full):
    _, template = full
    template.resource_count_is("AWS::CloudWatch::Alarm", 2)
    for metric_name in ("ExecutionsFailed", "ExecutionsTimedOut"):
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Namespace": "AWS/States",
                "MetricName": metric_name,
                "Statistic": "Sum",
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                # The stable ARN, built from the state machine's fixed name (no export needed).
                "Dimensions": [
                    {
                        "Name": "StateMachineArn",
                        "Value": {"Fn::Join": ["", Match.array_with([":stateMachine:test-iris-batch-transform"])]},
                    }
                ],
                "AlarmActions": [{"Ref": Match.string_like_regexp("^Alarms")}],
                "OKActions": [{"Ref": Match.string_like_regexp("^Alarms")}],
            },
        )


def test_metrics_count_executions_of_this_state_machine(full):
    job, _ = full
    for metric, name in (
        (job.metric_executions_failed(), "ExecutionsFailed"),
        (job.metric_executions_timed_out(), "ExecutionsTimedOut"),
        (job.metric_executions_succeeded(), "ExecutionsSucceeded"),
        (job.metric_executions_aborted(), "ExecutionsAborted"),
    ):
        assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/States", name, "Sum")
        assert set(metric.dimensions) == {"StateMachineArn"}


def test_grants_start_this_state_machine_and_reach_only_its_paths(full):
    _, template = full
    statements = policy_statements(template, "CallerDefaultPolicy")
    by_action = {}
    for statement in statements:
        for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
            by_action[action] = statement
    assert by_action["states:StartExecution"]["Resource"]["Ref"].startswith("BatchStateMachine")
    assert "kms:EncryptionContext:aws:states:stateMachineArn" in dumps(by_action["kms:GenerateDataKey"])
    assert by_action["states:DescribeExecution"]["Resource"]["Fn::Join"][1][-1] == (
        ":execution:test-iris-batch-transform:*"
    )
    assert dumps(by_action["s3:PutObject"]["Resource"]).endswith('"/test/iris/input/*"]]}')
    assert "/test/iris/output/*" in dumps(by_action["s3:GetObject*"]["Resource"])
    assert "sagemaker:CreateTransformJob" not in by_action


def test_local_storage_instances_get_no_volume_key_but_output_stays_encrypted(model_artifact):
    stack, _ = build(model_artifact, {"instance_type": "ml.g4dn.xlarge"})
    parameters = definition(Template.from_stack(stack))["States"]["RunTransformJob"]["Parameters"]
    assert parameters["TransformResources"] == {"InstanceCount": 1, "InstanceType": "ml.g4dn.xlarge"}
    assert parameters["TransformOutput"]["KmsKeyId"].startswith("<Key")


def test_triggers_and_alarms_exist_only_when_asked(model_artifact):
    stack, job = build(model_artifact, {"instance_type": "ml.m5.large", "alarms": {"enabled": False}})
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Events::Rule", 0)
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    assert job.trigger_role is None and job.schedule_rule is None and job.upload_rule is None
    # Defaults: CSV lines in, one mini-batch of up to 6 MB per request, lines out.
    task = definition(template)["States"]["RunTransformJob"]["Parameters"]
    assert task["TransformInput"]["SplitType"] == "Line" and task["BatchStrategy"] == "MultiRecord"
    assert task["MaxPayloadInMB"] == 6 and task["TransformOutput"]["AssembleWith"] == "Line"
    assert "DataProcessing" not in task and "MaxConcurrentTransforms" not in task


# Validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"instance_type": "ml.t2.medium"}, "'ml.t2.medium' is not an instance type SageMaker offers for batch"),
        ({"instance_type": "ml.m5.larg"}, "did you mean ml.m5.large"),
        ({"instance_type": "ml.m5.large", "max_payload_in_mb": 101}, "less than or equal to 100"),
        ({"instance_type": "ml.m5.large", "batch_strategy": "Mini"}, "'SingleRecord' or 'MultiRecord'"),
        (
            {"instance_type": "ml.m5.large", "split_type": "None"},
            "batch_strategy MultiRecord needs split_type Line, RecordIO or TFRecord",
        ),
        (
            {"instance_type": "ml.m5.large", "max_concurrent_transforms": 8, "max_payload_in_mb": 20},
            "max_concurrent_transforms x max_payload_in_mb must be at most 100 MB (got 8 x 20)",
        ),
        ({"instance_type": "ml.m5.large", "schedule": "rate(1 days)"}, "write rate(1 day) for one unit"),
        ({"instance_type": "ml.m5.large", "schedule": "rate(2 hour)"}, "rate(N hours) for more"),
        ({"instance_type": "ml.m5.large", "schedule": "cron(0 2 * * *)"}, "cron(...) takes 6 fields"),
        ({"instance_type": "ml.m5.large", "schedule": "cron(0 2 1 * MON *)"}, "needs ? in day-of-month or day-of-week"),
        ({"instance_type": "ml.m5.large", "schedule": "nightly"}, "expected rate(N minutes|hours|days) or cron("),
        ({"instance_type": "ml.m5.large", "timeout_hours": 0}, "greater than or equal to 1"),
        (
            {"instance_type": "ml.m5.large", "model_client": {"invocations_timeout_seconds": 3601}},
            "settings.model_client.invocations_timeout_seconds: Input should be less than or equal to 3600",
        ),
        (
            {"instance_type": "ml.m5.large", "model_client": {"invocations_max_retries": 4}},
            "less than or equal to 3",
        ),
        ({"instance_type": "ml.m5.large", "log_retention_days": 10}, "periods CloudWatch Logs offers: 1, 3, 5, 7, 14"),
        (
            {"instance_type": "ml.m5.large", "content_type": "image/png", "data_processing": {"join_source": "Input"}},
            "join_source Input works on text/csv, application/json or application/jsonlines input",
        ),
        (
            {"instance_type": "ml.m5.large", "data_processing": {"input_filter": "[1:]"}},
            "settings.data_processing.input_filter: String should match pattern",
        ),
        ({"instance_type": "ml.m5.large", "content_type": "csv"}, "settings.content_type: String should match"),
        ({"instance_type": "ml.m5.large", "environment": {"1BAD": "x"}}, "settings.environment.1BAD"),
        (
            {"instance_type": "ml.m5.large", "instance_size": 2},
            "settings.instance_size: unknown field; allowed fields: instance_type, instance_count",
        ),
        ({"instance_type": "ml.m5.large", "alarms": {"enabled": "sometimes"}}, "settings.alarms.enabled"),
    ],
)
def test_invalid_settings_are_rejected_with_the_field_named(model_artifact, settings, expected):
    with pytest.raises(InvalidPropsError) as raised:
        build(model_artifact, settings)
    assert expected in str(raised.value)
    assert "Test/Batch" in str(raised.value)


def test_bad_prefixes_and_settings_are_reported_together(model_artifact):
    with pytest.raises(InvalidPropsError) as raised:
        build(
            model_artifact,
            {"instance_type": "ml.nope.large"},
            key_prefix="/Test/Iris/",
            job_name_prefix="a-very-long-environment-and-model-name",
        )
    problems = raised.value.problems
    assert len(problems) == 3, problems
    assert any(
        "job_name_prefix: job name prefix 'a-very-long-environment-and-model-name' is 38 characters; at most 30" in p
        for p in problems
    )
    assert any(p.startswith("key_prefix: '/Test/Iris/' must be lowercase folder names") for p in problems)


def test_settings_are_immutable():
    settings = BatchSettings(instance_type="ml.m5.large")
    with pytest.raises(Exception, match="frozen"):
        settings.instance_count = 3  # type: ignore[misc]


# The definition, executed by moto's Step Functions -----------------------------------------


@pytest.fixture
def emulated(model_artifact, monkeypatch):
    """The construct's definition in moto (transform job request-response, see batch_emulator)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", emulator.REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    definition_text = emulator.synthesized_definition(model_artifact)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        session = boto3.Session(region_name=emulator.REGION)
        queue = emulator.create_environment(session)
        arn = emulator.create_state_machine(session.client("stepfunctions"), definition_text, request_response=True)
        yield session, arn, queue


def execute(session, arn, request, name="run-1"):
    stepfunctions = session.client("stepfunctions")
    execution_arn = stepfunctions.start_execution(stateMachineArn=arn, name=name, input=json.dumps(request))[
        "executionArn"
    ]
    deadline = time.monotonic() + 30
    while (execution := stepfunctions.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the emulated execution did not finish"
        time.sleep(0.05)
    return execution


def expected_job_name(execution):
    return "dev-iris-" + hashlib.md5(execution["executionArn"].encode()).hexdigest()


def test_emulated_run_uses_default_paths_and_publishes_success(emulated):
    session, arn, queue = emulated
    execution = execute(session, arn, {})
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    job_name = expected_job_name(execution)
    job = session.client("sagemaker").describe_transform_job(TransformJobName=job_name)
    assert job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == emulator.INPUT_PATH
    assert job["TransformOutput"]["S3OutputPath"] == f"{emulator.OUTPUT_PATH}{job_name}/"
    assert job["ModelName"] == emulator.MODEL_NAME
    assert job["TransformOutput"]["KmsKeyId"] == job["TransformResources"]["VolumeKmsKeyId"] == emulator.KEY_ARN
    ((subject, message),) = emulator.published(session, queue)
    assert subject == f"Batch transform {job_name} succeeded"
    assert message["status"] == "SUCCEEDED" and message["job_name"] == job_name
    assert message["output_uri"] == f"{emulator.OUTPUT_PATH}{job_name}/"
    assert json.loads(execution["output"])["output_uri"] == message["output_uri"]


def test_emulated_runs_get_distinct_valid_job_names(emulated):
    session, arn, _ = emulated
    names = {expected_job_name(execute(session, arn, {}, name=f"run_{n}.csv")) for n in range(2)}
    listed = {
        job["TransformJobName"] for job in session.client("sagemaker").list_transform_jobs()["TransformJobSummaries"]
    }
    assert names == listed and len(names) == 2
    for name in names:  # execution names with "_" and "." still give valid job names
        assert len(name) <= MAX_TRANSFORM_JOB_NAME_LENGTH and name.replace("-", "").isalnum()


def test_emulated_run_takes_input_and_output_overrides_under_the_model_paths(emulated):
    session, arn, _ = emulated
    request = {
        "input_uri": f"{emulator.INPUT_PATH}2024-01-31/data.csv",
        "output_uri": f"{emulator.OUTPUT_PATH}nightly/2024-01-31/",
    }
    execution = execute(session, arn, request)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    job = session.client("sagemaker").describe_transform_job(TransformJobName=expected_job_name(execution))
    assert job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == request["input_uri"]
    assert job["TransformOutput"]["S3OutputPath"] == request["output_uri"]


@pytest.mark.parametrize(
    "request_",
    [
        {"input_uri": "s3://somebody-elses-bucket/data/"},
        {"output_uri": "s3://batch-bucket/prod/iris/output/"},
        {"input_uri": 42},
    ],
)
def test_emulated_run_refuses_paths_outside_the_model_paths_and_says_why(emulated, request_):
    session, arn, queue = emulated
    execution = execute(session, arn, request_)
    assert execution["status"] == "FAILED"
    assert execution["error"] == FAILURE_ERROR
    assert execution["cause"].startswith("InvalidLocation: input_uri ")
    assert f"must lie under {emulator.INPUT_PATH}" in execution["cause"]
    assert session.client("sagemaker").list_transform_jobs()["TransformJobSummaries"] == []
    ((subject, message),) = emulator.published(session, queue)
    assert subject.endswith(" failed") and message["status"] == "FAILED" and message["error"] == "InvalidLocation"


@pytest.mark.parametrize(
    ("key", "runs"),
    [("dev/iris/input/run-batch/run-1/data.csv", False), ("dev/iris/input/2024-01-31/data.csv", True)],
)
def test_emulated_upload_trigger_runs_dropped_files_and_leaves_run_batch_uploads_alone(emulated, key, runs):
    session, arn, queue = emulated
    # The input the upload rule's transformer gives the execution.
    execution = execute(session, arn, {"input_uri": f"s3://{emulator.BUCKET}/{key}", "trigger": "upload"})
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    jobs = session.client("sagemaker").list_transform_jobs()["TransformJobSummaries"]
    assert len(jobs) == (1 if runs else 0)
    assert len(emulator.published(session, queue)) == (1 if runs else 0)
    if runs:
        job = session.client("sagemaker").describe_transform_job(TransformJobName=jobs[0]["TransformJobName"])
        assert job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == f"s3://{emulator.BUCKET}/{key}"


def test_emulated_job_refused_by_sagemaker_is_published_and_fails_the_execution(emulated, monkeypatch):
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import SageMakerModelBackend

    def refuse(*args, **kwargs):
        raise ValidationError(message="Could not find model iris-model")

    monkeypatch.setattr(SageMakerModelBackend, "create_transform_job", refuse)
    session, arn, queue = emulated
    execution = execute(session, arn, {})
    assert execution["status"] == "FAILED"
    assert execution["error"] == FAILURE_ERROR
    assert "Could not find model iris-model" in execution["cause"]
    ((subject, message),) = emulator.published(session, queue)
    assert subject == f"Batch transform {expected_job_name(execution)} failed"
    assert message["job_name"] == expected_job_name(execution)
    assert "Could not find model iris-model" in message["reason"]


def _cdk_publish(scope: Construct, topic: sns.ITopic, status: str, next_state: str) -> tasks.SnsPublish:
    """CDK's own SnsPublish task for a notify state, as the definition was built before it was
    written in Python (batch.definition): the reference the Python states are held to."""
    message = {
        "status": status,
        "job_name": sfn.JsonPath.string_at("$.job_name"),
        "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
        "state_machine": "test-iris-batch-transform",
        "input_uri": sfn.JsonPath.object_at("$.input_uri"),
        "output_uri": sfn.JsonPath.object_at("$.output_uri"),
        **(
            {"error": sfn.JsonPath.string_at("$.failure.Error"), "reason": sfn.JsonPath.string_at("$.failure.Cause")}
            if status == "FAILED"
            else {"job_arn": sfn.JsonPath.string_at("$.job.arn")}
        ),
    }
    publish = tasks.SnsPublish(
        scope,
        f"Notify{status}",
        topic=topic,
        subject=sfn.JsonPath.format(f"Batch transform {{}} {status.lower()}", sfn.JsonPath.string_at("$.job_name")),
        message=sfn.TaskInput.from_object(message),
        message_attributes={"status": tasks.MessageAttribute(value=status)},
        result_path=sfn.JsonPath.DISCARD,
    )
    publish.add_retry(errors=[sfn.Errors.ALL], interval=cdk.Duration.seconds(5), backoff_rate=2, max_attempts=4)
    publish.next(sfn.Pass(scope, next_state))
    return publish


def test_a_later_grant_to_the_state_machine_role_goes_into_its_default_policy(model_artifact):
    # The role's statements are written in bulk; the role still owns its DefaultPolicy, so a
    # grant made afterwards lands there (and does not fail on a second DefaultPolicy).
    stack, job = build(model_artifact, {"instance_type": "ml.m5.large"})
    job.role.add_to_policy(iam.PolicyStatement(sid="Later", actions=["s3:GetObject"], resources=["*"]))
    statements = policy_statements(Template.from_stack(stack), "BatchStateMachineRole")
    sids = [statement.get("Sid") for statement in statements]
    assert sids[0] == "OwnTransformJobs" and sids[-1] == "Later"


def test_the_transform_job_state_is_what_cdk_renders_with_its_own_retries_catch_and_next(model_artifact):
    # The task is CDK's; its transitions, retries and catch are written in Python. Given the
    # same ones through CDK's own API, the task renders exactly the same state.
    stack, job = build(model_artifact, FULL)
    task = job.transform_task
    rendered = stack.resolve(batch_definition._run_job_state(job, task))
    probe = Construct(stack, "Probe")
    task.add_retry(
        errors=list(CAPACITY_ERRORS),
        interval=cdk.Duration.minutes(5),
        backoff_rate=2,
        max_attempts=5,
        max_delay=cdk.Duration.hours(1),
    )
    task.add_retry(
        errors=list(SERVICE_ERRORS),
        interval=cdk.Duration.seconds(10),
        backoff_rate=2,
        max_attempts=6,
        jitter_strategy=sfn.JitterType.FULL,
    )
    task.add_catch(sfn.Pass(probe, "NotifyFailure"), errors=[sfn.Errors.ALL], result_path="$.failure")
    task.next(sfn.Pass(probe, "NotifySuccess"))
    expected = stack.resolve(task.to_state_json())
    # SageMaker's DataProcessing, which CDK's props lack, is the one addition.
    processing = {"InputFilter": "$[1:]", "OutputFilter": "$[0,-1]", "JoinSource": "Input"}
    expected["Parameters"]["DataProcessing"] = processing
    assert rendered == expected
    assert json.dumps(rendered) == json.dumps(expected)  # the same key order too


def test_the_notify_states_are_what_cdks_own_sns_publish_task_renders(model_artifact):
    # The notify states are written in Python (one JSON string instead of ~30 jsii calls each):
    # CDK's SnsPublish, given the same props, renders exactly the same state.
    stack, job = build(model_artifact, {"instance_type": "ml.m5.large"})
    topic = stack.node.find_child("Notifications")
    probe = Construct(stack, "Probe")
    for status, next_state in (("FAILED", "SummarizeFailure"), ("SUCCEEDED", "JobSucceeded")):
        expected = stack.resolve(_cdk_publish(probe, topic, status, next_state).to_state_json())
        rendered = stack.resolve(batch_definition._notify(job, topic.topic_arn, status, next_state))
        assert rendered == expected
        assert json.dumps(rendered) == json.dumps(expected)  # the same key order too


def test_the_role_grants_every_action_cdks_own_tasks_generate_for_their_integrations(full, model_artifact):
    # CDK's task constructs state what each service integration calls (createTransformJob.sync
    # tags its jobs: sagemaker:AddTags). Whatever a task of this state machine would have CDK
    # grant, the role written out here grants too: the transform task is CDK's own; the SNS
    # states are rendered in Python, so CDK's SnsPublish for a topic stands in for them.
    job, template = full
    probe_stack, _ = build(model_artifact, {"instance_type": "ml.m5.large"})
    publish = _cdk_publish(Construct(probe_stack, "Probe"), probe_stack.node.find_child("Notifications"), "FAILED", "X")
    tasks_in_machine = [job.transform_task, publish]
    assert all(task._task_policies for task in tasks_in_machine)
    generated = {
        action for task in tasks_in_machine for statement in task._task_policies for action in statement.actions
    }
    granted = set()
    for statement in policy_statements(template, "BatchStateMachineRoleDefaultPolicy"):
        granted |= set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    assert {"sagemaker:AddTags", "sns:Publish"} <= generated
    assert generated - granted == set()
