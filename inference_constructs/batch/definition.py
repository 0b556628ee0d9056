"""The state machine definition of a ``BatchTransformJob``: name the job, pick and check its
locations, run it with retries, and report how it ended.

The states are created in the job construct's scope (their ids are part of the state
machine's definition, and tests and alarms read them by id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from inference_constructs import service_models
from inference_constructs.batch.settings import DataProcessing
from inference_constructs.instance_types import has_local_storage
from inference_core.batch import INPUT_URI, JOB_NAME, OUTPUT_URI, RUN_BATCH_STAGING_FOLDER, TRIGGER, UPLOAD_TRIGGER

if TYPE_CHECKING:
    from inference_constructs.batch_transform_job import BatchTransformJob


# The names CreateTransformJob can raise through the integration (service_models says how they are formed).
CREATE_TRANSFORM_JOB_ERRORS = service_models.sagemaker_integration_errors("CreateTransformJob")
# Too many concurrent jobs or instances for the account's quota: frees up as other jobs end.
CAPACITY_ERRORS = (service_models.sagemaker_integration_error("ResourceLimitExceeded"),)
# Throttling and SageMaker's transient service-side failures: both arrive under the generic name.
SERVICE_ERRORS = (service_models.SAGEMAKER_INTEGRATION_GENERIC_ERROR,)

# The error an execution ends with when its job failed or was refused; the cause says why.
FAILURE_ERROR = "BatchTransformFailed"


def define_state_machine(
    job: BatchTransformJob, topic: sns.ITopic
) -> tuple[sfn.IChainable, _TransformJobWithDataProcessing]:
    """The definition's first state, and the transform job task (whose policies the role copies)."""
    run_job = _transform_job_task(job)
    name_job, reject = _choose_locations(job, run_job)
    _report_outcome(job, topic, run_job, reject)
    return _skip_staged_uploads(job, name_job), run_job


def _choose_locations(job: BatchTransformJob, run_job: sfn.IChainable) -> tuple[sfn.Pass, sfn.Pass]:
    """Name the job, take the request's locations or the defaults, and run the job only if they
    lie under the model's paths: returns the first state and the state that rejects the rest."""
    # The execution ARN is unique per state machine and execution name; its MD5 digest is
    # valid in a job name whatever characters the execution name uses.
    job_name = sfn.JsonPath.format(
        f"{job.job_name_prefix}-{{}}", sfn.JsonPath.hash(sfn.JsonPath.string_at("$$.Execution.Id"), "MD5")
    )
    name_job = sfn.Pass(
        job,
        "NameJob",
        comment="A unique, valid job name per execution; keep the request for the choices below.",
        parameters={
            JOB_NAME: job_name,
            "default_output_uri": sfn.JsonPath.format(f"{job.output_path}{{}}/", job_name),
            "request": sfn.JsonPath.entire_payload,
        },
    )
    given_input = sfn.Pass(job, "UseGivenInput", input_path=f"$.request.{INPUT_URI}", result_path=f"$.{INPUT_URI}")
    default_input = sfn.Pass(
        job, "UseDefaultInput", result=sfn.Result.from_string(job.input_path), result_path=f"$.{INPUT_URI}"
    )
    given_output = sfn.Pass(job, "UseGivenOutput", input_path=f"$.request.{OUTPUT_URI}", result_path=f"$.{OUTPUT_URI}")
    default_output = sfn.Pass(job, "UseDefaultOutput", input_path="$.default_output_uri", result_path=f"$.{OUTPUT_URI}")
    reject = _reject_locations(job)
    locations_allowed = sfn.Condition.and_(
        sfn.Condition.is_string(f"$.{INPUT_URI}"),
        sfn.Condition.string_matches(f"$.{INPUT_URI}", f"{job.input_path}*"),
        sfn.Condition.is_string(f"$.{OUTPUT_URI}"),
        sfn.Condition.string_matches(f"$.{OUTPUT_URI}", f"{job.output_path}*"),
    )
    check_locations = (
        sfn.Choice(job, "CheckLocations", comment="The model's role may read and write only these paths.")
        .when(locations_allowed, run_job)
        .otherwise(reject)
    )
    choose_output = (
        sfn.Choice(job, "OutputGiven")
        .when(sfn.Condition.is_present(f"$.request.{OUTPUT_URI}"), given_output)
        .otherwise(default_output)
    )
    given_output.next(check_locations)
    default_output.next(check_locations)
    choose_input = (
        sfn.Choice(job, "InputGiven")
        .when(sfn.Condition.is_present(f"$.request.{INPUT_URI}"), given_input)
        .otherwise(default_input)
    )
    given_input.next(choose_output)
    default_input.next(choose_output)
    name_job.next(choose_input)
    return name_job, reject


def _reject_locations(job: BatchTransformJob) -> sfn.Pass:
    """Turns locations outside the model's paths into a failure, as a failed job would be."""
    return sfn.Pass(
        job,
        "RejectLocations",
        parameters={
            "Error": "InvalidLocation",
            "Cause": sfn.JsonPath.format(
                "input_uri {} must lie under {} and output_uri {} under {}",
                sfn.JsonPath.json_to_string(sfn.JsonPath.object_at(f"$.{INPUT_URI}")),
                job.input_path,
                sfn.JsonPath.json_to_string(sfn.JsonPath.object_at(f"$.{OUTPUT_URI}")),
                job.output_path,
            ),
        },
        result_path="$.failure",
    )


def _report_outcome(job: BatchTransformJob, topic: sns.ITopic, run_job: sfn.TaskStateBase, reject: sfn.Pass) -> None:
    """Publish how the run ended; a failed or rejected run ends the execution Failed."""
    notify_failure = _notify(job, topic, "NotifyFailure", "FAILED")
    # A Fail state may not raise the reserved States.* names (States.TaskFailed, States.Timeout),
    # so it raises its own name and keeps the original error in the cause.
    summarize = sfn.Pass(
        job,
        "SummarizeFailure",
        parameters={
            "cause": sfn.JsonPath.format(
                "{}: {}", sfn.JsonPath.string_at("$.failure.Error"), sfn.JsonPath.string_at("$.failure.Cause")
            )
        },
        result_path="$.outcome",
    )
    failed = sfn.Fail(job, "JobFailed", error=FAILURE_ERROR, cause_path="$.outcome.cause")
    notify_failure.next(summarize).next(failed)
    run_job.add_catch(notify_failure, errors=[sfn.Errors.ALL], result_path="$.failure")
    notify_success = _notify(job, topic, "NotifySuccess", "SUCCEEDED")
    run_job.next(notify_success).next(sfn.Succeed(job, "JobSucceeded"))
    reject.next(notify_failure)


def _skip_staged_uploads(job: BatchTransformJob, name_job: sfn.IChainable) -> sfn.IChainable:
    """The first state: uploads run-batch stages are run by run-batch itself, not by the upload trigger."""
    staged = sfn.Condition.and_(
        sfn.Condition.is_present(f"$.{TRIGGER}"),
        sfn.Condition.is_string(f"$.{TRIGGER}"),
        sfn.Condition.string_equals(f"$.{TRIGGER}", UPLOAD_TRIGGER),
        sfn.Condition.is_present(f"$.{INPUT_URI}"),
        sfn.Condition.is_string(f"$.{INPUT_URI}"),
        sfn.Condition.string_matches(f"$.{INPUT_URI}", f"{job.input_path}{RUN_BATCH_STAGING_FOLDER}*"),
    )
    return (
        sfn.Choice(job, "StagedByRunBatch", comment="run-batch runs what it uploads itself; skip its uploads.")
        .when(staged, sfn.Succeed(job, "LeftToRunBatch"))
        .otherwise(name_job)
    )


def _transform_job_task(job: BatchTransformJob) -> _TransformJobWithDataProcessing:
    settings = job.settings
    data_processing = settings.data_processing
    task = _TransformJobWithDataProcessing(
        job,
        "RunTransformJob",
        data_processing=data_processing,
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        transform_job_name=sfn.JsonPath.string_at(f"$.{JOB_NAME}"),
        model_name=job.model.model_name,
        # The job runs as the model's execution role; passing it here also keeps CDK from
        # creating a role with AmazonSageMakerFullAccess.
        role=job.model.role,
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
            encryption_key=job.encryption_key,
            accept=settings.accept,
            assemble_with=tasks.AssembleWith.LINE if settings.assemble_with == "Line" else tasks.AssembleWith.NONE,
        ),
        transform_resources=tasks.TransformResources(
            instance_count=settings.instance_count,
            instance_type=ec2.InstanceType(settings.instance_type.removeprefix("ml.")),
            # Local NVMe volumes are hardware-encrypted and SageMaker refuses a key for them.
            volume_encryption_key=None if has_local_storage(settings.instance_type) else job.encryption_key,
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
    _retry_capacity_and_service_errors(task)
    return task


def _retry_capacity_and_service_errors(task: sfn.TaskStateBase) -> None:
    """Quota errors free up as other jobs end: wait minutes. Service errors pass quickly: seconds."""
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


def _notify(job: BatchTransformJob, topic: sns.ITopic, id: str, status: str) -> tasks.SnsPublish:
    message: dict[str, Any] = {
        "status": status,
        JOB_NAME: sfn.JsonPath.string_at(f"$.{JOB_NAME}"),
        "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
        "state_machine": job.state_machine_name,
        INPUT_URI: sfn.JsonPath.object_at(f"$.{INPUT_URI}"),
        OUTPUT_URI: sfn.JsonPath.object_at(f"$.{OUTPUT_URI}"),
    }
    if status == "FAILED":
        message["error"] = sfn.JsonPath.string_at("$.failure.Error")
        message["reason"] = sfn.JsonPath.string_at("$.failure.Cause")
    else:
        message["job_arn"] = sfn.JsonPath.string_at("$.job.arn")
    publish = tasks.SnsPublish(
        job,
        id,
        topic=topic,
        subject=sfn.JsonPath.format(f"Batch transform {{}} {status.lower()}", sfn.JsonPath.string_at(f"$.{JOB_NAME}")),
        message=sfn.TaskInput.from_object(message),
        message_attributes={"status": tasks.MessageAttribute(value=status)},
        result_path=sfn.JsonPath.DISCARD,
    )
    publish.add_retry(errors=[sfn.Errors.ALL], interval=cdk.Duration.seconds(5), backoff_rate=2, max_attempts=4)
    return publish


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


_SPLIT_TYPES = {
    "None": tasks.SplitType.NONE,
    "Line": tasks.SplitType.LINE,
    "RecordIO": tasks.SplitType.RECORD_IO,
    "TFRecord": tasks.SplitType.TF_RECORD,
}
