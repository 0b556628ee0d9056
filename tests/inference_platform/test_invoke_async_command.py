"""``python -m inference_platform invoke-async`` against moto (in-process ``mock_aws``).

What moto 5.2.5 does with ``InvokeEndpointAsync`` (moto/sagemakerruntime/models.py): it needs
no endpoint and never reads the input; it takes the next queued result (configured through
its ``/moto-api/static/sagemaker/async-endpoint-results`` API; a default JSON body if none),
writes it *at once* to a fresh bucket ``sagemaker-output-<uuid>`` as ``response.json`` (or
``failure.json`` for a queued failure), and returns both keys as ``OutputLocation`` and
``FailureLocation``. So these tests cover the client's real path: upload to the input prefix
(read back from moto's S3), the invoke call with that location (moto records it), and polling
the two returned locations. Real SageMaker writes later; the timeout test removes moto's
object to reproduce a request that has not finished.
"""

from __future__ import annotations

import json
import re

import boto3
import pytest
import requests
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemakerruntime.models import SageMakerRuntimeBackend, sagemakerruntime_backends

from inference_core.s3 import split_s3_uri
from inference_platform.__main__ import main

REGION = "eu-west-1"
ASYNC_BUCKET = "dev-async-bucket"
MODEL_OUTPUTS = {
    "AsyncEndpointName": "dev-iris-async",
    "AsyncInputPath": f"s3://{ASYNC_BUCKET}/dev/iris/input/",
    "AsyncOutputPath": f"s3://{ASYNC_BUCKET}/dev/iris/output/",
    "AsyncFailurePath": f"s3://{ASYNC_BUCKET}/dev/iris/failure/",
    "AsyncInvocationTimeoutSeconds": "1200",
}
FAST = ["--timeout", "5", "--poll-interval", "0.05"]


def _stack(client, name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    client.create_stack(StackName=name, TemplateBody=json.dumps(template), Tags=[{"Key": "model", "Value": "iris"}])


def queue_results(*results: dict) -> None:
    """Tell moto what the next InvokeEndpointAsync calls produce (its documented API)."""
    response = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/async-endpoint-results",
        json={"account_id": DEFAULT_ACCOUNT_ID, "region": REGION, "results": list(results)},
        timeout=5,
    )
    assert response.status_code == 201


@pytest.fixture
def deployed(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        _stack(cloudformation, "Dev-ModelIris", MODEL_OUTPUTS)
        _stack(cloudformation, "Staging-ModelIris", {"RealtimeEndpointName": "staging-iris-realtime"})
        boto3.client("s3").create_bucket(Bucket=ASYNC_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        data = tmp_path / "data.csv"
        data.write_text("5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
        yield data


def invoked_input_locations() -> list[str]:
    return list(sagemakerruntime_backends[DEFAULT_ACCOUNT_ID][REGION].async_results["dev-iris-async"])


def test_result_is_printed_after_the_input_is_uploaded_under_the_input_prefix(deployed, capsys):
    queue_results({"data": "0\n2\n"})
    assert main(["invoke-async", "--env", "dev", "--model", "iris", "--input", str(deployed), *FAST]) == 0
    captured = capsys.readouterr()
    assert captured.out == "0\n2\n"
    assert "queued" in captured.err and "dev-iris-async" in captured.err

    # The payload went to the async bucket under this model's input prefix, as text/csv...
    (location,) = invoked_input_locations()
    assert location.startswith(f"s3://{ASYNC_BUCKET}/dev/iris/input/") and location.endswith("/data.csv")
    key = location.removeprefix(f"s3://{ASYNC_BUCKET}/")
    stored = boto3.client("s3").get_object(Bucket=ASYNC_BUCKET, Key=key)
    assert stored["Body"].read() == deployed.read_bytes()
    assert stored["ContentType"] == "text/csv"


def test_result_can_be_saved_to_a_file(deployed, tmp_path, capsys):
    queue_results({"data": json.dumps({"predictions": [0, 2]})})
    target = tmp_path / "result.json"
    code = main(["invoke-async", "--env", "dev", "--model", "iris", "--input", str(deployed), "--output", str(target)])
    assert code == 0
    assert json.loads(target.read_text()) == {"predictions": [0, 2]}
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"result saved to {target}" in captured.err


def test_failure_object_exits_non_zero_with_the_error(deployed, capsys):
    queue_results({"is_failure": True, "data": "ModelError: received client error (400): bad row 3"})
    assert main(["invoke-async", "--env", "dev", "--model", "iris", "--input", str(deployed), *FAST]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "failed; SageMaker wrote s3://sagemaker-output-" in captured.err
    assert "failure.json" in captured.err
    assert "ModelError: received client error (400): bad row 3" in captured.err


def test_no_result_within_the_timeout_exits_non_zero_with_progress(deployed, monkeypatch, capsys):
    original = SageMakerRuntimeBackend.invoke_endpoint_async

    def still_running(self, endpoint_name, input_location):
        # moto writes the result during the call; remove it, as if the endpoint were still busy.
        output_location, failure_location = original(self, endpoint_name, input_location)
        s3 = boto3.client("s3")
        for location in (output_location, failure_location):
            bucket, key = split_s3_uri(location)
            s3.delete_object(Bucket=bucket, Key=key)
        return output_location, failure_location

    monkeypatch.setattr(SageMakerRuntimeBackend, "invoke_endpoint_async", still_running)
    slow = ["--timeout", "0.3", "--poll-interval", "0.1"]
    code = main(["invoke-async", "--env", "dev", "--model", "iris", "--input", str(deployed), *slow])
    assert code == 3
    err = capsys.readouterr().err
    assert "still waiting" in err
    # The elapsed time is rounded, and a loaded machine may take longer than the timeout to notice.
    assert re.search(r"error: timed out: no result after \d+ s", err)
    assert "response.json" in err and "may still be queued or running" in err


def test_model_without_async_endpoint_is_a_clear_error(deployed, capsys):
    assert main(["invoke-async", "--env", "staging", "--model", "iris", "--input", str(deployed)]) == 2
    assert "stack Staging-ModelIris has no output AsyncEndpointName" in capsys.readouterr().err


def test_undeployed_model_is_a_clear_error(deployed, capsys):
    assert main(["invoke-async", "--env", "dev", "--model", "fraud", "--input", str(deployed)]) == 2
    assert "stack Dev-ModelFraud is not deployed" in capsys.readouterr().err


def test_missing_input_file_is_refused_before_any_call(deployed, tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["invoke-async", "--env", "dev", "--model", "iris", "--input", str(missing)]) == 2
    assert f"input file {missing} not found" in capsys.readouterr().err
    assert "dev-iris-async" not in sagemakerruntime_backends[DEFAULT_ACCOUNT_ID][REGION].async_results


def test_bad_timeout_is_a_usage_error(deployed, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["invoke-async", "--env", "dev", "--model", "iris", "--input", str(deployed), "--timeout", "-1"])
    assert raised.value.code == 2
    assert "must be a positive number of seconds" in capsys.readouterr().err
