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
from urllib.parse import urlparse

from botocore.exceptions import ClientError

# SageMaker's own default per-request timeout, used when the stack does not publish one.
DEFAULT_INVOCATION_TIMEOUT_SECONDS = 900
# Waking an endpoint scaled to zero (alarm, scaling, instance start, model load) takes minutes.
WAKE_FROM_ZERO_ALLOWANCE_SECONDS = 600
# S3 answers these while an object is absent (403 when the caller may not list the bucket).
_NOT_THERE_YET = {"NoSuchKey", "404", "NotFound", "AccessDenied", "403"}
_CONTENT_TYPES = {".csv": "text/csv", ".json": "application/json", ".jsonl": "application/jsonlines"}


class AsyncInferenceTimeout(TimeoutError):
    """Neither the result nor the failure object appeared in time."""


@dataclass(frozen=True)
class AsyncTarget:
    """Where a deployed async endpoint takes requests (from its stack's outputs)."""

    endpoint_name: str
    input_path: str
    invocation_timeout_seconds: int = DEFAULT_INVOCATION_TIMEOUT_SECONDS


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


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ``("bucket", "some/key")``."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"expected an s3://bucket/key URI, got {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


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
    input_location = f"s3://{bucket}/{key}"
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


def _read(s3: Any, location: str) -> bytes | None:
    bucket, key = split_s3_uri(location)
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _NOT_THERE_YET:
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
            body = _read(s3, location)
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
