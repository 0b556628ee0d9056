"""The state machine definition of a ``BatchTransformJob``: name the job, pick and check its
locations, run it with retries, and report how it ended.

The definition is written here as Amazon States Language, in Python: building it from CDK's
state constructs took about a hundred jsii round trips per job (a construct per state, a call
per JsonPath field, per condition and per transition), all to produce one JSON string. The
transform job task alone is still CDK's ``SageMakerCreateTransformJob``: its rendered
``Parameters`` and the policies it generates (AWS's statement of what the ``.sync`` integration
calls, which ``batch.permissions`` copies) are CDK's own. The rendering keeps CDK's key order and
state order, so the template is byte for byte what the state constructs rendered.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from inference_constructs import durations, service_models
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

# Step Functions' catch-all error name (sfn.Errors.ALL).
_ALL_ERRORS = "States.ALL"
_EXECUTION_ID = "$$.Execution.Id"
# The order CDK's StateGraph listed the states in (a walk of the transitions from the start):
# kept so the definition string, and so the template, is unchanged.
_STATE_ORDER = (
    "StagedByRunBatch",
    "NameJob",
    "InputGiven",
    "UseDefaultInput",
    "OutputGiven",
    "UseGivenInput",
    "UseDefaultOutput",
    "CheckLocations",
    "UseGivenOutput",
    "RejectLocations",
    "NotifyFailure",
    "RunTransformJob",
    "NotifySuccess",
    "JobSucceeded",
    "SummarizeFailure",
    "JobFailed",
    "LeftToRunBatch",
)


def define_state_machine(job: BatchTransformJob, topic_arn: str) -> tuple[str, tasks.SageMakerCreateTransformJob]:
    """The definition (Amazon States Language, with CDK tokens for the references in it), and
    the transform job task (whose generated policies the role copies)."""
    run_job = _transform_job_task(job)
    states = {
        **_skip_staged_uploads(job),
        **_choose_locations(job),
        **_reject_locations(job),
        **_report_outcome(job, topic_arn),
        "RunTransformJob": _run_job_state(job, run_job),
    }
    assert set(states) == set(_STATE_ORDER), sorted(set(states) ^ set(_STATE_ORDER))
    definition = {
        "StartAt": _STATE_ORDER[0],
        "States": {name: states[name] for name in _STATE_ORDER},
        # A backstop behind the job's own timeout, which is caught and notified.
        "TimeoutSeconds": (job.settings.timeout_hours + 1) * 3600,
    }
    # JSON.stringify's form, as CDK rendered it: no spaces, non-ASCII characters as they are.
    return json.dumps(definition, separators=(",", ":"), ensure_ascii=False), run_job


def task_policies(task: tasks.SageMakerCreateTransformJob) -> list[iam.PolicyStatement]:
    """The statements CDK generates for this integration (protected in CDK)."""
    return list(task._task_policies or [])


@functools.cache
def _string_at(path: str) -> str:
    """``JsonPath.stringAt(path)``: a token standing for ``path`` wherever it is used, the same
    in every task, so fetched from jsii once per path and process."""
    return sfn.JsonPath.string_at(path)


@functools.cache
def _partition() -> str:
    """The ``AWS::Partition`` token: one process-wide value, fetched from jsii once."""
    return cdk.Aws.PARTITION


def _quoted(value: str) -> str:
    """``value`` as a string literal inside an intrinsic function (``States.Format(...)``): CDK's
    ``singleQuotestring``: single quotes, with ``'`` and ``\\`` escaped (a backslash before a brace is
    kept as it is, being the brace's own escape)."""
    out = ["'"]
    for index, char in enumerate(value):
        if char == "'":
            out.append("\\'")
        elif char == "\\" and (index == len(value) - 1 or value[index + 1] not in "{}"):
            out.append("\\\\")
        else:
            out.append(char)
    out.append("'")
    return "".join(out)


def _format(template: str, *arguments: str) -> str:
    """``States.Format(template, arguments...)``; each argument a JsonPath or intrinsic
    expression already (``$...``, ``States....``)."""
    return f"States.Format({', '.join((_quoted(template), *arguments))})"


def _condition(variable: str, test: str, value: Any = True) -> dict[str, Any]:
    return {"Variable": variable, test: value}


def _choice(comment: str | None, choices: list[tuple[dict[str, Any], str]], default: str) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Choice"}
    if comment is not None:
        state["Comment"] = comment
    state["Choices"] = [{**condition, "Next": next_state} for condition, next_state in choices]
    state["Default"] = default
    return state


def _all_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"And": list(conditions)}


def _pass(next_state: str, **fields: Any) -> dict[str, Any]:
    """A Pass state, its fields in the order CDK renders them."""
    state: dict[str, Any] = {"Type": "Pass"}
    for field in ("Comment", "Result", "ResultPath", "InputPath", "Parameters"):
        if field in fields:
            state[field] = fields.pop(field)
    assert not fields, f"unexpected Pass fields {sorted(fields)}"
    state["Next"] = next_state
    return state


def _retry(errors: list[str], interval: int, max_attempts: int, backoff_rate: int, **extra: Any) -> dict[str, Any]:
    return {
        "ErrorEquals": errors,
        "IntervalSeconds": interval,
        "MaxAttempts": max_attempts,
        "BackoffRate": backoff_rate,
        **extra,
    }


def _skip_staged_uploads(job: BatchTransformJob) -> dict[str, dict[str, Any]]:
    """The first state: uploads run-batch stages are run by run-batch itself, not by the upload trigger."""
    staged = _all_of(
        _condition(f"$.{TRIGGER}", "IsPresent"),
        _condition(f"$.{TRIGGER}", "IsString"),
        _condition(f"$.{TRIGGER}", "StringEquals", UPLOAD_TRIGGER),
        _condition(f"$.{INPUT_URI}", "IsPresent"),
        _condition(f"$.{INPUT_URI}", "IsString"),
        _condition(f"$.{INPUT_URI}", "StringMatches", f"{job.input_path}{RUN_BATCH_STAGING_FOLDER}*"),
    )
    return {
        "StagedByRunBatch": _choice(
            "run-batch runs what it uploads itself; skip its uploads.", [(staged, "LeftToRunBatch")], "NameJob"
        ),
        "LeftToRunBatch": {"Type": "Succeed"},
    }


def _choose_locations(job: BatchTransformJob) -> dict[str, dict[str, Any]]:
    """Name the job, take the request's locations or the defaults, and run the job only if they
    lie under the model's paths (else reject them)."""
    # The execution ARN is unique per state machine and execution name; its MD5 digest is
    # valid in a job name whatever characters the execution name uses.
    job_name = _format(f"{job.job_name_prefix}-{{}}", f"States.Hash({_EXECUTION_ID}, 'MD5')")
    locations_allowed = _all_of(
        _condition(f"$.{INPUT_URI}", "IsString"),
        _condition(f"$.{INPUT_URI}", "StringMatches", f"{job.input_path}*"),
        _condition(f"$.{OUTPUT_URI}", "IsString"),
        _condition(f"$.{OUTPUT_URI}", "StringMatches", f"{job.output_path}*"),
    )
    return {
        "NameJob": _pass(
            "InputGiven",
            Comment="A unique, valid job name per execution; keep the request for the choices below.",
            Parameters={
                f"{JOB_NAME}.$": job_name,
                "default_output_uri.$": _format(f"{job.output_path}{{}}/", job_name),
                "request.$": "$",
            },
        ),
        "InputGiven": _choice(
            None, [(_condition(f"$.request.{INPUT_URI}", "IsPresent"), "UseGivenInput")], "UseDefaultInput"
        ),
        "UseDefaultInput": _pass("OutputGiven", Result=job.input_path, ResultPath=f"$.{INPUT_URI}"),
        "OutputGiven": _choice(
            None, [(_condition(f"$.request.{OUTPUT_URI}", "IsPresent"), "UseGivenOutput")], "UseDefaultOutput"
        ),
        "UseGivenInput": _pass("OutputGiven", ResultPath=f"$.{INPUT_URI}", InputPath=f"$.request.{INPUT_URI}"),
        "UseDefaultOutput": _pass("CheckLocations", ResultPath=f"$.{OUTPUT_URI}", InputPath="$.default_output_uri"),
        "CheckLocations": _choice(
            "The model's role may read and write only these paths.",
            [(locations_allowed, "RunTransformJob")],
            "RejectLocations",
        ),
        "UseGivenOutput": _pass("CheckLocations", ResultPath=f"$.{OUTPUT_URI}", InputPath=f"$.request.{OUTPUT_URI}"),
    }


def _reject_locations(job: BatchTransformJob) -> dict[str, dict[str, Any]]:
    """Turns locations outside the model's paths into a failure, as a failed job would be."""
    cause = _format(
        "input_uri {} must lie under {} and output_uri {} under {}",
        f"States.JsonToString($.{INPUT_URI})",
        _quoted(job.input_path),
        f"States.JsonToString($.{OUTPUT_URI})",
        _quoted(job.output_path),
    )
    return {
        "RejectLocations": _pass(
            "NotifyFailure", ResultPath="$.failure", Parameters={"Error": "InvalidLocation", "Cause.$": cause}
        )
    }


def _report_outcome(job: BatchTransformJob, topic_arn: str) -> dict[str, dict[str, Any]]:
    """Publish how the run ended (to the notifications topic); a failed or rejected run ends the execution Failed."""
    return {
        "NotifyFailure": _notify(job, topic_arn, "FAILED", "SummarizeFailure"),
        "NotifySuccess": _notify(job, topic_arn, "SUCCEEDED", "JobSucceeded"),
        "JobSucceeded": {"Type": "Succeed"},
        "SummarizeFailure": _pass(
            "JobFailed",
            ResultPath="$.outcome",
            Parameters={"cause.$": _format("{}: {}", "$.failure.Error", "$.failure.Cause")},
        ),
        # A Fail state may not raise the reserved States.* names (States.TaskFailed, States.Timeout),
        # so it raises its own name and keeps the original error in the cause.
        "JobFailed": {"Type": "Fail", "Error": FAILURE_ERROR, "CausePath": "$.outcome.cause"},
    }


def _notify(job: BatchTransformJob, topic_arn: str, status: str, next_state: str) -> dict[str, Any]:
    """An SNS publish task (``arn:<partition>:states:::sns:publish``), retried on any error."""
    message: dict[str, Any] = {
        "status": status,
        f"{JOB_NAME}.$": f"$.{JOB_NAME}",
        "execution.$": _EXECUTION_ID,
        "state_machine": job.state_machine_name,
        f"{INPUT_URI}.$": f"$.{INPUT_URI}",
        f"{OUTPUT_URI}.$": f"$.{OUTPUT_URI}",
    }
    if status == "FAILED":
        message["error.$"] = "$.failure.Error"
        message["reason.$"] = "$.failure.Cause"
    else:
        message["job_arn.$"] = "$.job.arn"
    return {
        "Next": next_state,
        "Retry": [_retry([_ALL_ERRORS], 5, 4, 2)],
        "Type": "Task",
        "ResultPath": None,
        "Resource": f"arn:{_partition()}:states:::sns:publish",
        "Parameters": {
            "TopicArn": topic_arn,
            "Message": message,
            "MessageAttributes": {"status": {"DataType": "String", "StringValue": status}},
            "Subject.$": _format(f"Batch transform {{}} {status.lower()}", f"$.{JOB_NAME}"),
        },
    }


def _run_job_state(job: BatchTransformJob, task: tasks.SageMakerCreateTransformJob) -> dict[str, Any]:
    """CDK's rendering of the transform job task, with its transitions, retries and catch, and
    SageMaker's ``DataProcessing`` (filters and join), which CDK's props do not offer
    (aws-cdk-lib 2.275)."""
    rendered = dict(task.to_state_json())
    rendered.pop("End", None)
    processing = job.settings.data_processing
    if processing is not None:
        fields = {
            "InputFilter": processing.input_filter,
            "OutputFilter": processing.output_filter,
            "JoinSource": processing.join_source,
        }
        rendered["Parameters"]["DataProcessing"] = {key: value for key, value in fields.items() if value is not None}
    return {
        "Next": "NotifySuccess",
        "Retry": _capacity_and_service_retries(),
        "Catch": [{"ErrorEquals": [_ALL_ERRORS], "ResultPath": "$.failure", "Next": "NotifyFailure"}],
        **rendered,
    }


def _capacity_and_service_retries() -> list[dict[str, Any]]:
    """Quota errors free up as other jobs end: wait minutes. Service errors pass quickly: seconds."""
    return [
        _retry(list(CAPACITY_ERRORS), 5 * 60, 5, 2, MaxDelaySeconds=3600),
        # Throttling shares this name with internal errors: back off with jitter, a few times.
        _retry(list(SERVICE_ERRORS), 10, 6, 2, JitterStrategy="FULL"),
    ]


def _transform_job_task(job: BatchTransformJob) -> tasks.SageMakerCreateTransformJob:
    """CDK's task for the job (in the job's scope, under the id it always had): its rendering
    and its generated policies are used; it is not part of a CDK state graph."""
    settings = job.settings
    task = tasks.SageMakerCreateTransformJob(
        job,
        "RunTransformJob",
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        transform_job_name=_string_at(f"$.{JOB_NAME}"),
        model_name=job.model.model_name,
        # The job runs as the model's execution role; passing it here also keeps CDK from
        # creating a role with AmazonSageMakerFullAccess.
        role=job.model.role,
        transform_input=tasks.TransformInput(
            transform_data_source=tasks.TransformDataSource(
                s3_data_source=tasks.TransformS3DataSource(
                    s3_uri=_string_at(f"$.{INPUT_URI}"), s3_data_type=tasks.S3DataType.S3_PREFIX
                )
            ),
            content_type=settings.content_type,
            split_type=_SPLIT_TYPES[settings.split_type],
            compression_type=tasks.CompressionType.GZIP if settings.compression_type == "Gzip" else None,
        ),
        transform_output=tasks.TransformOutput(
            s3_output_path=_string_at(f"$.{OUTPUT_URI}"),
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
            invocations_timeout=durations.seconds(settings.model_client.invocations_timeout_seconds),
        ),
        environment=dict(settings.environment) or None,
        task_timeout=sfn.Timeout.duration(durations.hours(settings.timeout_hours)),
        result_selector={"arn": _string_at("$.TransformJobArn")},
        result_path="$.job",
    )
    return task


_SPLIT_TYPES = {
    "None": tasks.SplitType.NONE,
    "Line": tasks.SplitType.LINE,
    "RecordIO": tasks.SplitType.RECORD_IO,
    "TFRecord": tasks.SplitType.TF_RECORD,
}
