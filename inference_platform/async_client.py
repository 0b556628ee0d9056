"""Submit one request to an asynchronous endpoint and wait for its result, with boto3 only.

The flow SageMaker defines: put the payload in S3 under the endpoint's input prefix, call
``InvokeEndpointAsync`` with its location, then wait for SageMaker to write either the
result (``OutputLocation``) or an error (``FailureLocation``). Both locations come back from
the invoke call, so the client polls exactly those two objects.

The client does not read the endpoint's error queue: that queue is the operators' shared
mailbox for failures, and a client receiving from it would take other callers' notices.
"""

from __future__ import annotations

import mimetypes
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from inference_core import outputs
from inference_core.s3 import ABSENT_OBJECT_ERRORS, split_s3_uri
from inference_platform.deployed import DeployedEnvironment

# SageMaker's own default per-request timeout, used when the stack does not publish one.
DEFAULT_INVOCATION_TIMEOUT_SECONDS = 900
# Waking an endpoint scaled to zero (alarm, scaling, instance start, model load) takes minutes.
WAKE_FROM_ZERO_ALLOWANCE_SECONDS = 600
_CONTENT_TYPES = {".csv": "text/csv", ".json": "application/json", ".jsonl": "application/jsonlines"}


class AsyncInferenceTimeout(TimeoutError):
    """Neither the result nor the failure object appeared in time."""


@dataclass(frozen=True)
class AsyncTarget:
    """Where a deployed async endpoint takes requests (from its stack's outputs)."""

    endpoint_name: str
    input_path: str
    invocation_timeout_seconds: int = DEFAULT_INVOCATION_TIMEOUT_SECONDS

    @classmethod
    def of(cls, environment: DeployedEnvironment, model: str) -> AsyncTarget:
        found = environment.model_outputs_with(model, outputs.ASYNC_ENDPOINT_NAME, outputs.ASYNC_INPUT_PATH)
        return cls(
            endpoint_name=found[outputs.ASYNC_ENDPOINT_NAME],
            input_path=found[outputs.ASYNC_INPUT_PATH],
            invocation_timeout_seconds=int(
                found.get(outputs.ASYNC_INVOCATION_TIMEOUT_SECONDS, DEFAULT_INVOCATION_TIMEOUT_SECONDS)
            ),
        )


@dataclass(frozen=True)
class Submission:
    """One queued request and the two places its outcome will appear."""

    inference_id: str
    input_location: str
    output_location: str
    failure_location: str | None


@dataclass(frozen=True)
class AsyncResult:
    """The object SageMaker wrote: the result, or the error if ``succeeded`` is false."""

    succeeded: bool
    location: str
    body: bytes


def guess_content_type(path: Path) -> str:
    """The MIME type for ``path``'s extension (the model code reads CSV and JSON)."""
    suffix = path.suffix.lower()
    return _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def submit(
    s3: Any,
    runtime: Any,
    target: AsyncTarget,
    input_file: Path,
    *,
    content_type: str,
    accept: str | None = None,
    inference_id: str | None = None,
) -> Submission:
    """Upload ``input_file`` under the endpoint's input prefix and queue it for inference."""
    inference_id = inference_id or str(uuid.uuid4())
    bucket, prefix = split_s3_uri(target.input_path)
    key = f"{prefix.rstrip('/')}/{inference_id}/{input_file.name}"
    # upload_file switches to a multipart upload for large payloads (async takes up to 1 GB);
    # the bucket's default encryption (the platform key) applies.
    s3.upload_file(str(input_file), bucket, key, ExtraArgs={"ContentType": content_type})
    return invoke(
        runtime, target, f"s3://{bucket}/{key}", content_type=content_type, accept=accept, inference_id=inference_id
    )


def invoke(
    runtime: Any,
    target: AsyncTarget,
    input_location: str,
    *,
    content_type: str,
    accept: str | None = None,
    inference_id: str | None = None,
) -> Submission:
    """Queue the request already staged at ``input_location`` (under the endpoint's input path)."""
    inference_id = inference_id or str(uuid.uuid4())
    request: dict[str, Any] = {
        "EndpointName": target.endpoint_name,
        "InputLocation": input_location,
        "ContentType": content_type,
        "InferenceId": inference_id,
        "InvocationTimeoutSeconds": target.invocation_timeout_seconds,
    }
    if accept:
        request["Accept"] = accept
    response = runtime.invoke_endpoint_async(**request)
    return Submission(
        inference_id=response.get("InferenceId") or inference_id,
        input_location=input_location,
        output_location=response["OutputLocation"],
        failure_location=response.get("FailureLocation"),
    )


def read_if_present(s3: Any, location: str) -> bytes | None:
    """The object's bytes, or None while it does not exist.

    Only S3's "no such key" answers mean "not there yet": the caller lists the bucket
    (inference_core.iam), so an AccessDenied is a real denial (of the object or its key) and is
    raised at once rather than waited out until the timeout.
    """
    bucket, key = split_s3_uri(location)
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ABSENT_OBJECT_ERRORS:
            return None
        raise
    return bytes(response["Body"].read())


def wait_for_result(
    s3: Any,
    submission: Submission,
    *,
    timeout: float,
    poll_interval: float = 5.0,
    progress: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> AsyncResult:
    """Poll the output and failure locations until one exists or ``timeout`` seconds pass.

    ``progress`` is called with the seconds elapsed before each wait.
    Raises :class:`AsyncInferenceTimeout` when neither appears in time.
    """
    started = clock()
    locations = [(True, submission.output_location)]
    if submission.failure_location:
        locations.append((False, submission.failure_location))
    while True:
        for succeeded, location in locations:
            body = read_if_present(s3, location)
            if body is not None:
                return AsyncResult(succeeded=succeeded, location=location, body=body)
        elapsed = clock() - started
        if elapsed >= timeout:
            raise AsyncInferenceTimeout(
                f"no result after {elapsed:.0f} s: neither {submission.output_location} nor "
                f"{submission.failure_location or '(no failure location)'} exists yet. The request "
                f"({submission.inference_id}) may still be queued or running; its result will land there."
            )
        if progress is not None:
            progress(elapsed)
        sleep(max(0.0, min(poll_interval, timeout - elapsed)))


def default_timeout(target: AsyncTarget) -> int:
    """How long a client waits by default: the request's own timeout plus time to wake from zero."""
    return target.invocation_timeout_seconds + WAKE_FROM_ZERO_ALLOWANCE_SECONDS
