"""Post-deploy smoke tests: does every deployed mode of every model really answer?

For each model of an environment, the checks read the model stack's outputs and exercise
each mode whose outputs are there, with a small sample of records:

- real-time and serverless: ``InvokeEndpoint`` with the sample, expecting one label per row;
- asynchronous: the sample is uploaded under ``AsyncInputPath``, ``InvokeEndpointAsync`` is
  called, and the check waits for the output object (or the failure object) it names;
- batch: the sample is uploaded under ``BatchInputPath`` and the batch state machine is
  started on it, with its output under ``BatchOutputPath``; the check waits for the
  execution and reads what the transform job wrote.

A mode whose outputs are absent is skipped. Every check records its outcome and never
stops the others; anything written lives under a ``smoke/<run id>`` prefix.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from inference_platform.batch_client import RUN_BATCH_STAGING_FOLDER
from inference_platform.deployed import DeployedEnvironment

# The shipped iris model takes four numeric features per row and answers one label per row.
SAMPLE_ROWS = ("5.1,3.5,1.4,0.2", "6.7,3.0,5.2,2.3", "5.9,3.0,4.2,1.5")

# The execution input that points a batch run at other prefixes than its defaults
# (BatchTransformJob: "the execution input may override the input and output prefix").
# The batch state machine's execution input (see BatchTransformJob): both optional overrides.
BATCH_INPUT_PATH_FIELD = "input_uri"
BATCH_OUTPUT_PATH_FIELD = "output_uri"
BATCH_INPUT_FILE = "records.csv"
# Batch transform names each output object after its input object, plus ".out".
BATCH_OUTPUT_SUFFIX = ".out"

# InvokeEndpoint allows 60 s of model time; leave room for the platform around it.
INVOKE_READ_TIMEOUT_SECONDS = 70
ASYNC_MAX_INVOCATION_SECONDS = 3600


class Outcome(StrEnum):
    PASSED = "PASS"
    FAILED = "FAIL"
    SKIPPED = "SKIP"


@dataclass(frozen=True)
class CheckResult:
    """How one mode of one model fared."""

    model: str
    mode: str
    outcome: Outcome
    detail: str
    seconds: float = 0.0


class CheckFailed(Exception):
    """A check saw something wrong; the message says what."""


@dataclass(frozen=True)
class Sample:
    """The records sent to every mode, and the media types to send and expect."""

    rows: tuple[str, ...] = SAMPLE_ROWS
    content_type: str = "text/csv"
    accept: str = "text/csv"

    @property
    def body(self) -> bytes:
        return ("\n".join(self.rows) + "\n").encode()


def check_labels(body: bytes, rows: int, source: str) -> list[str]:
    """The answer's labels, or CheckFailed unless there is exactly one non-empty line per row."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckFailed(f"{source}: the answer is not UTF-8 text ({body[:60]!r})") from None
    lines = text.splitlines()
    if len(lines) != rows:
        raise CheckFailed(
            f"{source}: expected one label per row ({rows} lines), got {len(lines)} line(s): {text[:200]!r}"
        )
    empty = [number for number, line in enumerate(lines, start=1) if not line.strip()]
    if empty:
        raise CheckFailed(f"{source}: line(s) {empty} of the answer are empty: {text[:200]!r}")
    return lines


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise CheckFailed(f"not an s3://bucket/key location: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


Check = Callable[[dict[str, str]], str]


class SmokeTests:
    """Runs every mode's check for the given models of one deployed environment.

    :param timeout: Seconds each asynchronous or batch check waits for its result.
    :param poll_interval: Seconds between two looks at a pending result.
    """

    def __init__(
        self,
        environment: DeployedEnvironment,
        *,
        sample: Sample | None = None,
        timeout: float = 900.0,
        poll_interval: float = 5.0,
        run_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.environment = environment
        self.sample = sample or Sample()
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.run_id = run_id or new_run_id()
        self._clock = clock
        self._sleep = sleep
        session = environment.session
        self.runtime = session.client(
            "sagemaker-runtime",
            config=Config(read_timeout=INVOKE_READ_TIMEOUT_SECONDS, retries={"mode": "standard", "max_attempts": 3}),
        )
        self.s3 = session.client("s3")
        self.stepfunctions = session.client("stepfunctions")
        # mode, the output that says the mode is deployed, the other outputs it needs, the check
        self.checks: list[tuple[str, str, tuple[str, ...], Check]] = [
            ("realtime", "RealtimeEndpointName", (), self.run_realtime),
            ("serverless", "ServerlessEndpointName", (), self.run_serverless),
            ("async", "AsyncEndpointName", ("AsyncInputPath", "AsyncOutputPath", "AsyncFailurePath"), self.run_async),
            ("batch", "BatchStateMachineArn", ("BatchInputPath", "BatchOutputPath"), self.run_batch),
        ]

    # --- running ------------------------------------------------------------------------

    def run(self, models: Sequence[str]) -> list[CheckResult]:
        results = []
        for model in models:
            outputs = self.environment.model_outputs(model)
            for mode, marker, needed, check in self.checks:
                results.append(self._run_one(model, mode, marker, needed, check, outputs))
        return results

    def _run_one(
        self, model: str, mode: str, marker: str, needed: tuple[str, ...], check: Check, outputs: dict[str, str]
    ) -> CheckResult:
        if marker not in outputs:
            return CheckResult(model, mode, Outcome.SKIPPED, f"no {marker} output: {mode} is not deployed")
        missing = [key for key in needed if key not in outputs]
        if missing:
            return CheckResult(model, mode, Outcome.FAILED, f"the stack has {marker} but lacks {', '.join(missing)}")
        started = self._clock()
        try:
            detail = check(outputs)
            outcome = Outcome.PASSED
        except CheckFailed as failure:
            detail, outcome = str(failure), Outcome.FAILED
        except (ClientError, BotoCoreError) as error:
            detail, outcome = f"{type(error).__name__}: {error}", Outcome.FAILED
        return CheckResult(model, mode, outcome, detail, self._clock() - started)

    # --- real-time and serverless -------------------------------------------------------

    def run_realtime(self, outputs: dict[str, str]) -> str:
        return self.invoke(outputs["RealtimeEndpointName"])

    def run_serverless(self, outputs: dict[str, str]) -> str:
        return self.invoke(outputs["ServerlessEndpointName"])

    def invoke(self, endpoint: str) -> str:
        response = self.runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType=self.sample.content_type,
            Accept=self.sample.accept,
            Body=self.sample.body,
        )
        content_type = response.get("ContentType", "")
        body = response["Body"].read()
        if not content_type.startswith(self.sample.accept):
            raise CheckFailed(f"{endpoint} answered in {content_type!r}, not the requested {self.sample.accept}")
        labels = check_labels(body, len(self.sample.rows), endpoint)
        return f"{endpoint} answered {len(labels)} labels for {len(self.sample.rows)} rows ({', '.join(labels)})"

    # --- asynchronous -------------------------------------------------------------------

    def run_async(self, outputs: dict[str, str]) -> str:
        endpoint = outputs["AsyncEndpointName"]
        input_location = f"{outputs['AsyncInputPath'].rstrip('/')}/smoke/{self.run_id}.csv"
        self._put(input_location)
        response = self.runtime.invoke_endpoint_async(
            EndpointName=endpoint,
            InputLocation=input_location,
            ContentType=self.sample.content_type,
            Accept=self.sample.accept,
            InvocationTimeoutSeconds=max(1, min(ASYNC_MAX_INVOCATION_SECONDS, int(self.timeout))),
        )
        output_location = response["OutputLocation"]
        failure_location = response.get("FailureLocation")
        deadline = self._clock() + self.timeout
        while True:
            body = self._get(output_location)
            if body is not None:
                labels = check_labels(body, len(self.sample.rows), output_location)
                return f"{endpoint} wrote {len(labels)} labels for {len(self.sample.rows)} rows to {output_location}"
            failure = self._get(failure_location) if failure_location else None
            if failure is not None:
                raise CheckFailed(f"{endpoint} failed the request: {failure_location}: {failure[:500]!r}")
            if self._clock() >= deadline:
                raise CheckFailed(f"{endpoint}: no output at {output_location} after {self.timeout:g} s")
            self._sleep(self.poll_interval)

    # --- batch --------------------------------------------------------------------------

    def run_batch(self, outputs: dict[str, str]) -> str:
        state_machine = outputs["BatchStateMachineArn"]
        # Staged like run-batch's inputs, which the upload trigger ignores, so one smoke run is one job.
        input_path = f"{outputs['BatchInputPath'].rstrip('/')}/{RUN_BATCH_STAGING_FOLDER}smoke-{self.run_id}/"
        output_path = f"{outputs['BatchOutputPath'].rstrip('/')}/smoke/{self.run_id}/"
        self._put(input_path + BATCH_INPUT_FILE)
        execution = self.stepfunctions.start_execution(
            stateMachineArn=state_machine,
            name=f"smoke-{self.run_id}",
            input=json.dumps({BATCH_INPUT_PATH_FIELD: input_path, BATCH_OUTPUT_PATH_FIELD: output_path}),
        )["executionArn"]
        deadline = self._clock() + self.timeout
        while True:
            described = self.stepfunctions.describe_execution(executionArn=execution)
            status = described["status"]
            if status == "SUCCEEDED":
                break
            if status != "RUNNING":
                reason = ": ".join(part for part in (described.get("error"), described.get("cause")) if part)
                raise CheckFailed(f"batch execution {execution} ended {status}" + (f" ({reason})" if reason else ""))
            if self._clock() >= deadline:
                # Stopping the execution also stops the transform job it waits for.
                self.stepfunctions.stop_execution(executionArn=execution, cause="smoke test timed out")
                raise CheckFailed(f"batch execution {execution} did not finish within {self.timeout:g} s; stopped it")
            self._sleep(self.poll_interval)
        output_location = output_path + BATCH_INPUT_FILE + BATCH_OUTPUT_SUFFIX
        body = self._get(output_location)
        if body is None:
            raise CheckFailed(f"batch execution succeeded but {output_location} was not written")
        labels = check_labels(body, len(self.sample.rows), output_location)
        rows = len(self.sample.rows)
        return f"batch execution succeeded; {output_location} holds {len(labels)} labels for {rows} rows"

    # --- S3 -----------------------------------------------------------------------------

    def _put(self, location: str) -> None:
        bucket, key = split_s3_uri(location)
        self.s3.put_object(Bucket=bucket, Key=key, Body=self.sample.body, ContentType=self.sample.content_type)

    def _get(self, location: str) -> bytes | None:
        """The object's bytes, or None while it does not exist."""
        bucket, key = split_s3_uri(location)
        try:
            return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise


def report(environment: str, run_id: str, results: Sequence[CheckResult]) -> tuple[str, bool]:
    """The per-check report and whether the run passed (no failure, and at least one check ran)."""
    lines = [f"smoke tests of environment {environment} (run {run_id})"]
    model_width = max((len(result.model) for result in results), default=5)
    for result in results:
        timing = f" ({result.seconds:.1f} s)" if result.outcome is not Outcome.SKIPPED else ""
        columns = f"{result.outcome.value}  {result.model:<{model_width}}  {result.mode:<10}"
        lines.append(f"{columns}  {result.detail}{timing}")
    counts = {outcome: sum(result.outcome is outcome for result in results) for outcome in Outcome}
    lines.append(
        f"{len(results)} checks: {counts[Outcome.PASSED]} passed, {counts[Outcome.FAILED]} failed, "
        f"{counts[Outcome.SKIPPED]} skipped"
    )
    passed = counts[Outcome.FAILED] == 0 and counts[Outcome.PASSED] > 0
    if counts[Outcome.PASSED] == 0 and counts[Outcome.FAILED] == 0:
        lines.append("nothing was checked: no deployed model publishes the outputs of any mode")
    return "\n".join(lines), passed
