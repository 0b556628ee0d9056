"""The reusable async client: upload and invoke, then poll with a timeout (S3 from moto)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from inference_platform.async_client import (
    AsyncInferenceTimeout,
    AsyncTarget,
    Submission,
    default_timeout,
    guess_content_type,
    submit,
    wait_for_result,
)

BUCKET = "async-bucket"


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


class RecordingRuntime:
    """Stands in for sagemaker-runtime to show exactly what the client sends."""

    def __init__(self) -> None:
        self.requests: list[dict] = []

    def invoke_endpoint_async(self, **request):
        self.requests.append(request)
        return {
            "InferenceId": request["InferenceId"],
            "OutputLocation": f"s3://{BUCKET}/dev/iris/output/{request['InferenceId']}.out",
            "FailureLocation": f"s3://{BUCKET}/dev/iris/failure/{request['InferenceId']}-error.out",
        }


class FakeClock:
    """Time that moves only when the client sleeps; ``on_sleep`` lets a test act meanwhile."""

    def __init__(self, on_sleep=None) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(len(self.sleeps))


def submission(inference_id: str = "abc") -> Submission:
    return Submission(
        inference_id=inference_id,
        input_location=f"s3://{BUCKET}/dev/iris/input/{inference_id}/data.csv",
        output_location=f"s3://{BUCKET}/dev/iris/output/{inference_id}.out",
        failure_location=f"s3://{BUCKET}/dev/iris/failure/{inference_id}-error.out",
    )


def test_submit_uploads_under_the_input_prefix_and_sends_the_endpoints_timeout(s3, tmp_path):
    payload = tmp_path / "rows.json"
    payload.write_text('{"instances": [[5.1, 3.5, 1.4, 0.2]]}')
    runtime = RecordingRuntime()
    target = AsyncTarget("dev-iris-async", f"s3://{BUCKET}/dev/iris/input/", invocation_timeout_seconds=1800)

    result = submit(s3, runtime, target, payload, content_type="application/json", accept="text/csv", inference_id="r1")

    assert runtime.requests == [
        {
            "EndpointName": "dev-iris-async",
            "InputLocation": f"s3://{BUCKET}/dev/iris/input/r1/rows.json",
            "ContentType": "application/json",
            "Accept": "text/csv",
            "InferenceId": "r1",
            "InvocationTimeoutSeconds": 1800,
        }
    ]
    stored = s3.get_object(Bucket=BUCKET, Key="dev/iris/input/r1/rows.json")
    assert stored["Body"].read() == payload.read_bytes()
    assert result.output_location.endswith("/dev/iris/output/r1.out")
    assert result.failure_location.endswith("/dev/iris/failure/r1-error.out")


def test_each_submission_gets_its_own_inference_id_and_input_key(s3, tmp_path):
    payload = tmp_path / "data.csv"
    payload.write_text("1,2,3,4\n")
    runtime = RecordingRuntime()
    target = AsyncTarget("dev-iris-async", f"s3://{BUCKET}/dev/iris/input/")
    first = submit(s3, runtime, target, payload, content_type="text/csv")
    second = submit(s3, runtime, target, payload, content_type="text/csv")
    assert first.inference_id != second.inference_id
    assert first.input_location != second.input_location
    assert "Accept" not in runtime.requests[0]
    assert runtime.requests[0]["InvocationTimeoutSeconds"] == 900  # SageMaker's default


def test_waits_until_the_result_is_written_and_reports_progress(s3):
    def sagemaker_writes_on_third_wait(count: int) -> None:
        if count == 3:
            s3.put_object(Bucket=BUCKET, Key="dev/iris/output/abc.out", Body=b"1\n")

    clock = FakeClock(on_sleep=sagemaker_writes_on_third_wait)
    seen: list[float] = []
    result = wait_for_result(
        s3, submission(), timeout=60, poll_interval=5, progress=seen.append, clock=clock, sleep=clock.sleep
    )
    assert result.succeeded and result.body == b"1\n"
    assert result.location == f"s3://{BUCKET}/dev/iris/output/abc.out"
    assert clock.sleeps == [5, 5, 5]
    assert seen == [0, 5, 10]


def test_a_failure_object_is_returned_as_a_failed_result(s3):
    s3.put_object(Bucket=BUCKET, Key="dev/iris/failure/abc-error.out", Body=b"ModelError: bad input")
    clock = FakeClock()
    result = wait_for_result(s3, submission(), timeout=60, clock=clock, sleep=clock.sleep)
    assert not result.succeeded
    assert result.body == b"ModelError: bad input"
    assert result.location.endswith("abc-error.out")
    assert clock.sleeps == []


def test_times_out_without_sleeping_past_the_deadline(s3):
    clock = FakeClock()
    with pytest.raises(AsyncInferenceTimeout, match=r"no result after 12 s: neither s3://async-bucket/dev/iris/output"):
        wait_for_result(s3, submission(), timeout=12, poll_interval=5, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [5, 5, 2]


def test_a_missing_bucket_is_an_error_not_a_wait(s3):
    broken = Submission("x", "s3://nowhere/in", "s3://no-such-bucket-here/out.out", None)
    clock = FakeClock()
    with pytest.raises(ClientError, match="NoSuchBucket"):
        wait_for_result(s3, broken, timeout=60, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == []


def test_access_denied_is_an_error_not_a_wait():
    # One rule for "not there yet" (inference_core.s3.ABSENT_OBJECT_ERRORS), shared with the smoke
    # tests: a 403 may be a KMS or bucket-policy denial, so it is raised, not waited out.
    class DeniedS3:
        def get_object(self, **_kwargs):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

    clock = FakeClock()
    with pytest.raises(ClientError, match="AccessDenied"):
        wait_for_result(DeniedS3(), submission(), timeout=60, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("data.csv", "text/csv"),
        ("rows.JSON", "application/json"),
        ("x.jsonl", "application/jsonlines"),
        ("blob.bin", "application/octet-stream"),
    ],
)
def test_content_type_follows_the_extension(name, expected):
    assert guess_content_type(Path(name)) == expected


def test_default_timeout_allows_for_waking_from_zero():
    assert default_timeout(AsyncTarget("e", "s3://b/p/", invocation_timeout_seconds=3600)) == 3600 + 600
