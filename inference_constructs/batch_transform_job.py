"""``BatchTransformJob``: batch transform runs, on demand, on a schedule or on upload.

CloudFormation's ``AWS::SageMaker::TransformJob`` runs once per deployment, so repeated
runs go through a Step Functions state machine instead. Each execution:

1. names its transform job ``<prefix>-<MD5 of the execution ARN>``: unique per execution, 63
   characters at most, valid whatever the execution is called;
2. takes ``input_uri`` / ``output_uri`` from the execution input if given, else defaults to
   ``s3://<bucket>/<key prefix>/input/`` and ``.../output/<job name>/``; both must lie under
   this model's input and output paths (the only places its roles may read and write);
3. runs the job and waits for it (``createTransformJob.sync``), retrying throttling and
   capacity errors with backoff;
4. publishes how it ended to the notifications topic, and ends Failed when the job failed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from inference_constructs import durations
from inference_constructs.alarms import HealthAlarm, alarm_name
from inference_constructs.batch.alarms import create_execution_alarms, execution_metric
from inference_constructs.batch.definition import (
    CAPACITY_ERRORS,
    CREATE_TRANSFORM_JOB_ERRORS,
    FAILURE_ERROR,
    SERVICE_ERRORS,
    define_state_machine,
)
from inference_constructs.batch.permissions import (
    acknowledge_findings,
    grant_execution_data_key,
    grant_model_data_access,
    grant_state_machine_role,
    state_machine_role,
)
from inference_constructs.batch.settings import (
    MAX_JOB_NAME_PREFIX_LENGTH,
    MAX_TRANSFORM_JOB_NAME_LENGTH,
    BatchSettings,
    check_job_name_prefix,
)
from inference_constructs.batch.triggers import create_triggers
from inference_constructs.errors import ProblemCollector
from inference_constructs.inference_model import InferenceModel
from inference_constructs.log_retention import log_retention
from inference_core.batch import STATE_MACHINE_NAME_SUFFIX
from inference_core.s3 import INPUT_FOLDER, KEY_PREFIX, OUTPUT_FOLDER

# Importable from here as before the split: the tests and the config schema use them.
__all__ = [
    "CAPACITY_ERRORS",
    "CREATE_TRANSFORM_JOB_ERRORS",
    "FAILURE_ERROR",
    "MAX_JOB_NAME_PREFIX_LENGTH",
    "MAX_TRANSFORM_JOB_NAME_LENGTH",
    "SERVICE_ERRORS",
    "BatchSettings",
    "BatchTransformJob",
]


class BatchTransformJob(Construct):
    """A state machine that runs batch transform jobs of one model and reports how each ended.

    Jobs read from ``input_path`` and write to ``output_path`` in ``bucket``, encrypted (output and
    instance volumes) with ``encryption_key``; instance types with local NVMe storage (``ml.g4dn``,
    ``ml.m5d``, ...) encrypt their volumes in hardware, where SageMaker accepts no volume key.
    Jobs run as the model's execution role, which this construct allows to read the input path
    and write the output path; the model's network isolation and VPC placement apply to its
    transform jobs as they do to its endpoints.

    The state machine runs as a role of its own that may only create, describe and stop
    transform jobs named ``<job_name_prefix>-*``, pass the model's role to SageMaker, and
    publish to ``notifications_topic``. Its definition and execution history are encrypted with
    ``encryption_key``, it logs every state to an encrypted log group, and it is traced with X-Ray.

    :param model: The model whose transform jobs run.
    :param settings: Job settings and triggers.
    :param bucket: The platform's batch bucket.
    :param key_prefix: This model's folder in ``bucket``, e.g. ``prod/iris``; jobs read
        ``<key_prefix>/input/`` and write ``<key_prefix>/output/``.
    :param encryption_key: The platform key.
    :param notifications_topic: Receives one message per run, succeeded or failed.
    :param alarms_topic: Receives the failed and timed-out execution alarms.
    :param job_name_prefix: Prefix of the job names (default: the model's ``name_prefix``).
    :param log_removal_policy: What happens to the execution logs when the stack goes.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: InferenceModel,
        settings: BatchSettings | Mapping[str, Any],
        bucket: s3.IBucket,
        key_prefix: str,
        encryption_key: kms.IKey,
        notifications_topic: sns.ITopic,
        alarms_topic: sns.ITopic,
        job_name_prefix: str | None = None,
        log_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        checked, job_name_prefix = _checked_props(scope, id, model, settings, key_prefix, job_name_prefix)
        super().__init__(scope, id)
        self.settings = checked
        self.model = model
        self.bucket = bucket
        self.encryption_key = encryption_key
        # Read once, used by the definition, the roles and the grants (a jsii round trip per read).
        self.key_arn = encryption_key.key_arn
        topic_arn = notifications_topic.topic_arn
        self._name_resources(job_name_prefix, key_prefix)

        self.role = state_machine_role(self)
        definition, self.transform_task = define_state_machine(self, topic_arn)
        # The role's DefaultPolicy (batch.permissions), which the state machine waits for.
        self.role_policy = grant_state_machine_role(self, topic_arn)
        self.model_data_access, self.model_data_wildcards = grant_model_data_access(self)
        self._create_state_machine(definition, log_removal_policy)

        self.schedule_rule: events.Rule | None = None
        self.upload_rule: events.Rule | None = None
        self.trigger_role: iam.Role | None = None
        if checked.schedule is not None or checked.run_on_upload:
            triggers = create_triggers(self, checked)
            self.trigger_role = triggers.role
            self.schedule_rule = triggers.schedule_rule
            self.upload_rule = triggers.upload_rule
        self.alarms: dict[str, cloudwatch.Alarm | HealthAlarm] = {}
        self.alarm_names: dict[str, str] = {}
        if checked.alarms.enabled:
            self.alarms = create_execution_alarms(self, checked.alarms, alarms_topic)
            self.alarm_names = {key: alarm_name(self.state_machine_name, key) for key in self.alarms}
        acknowledge_findings(self)

    def _name_resources(self, job_name_prefix: str, key_prefix: str) -> None:
        # Read once: every part of the construct uses it (a jsii round trip per Stack.of).
        self.stack = stack = cdk.Stack.of(self)
        self.job_name_prefix = job_name_prefix
        self.input_prefix = f"{key_prefix}/{INPUT_FOLDER}"
        self.output_prefix = f"{key_prefix}/{OUTPUT_FOLDER}"
        self.bucket_name = self.bucket.bucket_name
        self.input_path = f"s3://{self.bucket_name}/{self.input_prefix}"
        self.output_path = f"s3://{self.bucket_name}/{self.output_prefix}"
        # A stable name: the state machine is updated in place, and its ARN can appear in its
        # own role's KMS conditions without a circular reference.
        self.state_machine_name = f"{job_name_prefix}{STATE_MACHINE_NAME_SUFFIX}"
        self.state_machine_arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.transform_job_arns = stack.format_arn(
            service="sagemaker", resource="transform-job", resource_name=f"{job_name_prefix}-*"
        )

    def _create_state_machine(self, definition: str, log_removal_policy: cdk.RemovalPolicy) -> None:
        self.log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            # /aws/vendedlogs/ keeps CloudWatch Logs' resource policy small however many state
            # machines log; the stack id suffix lets a re-created stack coexist with retained logs.
            log_group_name=f"/aws/vendedlogs/states/{self.state_machine_name}-{_stack_id_suffix()}",
            encryption_key=self.encryption_key,
            retention=log_retention(self.settings.log_retention_days),
            removal_policy=log_removal_policy,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,  # jobs may run for days
            # Written in batch.definition, with the backstop timeout (TimeoutSeconds) in it.
            definition_body=sfn.DefinitionBody.from_string(definition),
            # CDK would add its own, broader statements (transform-job/*, sagemaker:ListTags on *);
            # the role's statements are written out in batch.permissions.grant_state_machine_role instead.
            role=self.role.without_policy_updates(),
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(
                self.encryption_key, durations.minutes(5)
            ),
        )
        # Step Functions checks at creation that the role may deliver logs and use the key.
        self.state_machine.node.add_dependency(self.role_policy)

    def metric_executions_failed(self, **props: Any) -> cloudwatch.Metric:
        """Executions that ended Failed (the job failed or was rejected), summed."""
        return execution_metric(self.state_machine_arn, "ExecutionsFailed", props)

    def metric_executions_timed_out(self, **props: Any) -> cloudwatch.Metric:
        """Executions stopped by the state machine's backstop timeout, summed."""
        return execution_metric(self.state_machine_arn, "ExecutionsTimedOut", props)

    def metric_executions_succeeded(self, **props: Any) -> cloudwatch.Metric:
        """Executions whose job completed, summed."""
        return execution_metric(self.state_machine_arn, "ExecutionsSucceeded", props)

    def metric_executions_aborted(self, **props: Any) -> cloudwatch.Metric:
        """Executions stopped by someone, summed."""
        return execution_metric(self.state_machine_arn, "ExecutionsAborted", props)

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start executions of this state machine (and only this one)."""
        grant_execution_data_key(self, grantee)
        return self.state_machine.grant_start_execution(grantee)

    def grant_run(self, grantee: iam.IGrantable) -> None:
        """Everything ``run-batch`` needs: upload input, start and follow executions, read output."""
        self.grant_start(grantee)
        executions = self.stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"],
            resource_arns=[executions],
        )
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:DescribeTransformJob"], resource_arns=[self.transform_job_arns]
        )
        self.bucket.grant_put(grantee, f"{self.input_prefix}*")
        self.bucket.grant_read(grantee, f"{self.output_prefix}*")


def _checked_props(
    scope: Construct,
    id: str,
    model: InferenceModel,
    settings: BatchSettings | Mapping[str, Any],
    key_prefix: str,
    job_name_prefix: str | None,
) -> tuple[BatchSettings, str]:
    """The validated settings and job name prefix; every problem with them raised together."""
    problems = ProblemCollector()
    checked = problems.validate(BatchSettings, settings, "settings")
    job_name_prefix = job_name_prefix if job_name_prefix is not None else model.name_prefix
    try:
        check_job_name_prefix(job_name_prefix)
    except ValueError as error:
        problems.add(f"job_name_prefix: {error}")
    problems.check(
        bool(KEY_PREFIX.match(key_prefix)),
        f"key_prefix: {key_prefix!r} must be lowercase folder names separated by /, "
        "without leading or trailing slash, e.g. prod/iris",
    )
    if isinstance(checked, BatchSettings):
        problems.attempt(lambda: model.check_runs_on(checked.instance_type), "settings.instance_type")
    # The construct's path names it in the error; reading it is a jsii round trip, so only on error.
    if problems.problems:
        problems.raise_if_any(f"{scope.node.path}/{id}")
    assert isinstance(checked, BatchSettings)
    return checked, job_name_prefix


@functools.cache
def _stack_id_suffix() -> str:
    """The first block of the stack's UUID: differs each time a stack is created.

    The same token in every stack (``AWS::StackId`` resolves in the stack that uses it), so
    it is built once per process rather than in five jsii calls per job."""
    return cdk.Fn.select(0, cdk.Fn.split("-", cdk.Fn.select(2, cdk.Fn.split("/", cdk.Aws.STACK_ID))))
