"""Post-deploy smoke tests: does every deployed mode of every model really answer?

For each model of an environment, the checks read the model stack's outputs and exercise
each registered mode (inference_core.modes) whose outputs are there, with a small sample of
records, the way the mode's clients invoke it (its ``invocation``):

- endpoints (real-time, serverless): ``InvokeEndpoint`` with the sample, expecting one label per row;
  a real-time endpoint whose stack publishes ``RealtimeResponseStreaming`` (a text-generation
  image) is asked for a few tokens with ``InvokeEndpointWithResponseStream`` instead;
- asynchronous: the sample is uploaded under the async input path, and the async client
  (inference_platform.async_client) invokes the endpoint and waits for the output object (or
  the failure object) it names;
- batch: the sample is uploaded under the batch input path, and the batch client
  (inference_platform.batch_client) starts the state machine on it, with its output under the
  batch output path, and waits for the execution; the check reads what the transform job wrote.

A mode whose outputs are absent is skipped. Every check records its outcome and never
stops the others; anything written lives under a ``smoke/<run id>`` prefix.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from inference_core import outputs as output_keys
from inference_core.batch import OUTPUT_OBJECT_SUFFIX, RUN_BATCH_STAGING_FOLDER
from inference_core.modes import Invocation, Mode, registered
from inference_core.s3 import S3UriError, split_s3_uri
from inference_platform import async_client, streaming
from inference_platform.batch_client import BatchClient, BatchTarget
from inference_platform.deployed import DeployedEnvironment

# The shipped iris model takes four numeric features per row and answers one label per row.
SAMPLE_ROWS = ("5.1,3.5,1.4,0.2", "6.7,3.0,5.2,2.3", "5.9,3.0,4.2,1.5")

BATCH_INPUT_FILE = "records.csv"

# Text-generation endpoints are asked for a few streamed tokens (any answer will do).
STREAM_PROMPT = "Say hello."
STREAM_MAX_NEW_TOKENS = 8

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


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


Check = Callable[[Mode, dict[str, str]], str]


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
        target_models: Mapping[str, str] | None = None,
    ) -> None:
        self.environment = environment
        #: Model name -> the model a multi-model endpoint of it is asked for (InvokeEndpoint's
        #: TargetModel: the artifact's key under the endpoint's model data prefix).
        self.target_models = dict(target_models or {})
        self._target_model: str | None = None
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
        # One check per way of invoking a mode (inference_core.modes.Invocation): each mode is
        # checked the way its clients call it.
        self.checks: dict[Invocation, Check] = {
            Invocation.ENDPOINT: self.run_endpoint,
            Invocation.COMPONENT: self.run_component,
            Invocation.ASYNC: self.run_async,
            Invocation.BATCH: self.run_batch,
        }

    # --- running ------------------------------------------------------------------------

    def run(self, models: Sequence[str]) -> list[CheckResult]:
        results = []
        for model in models:
            outputs = self.environment.model_outputs(model)
            for mode in registered():
                results.append(self._run_one(model, mode, outputs))
        return results

    def _run_one(self, model: str, mode: Mode, outputs: dict[str, str]) -> CheckResult:
        marker = mode.marker_output
        if marker not in outputs:
            return CheckResult(model, mode.name, Outcome.SKIPPED, f"no {marker} output: {mode.name} is not deployed")
        missing = [key for key in mode.client_outputs if key not in outputs]
        if missing:
            detail = f"the stack has {marker} but lacks {', '.join(missing)}"
            return CheckResult(model, mode.name, Outcome.FAILED, detail)
        started = self._clock()
        self._target_model = self.target_models.get(model)
        try:
            detail = self.checks[mode.invocation](mode, outputs)
            outcome = Outcome.PASSED
        except (CheckFailed, S3UriError) as failure:  # S3UriError: a stack output that is not an s3:// URI
            detail, outcome = str(failure), Outcome.FAILED
        except (ClientError, BotoCoreError) as error:
            detail, outcome = f"{type(error).__name__}: {error}", Outcome.FAILED
        return CheckResult(model, mode.name, outcome, detail, self._clock() - started)

    # --- endpoints invoked synchronously (real-time, serverless) ------------------------

    def run_endpoint(self, mode: Mode, outputs: dict[str, str]) -> str:
        """InvokeEndpoint on the endpoint the mode's first output names (with the model's
        TargetModel, when one is given: a multi-model endpoint answers nothing without it); a
        text-generation endpoint (its stack says so) is asked for a few tokens, streamed."""
        if (
            mode.marker_output == output_keys.REALTIME_ENDPOINT_NAME
            and output_keys.REALTIME_RESPONSE_STREAMING in outputs
        ):
            return self.stream(outputs[mode.marker_output])
        return self.invoke(outputs[mode.marker_output], target_model=self._target_model)

    def run_component(self, mode: Mode, outputs: dict[str, str]) -> str:
        """InvokeEndpoint on the shared endpoint, naming the model's inference component."""
        return self.invoke(outputs[output_keys.COMPONENT_ENDPOINT_NAME], component=outputs[mode.marker_output])

    def stream(self, endpoint: str) -> str:
        tokens: list[str] = []
        body = streaming.text_generation_request(STREAM_PROMPT, STREAM_MAX_NEW_TOKENS)
        stats = streaming.stream(
            self.runtime, streaming.StreamTarget(endpoint), body, on_token=tokens.append, clock=self._clock
        )
        if stats.tokens == 0:
            raise CheckFailed(f"{endpoint} streamed no tokens for {STREAM_PROMPT!r}")
        text = "".join(tokens)
        return f"{endpoint} streamed {stats.tokens} tokens ({text[:60]!r})"

    def invoke(self, endpoint: str, *, target_model: str | None = None, component: str | None = None) -> str:
        # A shared endpoint routes a request to the component it names (InvokeEndpoint's
        # InferenceComponentName); a multi-model endpoint to the model it names (TargetModel).
        request = {"InferenceComponentName": component} if component else {}
        if target_model:
            request["TargetModel"] = target_model
        response = self.runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType=self.sample.content_type,
            Accept=self.sample.accept,
            Body=self.sample.body,
            **request,
        )
        content_type = response.get("ContentType", "")
        body = response["Body"].read()
        if not content_type.startswith(self.sample.accept):
            raise CheckFailed(f"{endpoint} answered in {content_type!r}, not the requested {self.sample.accept}")
        if component:
            endpoint = f"{endpoint} ({component})"
        labels = check_labels(body, len(self.sample.rows), endpoint)
        return f"{endpoint} answered {len(labels)} labels for {len(self.sample.rows)} rows ({', '.join(labels)})"

    # --- asynchronous -------------------------------------------------------------------

    def run_async(self, mode: Mode, outputs: dict[str, str]) -> str:
        target = async_client.AsyncTarget(
            endpoint_name=outputs[mode.marker_output],
            input_path=outputs[output_keys.ASYNC_INPUT_PATH],
            # The request may take as long as the check waits, within SageMaker's limit.
            invocation_timeout_seconds=max(1, min(ASYNC_MAX_INVOCATION_SECONDS, int(self.timeout))),
        )
        endpoint = target.endpoint_name
        input_location = f"{target.input_path.rstrip('/')}/smoke/{self.run_id}.csv"
        self._put(input_location)
        submission = async_client.invoke(
            self.runtime,
            target,
            input_location,
            content_type=self.sample.content_type,
            accept=self.sample.accept,
            inference_id=f"smoke-{self.run_id}",
        )
        try:
            result = async_client.wait_for_result(
                self.s3,
                submission,
                timeout=self.timeout,
                poll_interval=self.poll_interval,
                clock=self._clock,
                sleep=self._sleep,
            )
        except async_client.AsyncInferenceTimeout:
            raise CheckFailed(
                f"{endpoint}: no output at {submission.output_location} after {self.timeout:g} s"
            ) from None
        if not result.succeeded:
            raise CheckFailed(f"{endpoint} failed the request: {result.location}: {result.body[:500]!r}")
        labels = check_labels(result.body, len(self.sample.rows), result.location)
        return f"{endpoint} wrote {len(labels)} labels for {len(self.sample.rows)} rows to {result.location}"

    # --- batch --------------------------------------------------------------------------

    def run_batch(self, mode: Mode, outputs: dict[str, str]) -> str:
        client = BatchClient(
            self.environment.session,
            BatchTarget(
                state_machine_arn=outputs[mode.marker_output],
                input_path=outputs[output_keys.BATCH_INPUT_PATH],
                output_path=outputs[output_keys.BATCH_OUTPUT_PATH],
            ),
            report=lambda _line: None,  # the smoke report says how the check went
            clock=self._clock,
            sleep=self._sleep,
        )
        # Staged like run-batch's inputs, which the upload trigger ignores, so one smoke run is one job.
        input_path = f"{client.target.input_path.rstrip('/')}/{RUN_BATCH_STAGING_FOLDER}smoke-{self.run_id}/"
        output_path = f"{client.target.output_path.rstrip('/')}/smoke/{self.run_id}/"
        self._put(input_path + BATCH_INPUT_FILE)
        execution = client.start(input_path, output_path, name=f"smoke-{self.run_id}")
        # follow=False: the outcome is enough, and following reads the execution history and the
        # transform job, which the pipeline's smoke role is not granted (inference_core.iam).
        outcome = client.wait(execution, timeout=self.timeout, poll_interval=self.poll_interval, follow=False)
        if outcome.status == "RUNNING":
            client.stop(execution, cause="smoke test timed out")
            raise CheckFailed(f"batch execution {execution} did not finish within {self.timeout:g} s; stopped it")
        if not outcome.succeeded:
            reason = ": ".join(part for part in (outcome.error, outcome.cause) if part)
            raise CheckFailed(
                f"batch execution {execution} ended {outcome.status}" + (f" ({reason})" if reason else "")
            )
        output_location = output_path + BATCH_INPUT_FILE + OUTPUT_OBJECT_SUFFIX
        body = async_client.read_if_present(self.s3, output_location)
        if body is None:
            raise CheckFailed(f"batch execution succeeded but {output_location} was not written")
        labels = check_labels(body, len(self.sample.rows), output_location)
        rows = len(self.sample.rows)
        return f"batch execution succeeded; {output_location} holds {len(labels)} labels for {rows} rows"

    # --- S3 -----------------------------------------------------------------------------

    def _put(self, location: str) -> None:
        bucket, key = split_s3_uri(location)
        self.s3.put_object(Bucket=bucket, Key=key, Body=self.sample.body, ContentType=self.sample.content_type)


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
