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

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct
from pydantic import AfterValidator, Field, model_validator

from inference_constructs import service_models
from inference_constructs.alarms import AlarmEvaluation, AlarmSpec, alarm_name, create_alarms
from inference_constructs.compliance import (
    acknowledge_inline_policy,
    acknowledge_wildcard_resources,
)
from inference_constructs.errors import ProblemCollector
from inference_constructs.inference_model import InferenceModel
from inference_constructs.instance_types import InstanceUse, check_instance_type, has_local_storage
from inference_constructs.log_retention import check_log_retention_days, log_retention
from inference_constructs.settings import Settings
from inference_core.batch import (
    INPUT_URI,
    JOB_NAME,
    OUTPUT_URI,
    RUN_BATCH_STAGING_FOLDER,
    STATE_MACHINE_NAME_SUFFIX,
    TRIGGER,
    UPLOAD_TRIGGER,
)
from inference_core.s3 import INPUT_FOLDER, KEY_PREFIX, OUTPUT_FOLDER

# SageMaker job names: 1-63 letters, digits and hyphens. Ours are "<prefix>-<32 hex digits>".
MAX_TRANSFORM_JOB_NAME_LENGTH = 63
JOB_NAME_HASH_LENGTH = 32  # an MD5 digest in hex, from States.Hash
MAX_JOB_NAME_PREFIX_LENGTH = MAX_TRANSFORM_JOB_NAME_LENGTH - JOB_NAME_HASH_LENGTH - 1
JOB_NAME_PREFIX = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")


# Error names the optimized SageMaker integration raises: "SageMaker." + the Java SDK's exception
# class, which is the model's error code with "Exception" appended (CreateTransformJob declares
# ResourceInUse, ResourceLimitExceeded and ResourceNotFound in botocore's model), and
# AmazonSageMakerException for every error the model does not declare (throttling, internal
# errors). AWS's own examples retry exactly these two names:
# https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html
def integration_error_name(error_code: str) -> str:
    """The Step Functions error name of a SageMaker API error code."""
    return f"SageMaker.{error_code if error_code.endswith('Exception') else error_code + 'Exception'}"


GENERIC_ERROR = "SageMaker.AmazonSageMakerException"
# The names CreateTransformJob can raise through the integration (a Retry naming anything else never matches).
CREATE_TRANSFORM_JOB_ERRORS = frozenset(
    {
        GENERIC_ERROR,
        *(integration_error_name(code) for code in service_models.error_codes("sagemaker", "CreateTransformJob")),
    }
)
# Too many concurrent jobs or instances for the account's quota: frees up as other jobs end.
CAPACITY_ERRORS = (integration_error_name("ResourceLimitExceeded"),)
# Throttling and SageMaker's transient service-side failures: both arrive under the generic name.
SERVICE_ERRORS = (GENERIC_ERROR,)

# The error an execution ends with when its job failed or was refused; the cause says why.
FAILURE_ERROR = "BatchTransformFailed"


MIME_TYPE = r"^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+-]+)*$"
RATE_EXPRESSION = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
CRON_EXPRESSION = re.compile(r"^cron\((?P<fields>[^()]+)\)$")


def check_schedule(value: str) -> str:
    """An EventBridge rule schedule: ``rate(N unit)`` or a six-field ``cron(...)`` (UTC)."""
    rate = RATE_EXPRESSION.match(value)
    if rate:
        amount, unit = int(rate["value"]), rate["unit"]
        if amount < 1:
            raise ValueError("a rate must be at least 1, e.g. rate(1 day)")
        if (amount == 1) != (not unit.endswith("s")):
            raise ValueError(f"write rate(1 {unit.rstrip('s')}) for one unit and rate(N {unit.rstrip('s')}s) for more")
        return value
    cron = CRON_EXPRESSION.match(value)
    if cron:
        fields = cron["fields"].split()
        if len(fields) != 6:
            raise ValueError(
                "cron(...) takes 6 fields: minutes hours day-of-month month day-of-week year, "
                f"e.g. cron(0 2 * * ? *); got {len(fields)}"
            )
        if "?" not in (fields[2], fields[4]):
            raise ValueError("cron(...) needs ? in day-of-month or day-of-week, e.g. cron(0 2 * * ? *)")
        return value
    raise ValueError("expected rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year)")


def _transform_environment_key(value: str) -> str:
    return service_models.check_string("sagemaker", "TransformEnvironmentKey", value)


def _transform_environment_value(value: str) -> str:
    return service_models.check_string("sagemaker", "TransformEnvironmentValue", value)


def check_batch_instance_type(value: str) -> str:
    """Batch transform has its own list of instance types (no burstable ones, for example)."""
    return check_instance_type(value, InstanceUse.TRANSFORM)


def check_job_name_prefix(value: str) -> str:
    """Raise ValueError unless transform job names ``<value>-<hash>`` fit SageMaker's limits."""
    if not JOB_NAME_PREFIX.match(value):
        raise ValueError(f"job name prefix {value!r} must be lowercase letters, digits and single hyphens")
    if len(value) > MAX_JOB_NAME_PREFIX_LENGTH:
        raise ValueError(
            f"job name prefix {value!r} is {len(value)} characters; at most {MAX_JOB_NAME_PREFIX_LENGTH} fit a "
            f"{MAX_TRANSFORM_JOB_NAME_LENGTH}-character transform job name with its "
            f"{JOB_NAME_HASH_LENGTH}-character hash"
        )
    return value


class DataProcessing(Settings):
    """Which part of each record goes to the model and what the output keeps (SageMaker ``DataProcessing``)."""

    input_filter: str | None = Field(
        default=None,
        min_length=1,
        max_length=63,
        pattern=r"^\$",
        description="JSONPath on each input record, e.g. $[1:]",
    )
    output_filter: str | None = Field(
        default=None, min_length=1, max_length=63, pattern=r"^\$", description="JSONPath on each joined output record"
    )
    join_source: Literal["None", "Input"] = Field(
        default="None", description="Input: join each prediction to its record"
    )


class ModelClientConfig(Settings):
    """How SageMaker calls the model container for each mini-batch."""

    invocations_timeout_seconds: int = Field(default=600, ge=1, le=3600, description="Per-request timeout.")
    invocations_max_retries: int = Field(default=3, ge=0, le=3, description="Per-request retries.")


class BatchAlarms(Settings):
    """Alarms on executions that failed or timed out, sent to the platform's alarm topic."""

    enabled: bool = Field(default=True, description="Turning alarms off is explicit: enabled: false.")
    period_minutes: int = Field(default=5, ge=1, le=1440, description="Evaluation period of the execution metrics.")


class BatchSettings(Settings):
    """Props of a batch transform job and the triggers that start it."""

    instance_type: Annotated[str, AfterValidator(check_batch_instance_type)] = Field(description="e.g. ml.m5.large")
    instance_count: int = Field(default=1, ge=1, le=100, description="Instances per job.")
    content_type: str = Field(
        default="text/csv", pattern=MIME_TYPE, max_length=256, description="ContentType of the input (a MIME type)."
    )
    split_type: Literal["None", "Line", "RecordIO", "TFRecord"] = Field(
        default="Line", description="How input files are cut into records."
    )
    compression_type: Literal["None", "Gzip"] = Field(default="None", description="Input compression.")
    batch_strategy: Literal["SingleRecord", "MultiRecord"] = Field(
        default="MultiRecord",
        description="One record or as many as fit per request; MultiRecord needs a split_type.",
    )
    max_payload_in_mb: int = Field(default=6, ge=0, le=100, description="Largest mini-batch; 0 streams (chunked).")
    max_concurrent_transforms: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Parallel requests per instance (none: SageMaker's choice); times max_payload_in_mb at most 100.",
    )
    assemble_with: Literal["None", "Line"] = Field(
        default="Line", description="How responses are joined into the output file."
    )
    accept: str | None = Field(
        default=None,
        pattern=MIME_TYPE,
        max_length=256,
        description="Accept of the output (a MIME type); none: the container's default.",
    )
    data_processing: DataProcessing | None = Field(
        default=None, description="Filter what each record sends and keeps, and join predictions to their input."
    )
    model_client: ModelClientConfig = Field(
        default=ModelClientConfig(), description="Timeout and retries of each request to the container."
    )
    environment: dict[
        Annotated[str, AfterValidator(_transform_environment_key)],
        Annotated[str, AfterValidator(_transform_environment_value)],
    ] = Field(
        default_factory=dict,
        max_length=service_models.max_items("sagemaker", "TransformEnvironmentMap"),
        description="Extra container environment variables for the job (AWS's TransformEnvironmentMap limits).",
    )
    timeout_hours: int = Field(
        default=24, ge=1, le=8760, description="The run fails after this; Step Functions stops the job."
    )
    schedule: Annotated[str, AfterValidator(check_schedule)] | None = Field(
        default=None, description="Run on this EventBridge schedule (UTC): rate(...) or cron(...)."
    )
    run_on_upload: bool = Field(default=False, description="Run on each object created under the input path.")
    log_retention_days: Annotated[int, AfterValidator(check_log_retention_days)] = Field(
        default=365, description="How long execution logs are kept (encrypted with the platform key)."
    )
    alarms: BatchAlarms = Field(
        default=BatchAlarms(), description="Alarms on failed and timed-out executions, to the alarm topic."
    )

    @model_validator(mode="after")
    def _consistent(self) -> BatchSettings:
        if self.batch_strategy == "MultiRecord" and self.split_type == "None":
            raise ValueError("batch_strategy MultiRecord needs split_type Line, RecordIO or TFRecord")
        if self.max_concurrent_transforms is not None and (
            self.max_concurrent_transforms * self.max_payload_in_mb > 100
        ):
            raise ValueError(
                f"max_concurrent_transforms x max_payload_in_mb must be at most 100 MB "
                f"(got {self.max_concurrent_transforms} x {self.max_payload_in_mb})"
            )
        joined = self.data_processing is not None and self.data_processing.join_source == "Input"
        if joined and self.content_type.split(";")[0] not in ("text/csv", "application/json", "application/jsonlines"):
            raise ValueError("join_source Input works on text/csv, application/json or application/jsonlines input")
        return self


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
        problems.raise_if_any(f"{scope.node.path}/{id}")
        assert isinstance(checked, BatchSettings)
        super().__init__(scope, id)

        stack = cdk.Stack.of(self)
        self.settings = checked
        self.model = model
        self.bucket = bucket
        self.encryption_key = encryption_key
        self.job_name_prefix = job_name_prefix
        self.input_prefix = f"{key_prefix}/{INPUT_FOLDER}"
        self.output_prefix = f"{key_prefix}/{OUTPUT_FOLDER}"
        self.input_path = f"s3://{bucket.bucket_name}/{self.input_prefix}"
        self.output_path = f"s3://{bucket.bucket_name}/{self.output_prefix}"
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

        self.role = iam.Role(
            self,
            "StateMachineRole",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={
                    "ArnLike": {"aws:SourceArn": self.state_machine_arn},
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            ),
            description=f"Runs batch transform jobs {job_name_prefix}-* of model {model.name_prefix} only",
        )
        definition = self._definition(notifications_topic)
        self._grant_state_machine_role(notifications_topic)
        self.model_data_access = self._grant_model_data_access()

        self.log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            # /aws/vendedlogs/ keeps CloudWatch Logs' resource policy small however many state
            # machines log; the stack id suffix lets a re-created stack coexist with retained logs.
            log_group_name=f"/aws/vendedlogs/states/{self.state_machine_name}-{_stack_id_suffix()}",
            encryption_key=encryption_key,
            retention=log_retention(checked.log_retention_days),
            removal_policy=log_removal_policy,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,  # jobs may run for days
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            # CDK would add its own, broader statements (transform-job/*, sagemaker:ListTags on *);
            # the role's statements are written out in _grant_state_machine_role instead.
            role=self.role.without_policy_updates(),
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(
                encryption_key, cdk.Duration.minutes(5)
            ),
            # A backstop behind the job's own timeout, which is caught and notified.
            timeout=cdk.Duration.hours(checked.timeout_hours + 1),
        )
        # Step Functions checks at creation that the role may deliver logs and use the key.
        self.state_machine.node.add_dependency(self.role.node.find_child("DefaultPolicy"))

        self.schedule_rule: events.Rule | None = None
        self.upload_rule: events.Rule | None = None
        self.trigger_role: iam.Role | None = None
        if checked.schedule is not None or checked.run_on_upload:
            self._create_triggers(checked)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.alarm_names: dict[str, str] = {}
        if checked.alarms.enabled:
            self._create_alarms(checked.alarms, alarms_topic)
        self._acknowledge_findings()

    # Definition --------------------------------------------------------------------------

    def _definition(self, topic: sns.ITopic) -> sfn.IChainable:
        # The execution ARN is unique per state machine and execution name; its MD5 digest is
        # valid in a job name whatever characters the execution name uses.
        job_name = sfn.JsonPath.format(
            f"{self.job_name_prefix}-{{}}", sfn.JsonPath.hash(sfn.JsonPath.string_at("$$.Execution.Id"), "MD5")
        )
        name_job = sfn.Pass(
            self,
            "NameJob",
            comment="A unique, valid job name per execution; keep the request for the choices below.",
            parameters={
                JOB_NAME: job_name,
                "default_output_uri": sfn.JsonPath.format(f"{self.output_path}{{}}/", job_name),
                "request": sfn.JsonPath.entire_payload,
            },
        )
        given_input = sfn.Pass(self, "UseGivenInput", input_path=f"$.request.{INPUT_URI}", result_path=f"$.{INPUT_URI}")
        default_input = sfn.Pass(
            self, "UseDefaultInput", result=sfn.Result.from_string(self.input_path), result_path=f"$.{INPUT_URI}"
        )
        given_output = sfn.Pass(
            self, "UseGivenOutput", input_path=f"$.request.{OUTPUT_URI}", result_path=f"$.{OUTPUT_URI}"
        )
        default_output = sfn.Pass(
            self, "UseDefaultOutput", input_path="$.default_output_uri", result_path=f"$.{OUTPUT_URI}"
        )
        reject = sfn.Pass(
            self,
            "RejectLocations",
            parameters={
                "Error": "InvalidLocation",
                "Cause": sfn.JsonPath.format(
                    "input_uri {} must lie under {} and output_uri {} under {}",
                    sfn.JsonPath.json_to_string(sfn.JsonPath.object_at(f"$.{INPUT_URI}")),
                    self.input_path,
                    sfn.JsonPath.json_to_string(sfn.JsonPath.object_at(f"$.{OUTPUT_URI}")),
                    self.output_path,
                ),
            },
            result_path="$.failure",
        )

        run_job = self._transform_job_task()
        self.transform_task = run_job
        notify_failure = self._notify(topic, "NotifyFailure", "FAILED")
        # A Fail state may not raise the reserved States.* names (States.TaskFailed, States.Timeout),
        # so it raises its own name and keeps the original error in the cause.
        summarize = sfn.Pass(
            self,
            "SummarizeFailure",
            parameters={
                "cause": sfn.JsonPath.format(
                    "{}: {}", sfn.JsonPath.string_at("$.failure.Error"), sfn.JsonPath.string_at("$.failure.Cause")
                )
            },
            result_path="$.outcome",
        )
        failed = sfn.Fail(self, "JobFailed", error=FAILURE_ERROR, cause_path="$.outcome.cause")
        notify_failure.next(summarize).next(failed)
        run_job.add_catch(notify_failure, errors=[sfn.Errors.ALL], result_path="$.failure")
        notify_success = self._notify(topic, "NotifySuccess", "SUCCEEDED")
        run_job.next(notify_success).next(sfn.Succeed(self, "JobSucceeded"))
        reject.next(notify_failure)

        locations_allowed = sfn.Condition.and_(
            sfn.Condition.is_string(f"$.{INPUT_URI}"),
            sfn.Condition.string_matches(f"$.{INPUT_URI}", f"{self.input_path}*"),
            sfn.Condition.is_string(f"$.{OUTPUT_URI}"),
            sfn.Condition.string_matches(f"$.{OUTPUT_URI}", f"{self.output_path}*"),
        )
        check_locations = (
            sfn.Choice(self, "CheckLocations", comment="The model's role may read and write only these paths.")
            .when(locations_allowed, run_job)
            .otherwise(reject)
        )
        choose_output = (
            sfn.Choice(self, "OutputGiven")
            .when(sfn.Condition.is_present(f"$.request.{OUTPUT_URI}"), given_output)
            .otherwise(default_output)
        )
        given_output.next(check_locations)
        default_output.next(check_locations)
        choose_input = (
            sfn.Choice(self, "InputGiven")
            .when(sfn.Condition.is_present(f"$.request.{INPUT_URI}"), given_input)
            .otherwise(default_input)
        )
        given_input.next(choose_output)
        default_input.next(choose_output)
        name_job.next(choose_input)
        staged = sfn.Condition.and_(
            sfn.Condition.is_present(f"$.{TRIGGER}"),
            sfn.Condition.is_string(f"$.{TRIGGER}"),
            sfn.Condition.string_equals(f"$.{TRIGGER}", UPLOAD_TRIGGER),
            sfn.Condition.is_present(f"$.{INPUT_URI}"),
            sfn.Condition.is_string(f"$.{INPUT_URI}"),
            sfn.Condition.string_matches(f"$.{INPUT_URI}", f"{self.input_path}{RUN_BATCH_STAGING_FOLDER}*"),
        )
        return (
            sfn.Choice(self, "StagedByRunBatch", comment="run-batch runs what it uploads itself; skip its uploads.")
            .when(staged, sfn.Succeed(self, "LeftToRunBatch"))
            .otherwise(name_job)
        )

    def _transform_job_task(self) -> sfn.TaskStateBase:
        settings = self.settings
        data_processing = settings.data_processing
        task = _TransformJobWithDataProcessing(
            self,
            "RunTransformJob",
            data_processing=data_processing,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            transform_job_name=sfn.JsonPath.string_at(f"$.{JOB_NAME}"),
            model_name=self.model.model_name,
            # The job runs as the model's execution role; passing it here also keeps CDK from
            # creating a role with AmazonSageMakerFullAccess.
            role=self.model.role,
            transform_input=tasks.TransformInput(
                transform_data_source=tasks.TransformDataSource(
                    s3_data_source=tasks.TransformS3DataSource(
                        s3_uri=sfn.JsonPath.string_at(f"$.{INPUT_URI}"), s3_data_type=tasks.S3DataType.S3_PREFIX
                    )
                ),
                content_type=settings.content_type,
                split_type=_SPLIT_TYPES[settings.split_type],
                compression_type=tasks.CompressionType.GZIP if settings.compression_type == "Gzip" else None,
            ),
            transform_output=tasks.TransformOutput(
                s3_output_path=sfn.JsonPath.string_at(f"$.{OUTPUT_URI}"),
                encryption_key=self.encryption_key,
                accept=settings.accept,
                assemble_with=tasks.AssembleWith.LINE if settings.assemble_with == "Line" else tasks.AssembleWith.NONE,
            ),
            transform_resources=tasks.TransformResources(
                instance_count=settings.instance_count,
                instance_type=ec2.InstanceType(settings.instance_type.removeprefix("ml.")),
                # Local NVMe volumes are hardware-encrypted and SageMaker refuses a key for them.
                volume_encryption_key=None if has_local_storage(settings.instance_type) else self.encryption_key,
            ),
            batch_strategy=tasks.BatchStrategy.MULTI_RECORD
            if settings.batch_strategy == "MultiRecord"
            else tasks.BatchStrategy.SINGLE_RECORD,
            max_payload=cdk.Size.mebibytes(settings.max_payload_in_mb),
            max_concurrent_transforms=settings.max_concurrent_transforms,
            model_client_options=tasks.ModelClientOptions(
                invocations_max_retries=settings.model_client.invocations_max_retries,
                invocations_timeout=cdk.Duration.seconds(settings.model_client.invocations_timeout_seconds),
            ),
            environment=dict(settings.environment) or None,
            task_timeout=sfn.Timeout.duration(cdk.Duration.hours(settings.timeout_hours)),
            result_selector={"arn": sfn.JsonPath.string_at("$.TransformJobArn")},
            result_path="$.job",
        )
        task.add_retry(
            errors=list(CAPACITY_ERRORS),
            interval=cdk.Duration.minutes(5),
            backoff_rate=2,
            max_attempts=5,
            max_delay=cdk.Duration.hours(1),
        )
        # Throttling shares this name with internal errors: back off with jitter, a few times.
        task.add_retry(
            errors=list(SERVICE_ERRORS),
            interval=cdk.Duration.seconds(10),
            backoff_rate=2,
            max_attempts=6,
            jitter_strategy=sfn.JitterType.FULL,
        )
        return task

    def _notify(self, topic: sns.ITopic, id: str, status: str) -> tasks.SnsPublish:
        message: dict[str, Any] = {
            "status": status,
            JOB_NAME: sfn.JsonPath.string_at(f"$.{JOB_NAME}"),
            "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
            "state_machine": self.state_machine_name,
            INPUT_URI: sfn.JsonPath.object_at(f"$.{INPUT_URI}"),
            OUTPUT_URI: sfn.JsonPath.object_at(f"$.{OUTPUT_URI}"),
        }
        if status == "FAILED":
            message["error"] = sfn.JsonPath.string_at("$.failure.Error")
            message["reason"] = sfn.JsonPath.string_at("$.failure.Cause")
        else:
            message["job_arn"] = sfn.JsonPath.string_at("$.job.arn")
        publish = tasks.SnsPublish(
            self,
            id,
            topic=topic,
            subject=sfn.JsonPath.format(
                f"Batch transform {{}} {status.lower()}", sfn.JsonPath.string_at(f"$.{JOB_NAME}")
            ),
            message=sfn.TaskInput.from_object(message),
            message_attributes={"status": tasks.MessageAttribute(value=status)},
            result_path=sfn.JsonPath.DISCARD,
        )
        publish.add_retry(errors=[sfn.Errors.ALL], interval=cdk.Duration.seconds(5), backoff_rate=2, max_attempts=4)
        return publish

    # Permissions -------------------------------------------------------------------------

    def _grant_state_machine_role(self, topic: sns.ITopic) -> None:
        stack = cdk.Stack.of(self)
        key_arn = self.encryption_key.key_arn
        statements = [
            *self._integration_statements(),
            iam.PolicyStatement(
                sid="EncryptJobVolumes",
                actions=["kms:CreateGrant"],
                resources=[key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            iam.PolicyStatement(sid="DescribeThePlatformKey", actions=["kms:DescribeKey"], resources=[key_arn]),
            iam.PolicyStatement(
                sid="EncryptExecutionData",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key_arn],
                conditions={
                    "StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": self.state_machine_arn}
                },
            ),
            iam.PolicyStatement(
                sid="EncryptExecutionLogs",
                actions=["kms:GenerateDataKey"],
                resources=[key_arn],
                conditions={
                    "StringEquals": {
                        "kms:EncryptionContext:SourceArn": stack.format_arn(
                            service="logs", resource="*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
                        )
                    }
                },
            ),
            iam.PolicyStatement(sid="PublishOutcomes", actions=["sns:Publish"], resources=[topic.topic_arn]),
            # Publishing to the KMS-encrypted notifications topic.
            iam.PolicyStatement(
                sid="PublishToEncryptedTopic",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sns.{stack.region}.{stack.url_suffix}"}},
            ),
            # CloudWatch Logs delivery and X-Ray have no resource-level permissions.
            iam.PolicyStatement(
                sid="DeliverExecutionLogs",
                actions=[
                    "logs:CreateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:DescribeLogGroups",
                    "logs:DescribeResourcePolicies",
                    "logs:GetLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:UpdateLogDelivery",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="TraceExecutions",
                actions=[
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:PutTelemetryRecords",
                    "xray:PutTraceSegments",
                ],
                resources=["*"],
            ),
        ]
        for statement in statements:
            self.role.add_to_policy(statement)

    def _integration_statements(self) -> list[iam.PolicyStatement]:
        """What the ``createTransformJob.sync`` integration needs, taken from CDK's own task
        construct (its generated policy is AWS's statement of what the integration calls, e.g.
        ``sagemaker:AddTags`` for the tags it puts on every job), with the SageMaker actions
        narrowed from ``transform-job/*`` and ``*`` to this construct's job names."""
        generated = self.transform_task.task_policies
        on_jobs = sorted({action for statement in generated for action in statement.actions if _is_sagemaker(action)})
        statements = [iam.PolicyStatement(sid="OwnTransformJobs", actions=on_jobs, resources=[self.transform_job_arns])]
        for statement in generated:
            actions = [action for action in statement.actions if not _is_sagemaker(action)]
            if actions:
                statements.append(
                    iam.PolicyStatement(
                        sid=_INTEGRATION_SIDS.get(actions[0].split(":")[0]),
                        actions=actions,
                        resources=list(statement.resources),
                        conditions=statement.conditions or None,
                    )
                )
        return statements

    def _grant_model_data_access(self) -> iam.Policy:
        """What the model's execution role needs to run this construct's transform jobs."""
        stack = cdk.Stack.of(self)
        transform_logs = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/TransformJobs",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.model_wildcard_resources = [
            self.bucket.arn_for_objects(f"{self.input_prefix}*"),
            self.bucket.arn_for_objects(f"{self.output_prefix}*"),
            f"{transform_logs}:*",
        ]
        return iam.Policy(
            self,
            "ModelRoleDataAccess",
            roles=[self.model.role],
            statements=[
                iam.PolicyStatement(
                    sid="ListTheInputPath",
                    actions=["s3:ListBucket"],
                    resources=[self.bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{self.input_prefix}*"]}},
                ),
                iam.PolicyStatement(
                    sid="ReadTheInputPath",
                    actions=["s3:GetObject"],
                    resources=[self.bucket.arn_for_objects(f"{self.input_prefix}*")],
                ),
                iam.PolicyStatement(
                    sid="WriteTheOutputPath",
                    actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=[self.bucket.arn_for_objects(f"{self.output_prefix}*")],
                ),
                iam.PolicyStatement(
                    sid="UseThePlatformKeyForBatchData",
                    actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[self.encryption_key.key_arn],
                ),
                # The transform jobs' log group is shared by every job of the account; the
                # model's own policy scopes its log streams to this model's job names.
                iam.PolicyStatement(
                    sid="CreateTheTransformJobsLogGroup",
                    actions=["logs:CreateLogGroup", "logs:DescribeLogStreams"],
                    resources=[transform_logs, f"{transform_logs}:*"],
                ),
            ],
        )

    # Triggers and alarms -----------------------------------------------------------------

    def _create_triggers(self, settings: BatchSettings) -> None:
        stack = cdk.Stack.of(self)
        self.trigger_role = iam.Role(
            self,
            "TriggerRole",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"Lets EventBridge start {self.state_machine_name} only",
        )
        self._grant_execution_data_key(self.trigger_role)
        if settings.schedule is not None:
            self.schedule_rule = events.Rule(
                self,
                "Schedule",
                description=f"Runs {self.state_machine_name} on {settings.schedule} (UTC) over the whole input path",
                schedule=events.Schedule.expression(settings.schedule),
                targets=[self._target(events.RuleTargetInput.from_object({}))],
            )
        if settings.run_on_upload:
            self.upload_rule = events.Rule(
                self,
                "Upload",
                description=f"Runs {self.state_machine_name} on each object created under {self.input_prefix}",
                event_pattern=events.EventPattern(
                    source=["aws.s3"],
                    detail_type=["Object Created"],
                    detail={
                        "bucket": {"name": [self.bucket.bucket_name]},
                        # Zero-byte objects are folder markers, not data.
                        "object": {"key": [{"prefix": self.input_prefix}], "size": [{"numeric": [">", 0]}]},
                    },
                ),
                targets=[
                    self._target(
                        events.RuleTargetInput.from_object(
                            {
                                INPUT_URI: f"s3://{self.bucket.bucket_name}/"
                                f"{events.EventField.from_path('$.detail.object.key')}",
                                TRIGGER: UPLOAD_TRIGGER,
                            }
                        )
                    )
                ],
            )

    def _target(self, target_input: events.RuleTargetInput) -> events_targets.SfnStateMachine:
        return events_targets.SfnStateMachine(
            self.state_machine,
            input=target_input,
            role=self.trigger_role,
            retry_attempts=10,
            max_event_age=cdk.Duration.hours(6),
        )

    def _create_alarms(self, settings: BatchAlarms, topic: sns.ITopic) -> None:
        period = cdk.Duration.minutes(settings.period_minutes)
        specs = [
            AlarmSpec(
                key=key,
                metric=metric,
                threshold=1,
                description=f"a batch transform run {what}; the notifications topic has the job name and reason",
                # No executions means nothing failed.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for key, metric, what in (
                ("FailedExecutions", self.metric_executions_failed(period=period), "failed"),
                ("TimedOutExecutions", self.metric_executions_timed_out(period=period), "timed out"),
            )
        ]
        # Named like the endpoints' alarms, so the dashboard refers to them without exports.
        self.alarms = create_alarms(
            self,
            specs,
            name_prefix=self.state_machine_name,
            evaluation=AlarmEvaluation(evaluation_periods=1, datapoints_to_alarm=1),
            topic=topic,
        )
        self.alarm_names = {key: alarm_name(self.state_machine_name, key) for key in self.alarms}

    # Metrics and grants --------------------------------------------------------------------

    def _execution_metric(self, metric_name: str, props: dict[str, Any]) -> cloudwatch.Metric:
        # Addressed by the state machine's stable ARN (built from its name), not its resource
        # attribute, so dashboards in other stacks need no export of this stack.
        return cloudwatch.Metric(
            namespace="AWS/States",
            metric_name=metric_name,
            dimensions_map={"StateMachineArn": self.state_machine_arn},
            **_sum(props),
        )

    def metric_executions_failed(self, **props: Any) -> cloudwatch.Metric:
        """Executions that ended Failed (the job failed or was rejected), summed."""
        return self._execution_metric("ExecutionsFailed", props)

    def metric_executions_timed_out(self, **props: Any) -> cloudwatch.Metric:
        """Executions stopped by the state machine's backstop timeout, summed."""
        return self._execution_metric("ExecutionsTimedOut", props)

    def metric_executions_succeeded(self, **props: Any) -> cloudwatch.Metric:
        """Executions whose job completed, summed."""
        return self._execution_metric("ExecutionsSucceeded", props)

    def metric_executions_aborted(self, **props: Any) -> cloudwatch.Metric:
        """Executions stopped by someone, summed."""
        return self._execution_metric("ExecutionsAborted", props)

    def _grant_execution_data_key(self, grantee: iam.IGrantable) -> None:
        # Starting and reading executions of a state machine encrypted with a customer-managed
        # key needs that key, for this state machine only.
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resource_arns=[self.encryption_key.key_arn],
            conditions={"StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": self.state_machine_arn}},
        )

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start executions of this state machine (and only this one)."""
        self._grant_execution_data_key(grantee)
        return self.state_machine.grant_start_execution(grantee)

    def grant_run(self, grantee: iam.IGrantable) -> None:
        """Everything ``run-batch`` needs: upload input, start and follow executions, read output."""
        self.grant_start(grantee)
        stack = cdk.Stack.of(self)
        executions = stack.format_arn(
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

    # cdk-nag ---------------------------------------------------------------------------------

    def _acknowledge_findings(self) -> None:
        """Every cdk-nag exception for this construct, with its reason."""
        acknowledge_inline_policy(self.role)
        acknowledge_inline_policy(self.model_data_access)
        acknowledge_wildcard_resources(
            self.role,
            [self.transform_job_arns],
            "Transform job names end in a hash computed per execution, so they are unknown at deploy time; the "
            f"wildcard is confined to job names starting with {self.job_name_prefix}-.",
        )
        acknowledge_wildcard_resources(
            self.role,
            ["*"],
            "CloudWatch Logs vended-log delivery (CreateLogDelivery and related) and X-Ray tracing calls have no "
            "resource-level permissions; every other statement of this role names its resources.",
        )
        # The bucket usually lives in the platform stack: its ARN is an import here.
        acknowledge_wildcard_resources(
            self.model_data_access,
            self.model_wildcard_resources,
            "Transform jobs read input objects and write output objects whose names are chosen per run; access is "
            "confined to this model's input and output prefixes, and to the shared TransformJobs log group.",
        )
        if self.trigger_role is not None:
            acknowledge_inline_policy(self.trigger_role)


class _TransformJobWithDataProcessing(tasks.SageMakerCreateTransformJob):
    """CDK's transform job task plus SageMaker's ``DataProcessing`` (filters and join), which
    its props do not offer (aws-cdk-lib 2.275): added to the rendered ``Parameters``."""

    def __init__(self, scope: Construct, id: str, *, data_processing: DataProcessing | None, **props: Any) -> None:
        super().__init__(scope, id, **props)
        self._data_processing = data_processing

    @property
    def task_policies(self) -> list[iam.PolicyStatement]:
        """The statements CDK generates for this integration (protected in CDK, public here)."""
        return list(self._task_policies or [])

    def to_state_json(self, top_level_query_language: sfn.QueryLanguage | None = None) -> Any:
        state = super().to_state_json(top_level_query_language)
        processing = self._data_processing
        if processing is not None:
            rendered = {
                "InputFilter": processing.input_filter,
                "OutputFilter": processing.output_filter,
                "JoinSource": processing.join_source,
            }
            state["Parameters"]["DataProcessing"] = {key: value for key, value in rendered.items() if value is not None}
        return state


# Names for the integration's other statements, by service (a new one from CDK goes in unnamed).
_INTEGRATION_SIDS = {"iam": "PassTheModelRoleToSageMaker", "events": "TrackJobsForTheSyncIntegration"}


def _is_sagemaker(action: str) -> bool:
    return action.startswith("sagemaker:")


_SPLIT_TYPES = {
    "None": tasks.SplitType.NONE,
    "Line": tasks.SplitType.LINE,
    "RecordIO": tasks.SplitType.RECORD_IO,
    "TFRecord": tasks.SplitType.TF_RECORD,
}


def _sum(props: dict[str, Any]) -> dict[str, Any]:
    return {"statistic": "Sum", "period": cdk.Duration.minutes(5), **props}


def _stack_id_suffix() -> str:
    """The first block of the stack's UUID: differs each time a stack is created."""
    return cdk.Fn.select(0, cdk.Fn.split("-", cdk.Fn.select(2, cdk.Fn.split("/", cdk.Aws.STACK_ID))))
