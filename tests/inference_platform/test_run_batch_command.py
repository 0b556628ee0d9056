"""``python -m inference_platform run-batch`` against moto, running the construct's own definition.

moto executes the state machine (``execute_state_machine``) but has no ``.sync`` integrations:
with the definition as deployed, the run ends at the transform job task with ``States.Runtime``;
the other tests swap that one resource for the request-response call (see tests/batch_emulator.py),
so the client's whole path runs: upload, start, progress, outcome, output listing, exit code.
"""

from __future__ import annotations

import hashlib
import json
import re
import time

import boto3
import pytest
from moto import mock_aws

from inference_platform.__main__ import main
from inference_platform.batch_client import new_run_name
from tests import batch_emulator as emulator

CSV = "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"


def _stack(client, name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    client.create_stack(StackName=name, TemplateBody=json.dumps(template), Tags=[{"Key": "model", "Value": "iris"}])


class Emulated:
    def __init__(self, session, definition: str) -> None:
        self.session = session
        self.definition = definition
        self.queue = emulator.create_environment(session)
        self.arn: str | None = None

    def deploy(self, *, request_response: bool = True) -> Emulated:
        self.arn = emulator.create_state_machine(
            self.session.client("stepfunctions"), self.definition, request_response=request_response
        )
        _stack(
            self.session.client("cloudformation"),
            "Dev-ModelIris",
            {
                "BatchStateMachineArn": self.arn,
                "BatchInputPath": emulator.INPUT_PATH,
                "BatchOutputPath": emulator.OUTPUT_PATH,
            },
        )
        return self

    def executions(self) -> list[dict]:
        return self.session.client("stepfunctions").list_executions(stateMachineArn=self.arn)["executions"]

    def wait_until_finished(self) -> dict:
        stepfunctions = self.session.client("stepfunctions")
        (execution,) = self.executions()
        deadline = time.monotonic() + 30
        while (described := stepfunctions.describe_execution(executionArn=execution["executionArn"]))[
            "status"
        ] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        return described

    def keys(self, prefix: str) -> list[str]:
        listed = self.session.client("s3").list_objects_v2(Bucket=emulator.BUCKET, Prefix=prefix)
        return [item["Key"] for item in listed.get("Contents", [])]


@pytest.fixture
def emulated(model_artifact, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", emulator.REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    definition = emulator.synthesized_definition(model_artifact)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield Emulated(boto3.Session(region_name=emulator.REGION), definition)


def run_batch(*arguments: str) -> int:
    return main(["run-batch", "--env", "dev", "--model", "iris", "--poll-interval", "0.05", *arguments])


def job_name_of(execution_arn: str) -> str:
    return "dev-iris-" + hashlib.md5(execution_arn.encode()).hexdigest()


def test_local_file_is_uploaded_run_followed_and_output_location_printed(emulated, tmp_path, capsys):
    emulated.deploy()
    data = tmp_path / "flowers.csv"
    data.write_text(CSV)

    assert run_batch("--input", str(data)) == 0

    (execution,) = emulated.executions()
    request = json.loads(emulated.wait_until_finished()["input"])
    run_folder = f"dev/iris/input/run-batch/{execution['name']}/"
    assert request == {"input_uri": f"s3://{emulator.BUCKET}/{run_folder}"}
    assert emulated.keys("dev/iris/input/") == [f"{run_folder}flowers.csv"]
    body = emulated.session.client("s3").get_object(Bucket=emulator.BUCKET, Key=f"{run_folder}flowers.csv")["Body"]
    assert body.read().decode() == CSV
    job_name = job_name_of(execution["executionArn"])
    out = capsys.readouterr().out
    assert f"uploading {data} to s3://{emulator.BUCKET}/{run_folder}flowers.csv" in out
    assert f"started {execution['executionArn']}" in out
    for state in ("NameJob", "CheckLocations", "RunTransformJob", "NotifySuccess"):
        assert re.search(rf"\]\s+state {state}$", out, re.MULTILINE), state
    assert f"transform job {job_name} requested" in out
    assert f"transform job {job_name}: Completed" in out
    assert f"succeeded: transform job {job_name}\noutput: {emulator.OUTPUT_PATH}{job_name}/\n" in out
    ((subject, message),) = emulator.published(emulated.session, emulated.queue)
    assert subject == f"Batch transform {job_name} succeeded" and message["input_uri"] == request["input_uri"]


def test_output_prefix_is_passed_on_and_its_objects_listed(emulated, capsys):
    emulated.deploy()
    s3 = emulated.session.client("s3")
    s3.put_object(Bucket=emulator.BUCKET, Key="dev/iris/input/2024-01-31/data.csv", Body=CSV.encode())
    # Stands in for the job's output (moto's transform jobs write nothing).
    s3.put_object(Bucket=emulator.BUCKET, Key="dev/iris/output/nightly/data.csv.out", Body=b"setosa\nvirginica\n")

    code = run_batch(
        "--input", f"{emulator.INPUT_PATH}2024-01-31/", "--output-prefix", f"{emulator.OUTPUT_PATH}nightly"
    )

    assert code == 0
    request = json.loads(emulated.wait_until_finished()["input"])
    assert request == {
        "input_uri": f"{emulator.INPUT_PATH}2024-01-31/",
        "output_uri": f"{emulator.OUTPUT_PATH}nightly/",
    }
    assert emulated.keys("dev/iris/input/") == ["dev/iris/input/2024-01-31/data.csv"]  # nothing uploaded
    out = capsys.readouterr().out
    assert f"output: {emulator.OUTPUT_PATH}nightly/\n  {emulator.OUTPUT_PATH}nightly/data.csv.out\n" in out


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ["--input", "s3://somebody-elses-bucket/data.csv"],
            f"--input 's3://somebody-elses-bucket/data.csv' must lie under {emulator.INPUT_PATH}",
        ),
        (["--input", "no-such-file.csv"], "--input 'no-such-file.csv' is neither an s3:// URI nor an existing file"),
        (["--input", "s3://"], "'s3://' is not an s3://bucket/key URI"),
        (
            ["--input", f"{emulator.INPUT_PATH}a.csv", "--output-prefix", "s3://batch-bucket/prod/iris/output/"],
            f"--output-prefix 's3://batch-bucket/prod/iris/output/' must lie under {emulator.OUTPUT_PATH}",
        ),
    ],
)
def test_bad_locations_are_refused_before_anything_starts(emulated, capsys, arguments, expected):
    emulated.deploy()
    assert run_batch(*arguments) == 2
    assert f"error: {expected}" in capsys.readouterr().err
    assert emulated.executions() == []
    assert emulated.keys("") == []


def test_a_job_sagemaker_refuses_exits_1_with_the_reason(emulated, monkeypatch, tmp_path, capsys):
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import SageMakerModelBackend

    def refuse(*args, **kwargs):
        raise ValidationError(message="Could not find model iris-model")

    monkeypatch.setattr(SageMakerModelBackend, "create_transform_job", refuse)
    emulated.deploy()
    data = tmp_path / "flowers.csv"
    data.write_text(CSV)

    assert run_batch("--input", str(data)) == 1

    err = capsys.readouterr().err
    (execution,) = emulated.executions()
    assert f"failed: {execution['executionArn']}" in err
    assert "BatchTransformFailed: States.Runtime: An error occurred (ValidationException)" in err
    assert "Could not find model iris-model" in err
    ((subject, _),) = emulator.published(emulated.session, emulated.queue)
    assert subject == f"Batch transform {job_name_of(execution['executionArn'])} failed"


def test_the_deployed_definition_stops_at_the_sync_task_in_moto(emulated, tmp_path, capsys):
    # moto 5.2.5 has no .sync integrations: the real definition runs up to the transform job
    # task and fails there with States.Runtime, which no Catch may handle. The client reports it.
    emulated.deploy(request_response=False)
    data = tmp_path / "flowers.csv"
    data.write_text(CSV)

    assert run_batch("--input", str(data)) == 1

    captured = capsys.readouterr()
    assert "state CheckLocations" in captured.out  # naming and location checks ran as written
    assert "States.Runtime: RuntimeError(Unsupported sync callback procedure in resource" in captured.err
    assert emulator.published(emulated.session, emulated.queue) == []


def test_timeout_leaves_the_run_going_and_exits_3(emulated, monkeypatch, tmp_path, capsys):
    from moto.sagemaker.models import SageMakerModelBackend

    create = SageMakerModelBackend.create_transform_job

    def slow(*args, **kwargs):
        time.sleep(1.0)  # the job request is still in flight when the client gives up
        return create(*args, **kwargs)

    monkeypatch.setattr(SageMakerModelBackend, "create_transform_job", slow)
    emulated.deploy()
    data = tmp_path / "flowers.csv"
    data.write_text(CSV)

    assert run_batch("--input", str(data), "--timeout", "0.2") == 3

    assert "still running after --timeout; the run goes on: arn:aws:states:" in capsys.readouterr().err
    assert emulated.wait_until_finished()["status"] == "SUCCEEDED"  # it went on without the client


def test_model_without_batch_outputs_is_a_clear_error(emulated, capsys):
    _stack(emulated.session.client("cloudformation"), "Dev-ModelIris", {"RealtimeEndpointName": "dev-iris-realtime"})
    assert run_batch("--input", "x.csv") == 2
    assert "stack Dev-ModelIris has no output BatchStateMachineArn" in capsys.readouterr().err


def test_run_names_are_valid_execution_names_and_unique():
    names = {new_run_name() for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert re.fullmatch(r"run-\d{8}T\d{6}Z-[0-9a-f]{6}", name) and len(name) <= 80
