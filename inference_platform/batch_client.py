"""Run a batch transform of a deployed model and follow it until it ends.

The model stack publishes the state machine's ARN and the batch input and output paths;
this module stages the input under the input path (uploading a local file if needed), starts
an execution of the state machine with that input, reports progress (states entered, the
transform job's status) and returns how the run ended and where its output is.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inference_core import outputs as output_keys
from inference_core.batch import INPUT_URI, JOB_NAME, OUTPUT_URI, RUN_BATCH_STAGING_FOLDER
from inference_core.s3 import S3UriError, split_s3_uri
from inference_platform.deployed import DeployedEnvironment

# Execution states that no longer change.
FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class BatchRunError(ValueError):
    """The run cannot start as asked (bad input location, missing file); nothing was started."""


def _split(uri: str) -> tuple[str, str]:
    try:
        return split_s3_uri(uri)
    except S3UriError:
        raise BatchRunError(f"{uri!r} is not an s3://bucket/key URI") from None


def new_run_name(now: datetime | None = None) -> str:
    """A valid, unique execution name such as ``run-20240131T020000Z-3f9a1c``."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"run-{moment}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class BatchTarget:
    """Where one model's batch runs start and read and write (its stack outputs)."""

    state_machine_arn: str
    input_path: str
    output_path: str

    @classmethod
    def of(cls, environment: DeployedEnvironment, model: str) -> BatchTarget:
        keys = (output_keys.BATCH_STATE_MACHINE_ARN, output_keys.BATCH_INPUT_PATH, output_keys.BATCH_OUTPUT_PATH)
        found = environment.model_outputs_with(model, *keys)
        return cls(*(found[key] for key in keys))


@dataclass
class RunOutcome:
    """How a run ended (``status`` RUNNING means the client stopped waiting, not the run)."""

    execution_arn: str
    status: str
    input_uri: str
    output_uri: str | None = None
    job_name: str | None = None
    error: str | None = None
    cause: str | None = None
    output_objects: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


@dataclass
class _Progress:
    """What has been reported so far, so each poll reports only what changed."""

    next_event_id: int = 0
    job_name: str | None = None
    job_status: str | None = None


class BatchClient:
    """Start and follow batch transform runs of one model.

    :param session: a boto3 session (or anything with ``client(name)``).
    :param target: the model's batch outputs.
    :param report: receives one line per progress step.
    :param clock: seconds, monotonic; replaced in tests.
    :param sleep: waits between polls; replaced in tests.
    """

    def __init__(
        self,
        session: Any,
        target: BatchTarget,
        *,
        report: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target = target
        self.report = report
        self.clock = clock
        self.sleep = sleep
        self.s3 = session.client("s3")
        self.stepfunctions = session.client("stepfunctions")
        self.sagemaker = session.client("sagemaker")

    # Staging -------------------------------------------------------------------------------

    def stage_input(self, source: str, run_name: str) -> str:
        """The input URI for a run: ``source`` itself if it is an ``s3://`` URI under the input
        path, else the local file uploaded to ``<input path>run-batch/<run name>/<file name>``
        (a folder an upload trigger leaves alone, since this run covers it)."""
        if source.startswith("s3://"):
            _split(source)
            self._check_under(source, self.target.input_path, "--input")
            return source
        path = Path(source)
        if not path.is_file():
            raise BatchRunError(f"--input {source!r} is neither an s3:// URI nor an existing file")
        folder = f"{self.target.input_path}{RUN_BATCH_STAGING_FOLDER}{run_name}/"
        bucket, key = _split(folder + path.name)
        self.report(f"uploading {path} to s3://{bucket}/{key}")
        self.s3.upload_file(str(path), bucket, key)
        return folder

    def check_output(self, uri: str) -> str:
        """An output prefix override, which must lie under the output path; ends with ``/``."""
        _split(uri)
        uri = uri if uri.endswith("/") else uri + "/"
        self._check_under(uri, self.target.output_path, "--output-prefix")
        return uri

    @staticmethod
    def _check_under(uri: str, path: str, option: str) -> None:
        # The state machine refuses anything else too: the model's role may use only these paths.
        if not uri.startswith(path):
            raise BatchRunError(f"{option} {uri!r} must lie under {path}")

    # Running -------------------------------------------------------------------------------

    def start(self, input_uri: str, output_uri: str | None = None, *, name: str | None = None) -> str:
        """Start an execution; returns its ARN."""
        request = {INPUT_URI: input_uri}
        if output_uri is not None:
            request[OUTPUT_URI] = output_uri
        response = self.stepfunctions.start_execution(
            stateMachineArn=self.target.state_machine_arn, name=name or new_run_name(), input=json.dumps(request)
        )
        return str(response["executionArn"])

    def wait(
        self,
        execution_arn: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 15.0,
        follow: bool = True,
    ) -> RunOutcome:
        """Poll until the execution ends or ``timeout`` seconds pass (``status`` then RUNNING).

        ``follow`` reports progress (states entered, the transform job's status), which reads the
        execution's history and the job: callers that only need the outcome turn it off.
        """
        started = self.clock()
        progress = _Progress()
        while True:
            execution = self.stepfunctions.describe_execution(executionArn=execution_arn)
            if follow:
                self._report_progress(execution_arn, progress, started)
            if execution["status"] in FINISHED:
                return self._outcome(execution, progress)
            if timeout is not None and self.clock() - started >= timeout:
                return self._outcome(execution, progress)
            self.sleep(poll_interval)

    def stop(self, execution_arn: str, cause: str) -> None:
        """Stop an execution; Step Functions then stops the transform job it waits for."""
        self.stepfunctions.stop_execution(executionArn=execution_arn, cause=cause)

    def run(
        self,
        source: str,
        *,
        output_prefix: str | None = None,
        timeout: float | None = None,
        poll_interval: float = 15.0,
    ) -> RunOutcome:
        """Stage the input, start a run and wait for it."""
        output_uri = self.check_output(output_prefix) if output_prefix is not None else None
        name = new_run_name()
        input_uri = self.stage_input(source, name)
        execution_arn = self.start(input_uri, output_uri, name=name)
        self.report(f"started {execution_arn}")
        return self.wait(execution_arn, timeout=timeout, poll_interval=poll_interval)

    # Progress and outcome ------------------------------------------------------------------

    def _report_progress(self, execution_arn: str, progress: _Progress, started: float) -> None:
        elapsed = f"[{self.clock() - started:7.0f}s]"
        for event in self._new_events(execution_arn, progress):
            kind = event["type"]
            if kind.endswith("StateEntered"):
                self.report(f"{elapsed} state {event['stateEnteredEventDetails']['name']}")
            elif kind == "TaskScheduled":
                details = event["taskScheduledEventDetails"]
                if details.get("resourceType") == "sagemaker":
                    progress.job_name = json.loads(details["parameters"]).get("TransformJobName")
                    self.report(f"{elapsed} transform job {progress.job_name} requested")
        if progress.job_name is not None:
            status = self._job_status(progress.job_name)
            if status is not None and status != progress.job_status:
                progress.job_status = status
                self.report(f"{elapsed} transform job {progress.job_name}: {status}")

    def _new_events(self, execution_arn: str, progress: _Progress) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        token = None
        while True:
            page = self.stepfunctions.get_execution_history(
                executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {})
            )
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                break
        fresh = [event for event in events if event["id"] > progress.next_event_id]
        if fresh:
            progress.next_event_id = max(event["id"] for event in fresh)
        return fresh

    def _job_status(self, job_name: str) -> str | None:
        try:
            job = self.sagemaker.describe_transform_job(TransformJobName=job_name)
        except self.sagemaker.exceptions.ClientError:
            return None  # not created yet, or not visible to this caller
        return str(job["TransformJobStatus"])

    def _outcome(self, execution: dict[str, Any], progress: _Progress) -> RunOutcome:
        request = json.loads(execution.get("input") or "{}")
        result = json.loads(execution["output"]) if execution.get("output") else {}
        outcome = RunOutcome(
            execution_arn=execution["executionArn"],
            status=execution["status"],
            input_uri=request.get(INPUT_URI, self.target.input_path),
            output_uri=result.get(OUTPUT_URI) or request.get(OUTPUT_URI),
            job_name=result.get(JOB_NAME) or progress.job_name,
            error=execution.get("error"),
            cause=execution.get("cause"),
        )
        if outcome.succeeded and outcome.output_uri:
            outcome.output_objects = self._list(outcome.output_uri)
        return outcome

    def _list(self, uri: str) -> list[str]:
        bucket, prefix = _split(uri)
        paginator = self.s3.get_paginator("list_objects_v2")
        return [
            f"s3://{bucket}/{item['Key']}"
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
