"""The props of a batch transform job and of the triggers that start it (``BatchSettings``).

Pure pydantic: what a config file may say about batch, checked before any construct exists.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from inference_constructs import service_models
from inference_constructs.alarms import AlarmEvaluation
from inference_constructs.instance_types import InstanceUse, check_instance_type
from inference_constructs.log_retention import check_log_retention_days
from inference_constructs.settings import Settings

# SageMaker job names: 1-63 letters, digits and hyphens. Ours are "<prefix>-<32 hex digits>".
MAX_TRANSFORM_JOB_NAME_LENGTH = 63
JOB_NAME_HASH_LENGTH = 32  # an MD5 digest in hex, from States.Hash
MAX_JOB_NAME_PREFIX_LENGTH = MAX_TRANSFORM_JOB_NAME_LENGTH - JOB_NAME_HASH_LENGTH - 1
JOB_NAME_PREFIX = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")


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

    @property
    def evaluation(self) -> AlarmEvaluation:
        """In the vocabulary of the other modes: one period of ``period_minutes``, which must breach.
        A single failed run is worth an alarm; the period only sets how long the alarm stays raised."""
        return AlarmEvaluation(evaluation_periods=1, datapoints_to_alarm=1)


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
