"""``python -m inference_platform smoke`` against moto.

moto answers InvokeEndpoint with bodies queued through its ``/moto-api/static/sagemaker/``
API, writes async results to an output object of its own, and (with
``execute_state_machine``) really runs a state machine's states, including ``aws-sdk`` tasks,
so a stand-in batch state machine can write the output a transform job would.

moto 5.2.5 files canned InvokeEndpoint answers under the request's content and headers, not
under the endpoint name (its handler reads EndpointName from the parameters, where it is
not), so real-time and serverless checks, which send the same sample, get the same answer.
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
import requests
from moto import mock_aws

from inference_platform.__main__ import main
from inference_platform.deployed import DeployedEnvironment
from inference_platform.smoke import SAMPLE_ROWS, CheckFailed, Outcome, SmokeTests, check_labels, report

REGION = "eu-west-1"
MOTO_API = "http://motoapi.amazonaws.com/moto-api/static/sagemaker"
LABELS = "setosa\nvirginica\nversicolor\n"  # one per sample row
ROLE = "arn:aws:iam::123456789012:role/batch"

# Stands in for the batch transform state machine: writes <output_uri>records.csv.out as the
# transform job would, from the execution input the smoke test sends.
WRITES_OUTPUT = {
    "StartAt": "Split",
    "States": {
        "Split": {
            "Type": "Pass",
            "Parameters": {"parts.$": "States.StringSplit($.output_uri, '/')"},
            "Next": "Transform",
        },
        "Transform": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
            "Parameters": {
                "Bucket.$": "$.parts[1]",
                "Key.$": "States.Format('{}/{}/{}/{}/records.csv.out', $.parts[2], $.parts[3], $.parts[4], $.parts[5])",
                "Body": LABELS,
            },
            "End": True,
        },
    },
}
FAILS = {
    "StartAt": "Fail",
    "States": {"Fail": {"Type": "Fail", "Error": "TransformJobFailed", "Cause": "ClientError: bad input row"}},
}
WRITES_NOTHING = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
NEVER_ENDS = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}}


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3")
        for bucket in ("async-bucket", "batch-bucket"):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield


def deploy_model(name: str, outputs: dict[str, str], environment: str = "Dev") -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(
        StackName=f"{environment}-Model{name.capitalize()}",
        TemplateBody=json.dumps(template),
        Tags=[{"Key": "model", "Value": name}],
    )


def state_machine(definition: dict) -> str:
    client = boto3.client("stepfunctions")
    name = f"batch-{len(client.list_state_machines()['stateMachines'])}"
    return client.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


def queue_endpoint_answers(*answers: tuple[str, str]) -> None:
    """Bodies moto returns to the next InvokeEndpoint calls, in order."""
    results = [{"Body": body, "ContentType": content_type} for body, content_type in answers]
    requests.post(f"{MOTO_API}/endpoint-results", json={"region": REGION, "results": results}, timeout=5)


def queue_async_answer(data: str, *, failure: bool = False) -> None:
    payload = {"region": REGION, "results": [{"data": data, "is_failure": failure}]}
    requests.post(f"{MOTO_API}/async-endpoint-results", json=payload, timeout=5)


def batch_only(batch_arn: str) -> dict[str, str]:
    return {key: value for key, value in all_modes(batch_arn).items() if key.startswith("Batch")}


def all_modes(batch_arn: str) -> dict[str, str]:
    return {
        "RealtimeEndpointName": "dev-iris-realtime",
        "ServerlessEndpointName": "dev-iris-serverless",
        "AsyncEndpointName": "dev-iris-async",
        "AsyncInputPath": "s3://async-bucket/iris/input/",
        "AsyncOutputPath": "s3://async-bucket/iris/output/",
        "AsyncFailurePath": "s3://async-bucket/iris/failure/",
        "BatchStateMachineArn": batch_arn,
        "BatchInputPath": "s3://batch-bucket/iris/input/",
        "BatchOutputPath": "s3://batch-bucket/iris/output/",
    }


def smoke(*extra: str) -> int:
    return main(["smoke", "--env", "dev", "--poll-interval", "0.05", "--timeout", "10", *extra])


def report_lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


# --- passing ---------------------------------------------------------------------------


def test_every_deployed_mode_passes(aws, capsys):
    deploy_model("iris", all_modes(state_machine(WRITES_OUTPUT)))
    queue_endpoint_answers((LABELS, "text/csv"))  # for real-time and serverless alike (see above)
    queue_async_answer(LABELS)

    assert smoke() == 0
    lines = report_lines(capsys)
    assert lines[0].startswith("smoke tests of environment dev (run ")
    assert [line.split()[:3] for line in lines[1:5]] == [
        ["PASS", "iris", "realtime"],
        ["PASS", "iris", "serverless"],
        ["PASS", "iris", "async"],
        ["PASS", "iris", "batch"],
    ]
    assert "dev-iris-realtime answered 3 labels for 3 rows (setosa, virginica, versicolor)" in lines[1]
    assert "dev-iris-serverless answered 3 labels" in lines[2]
    assert lines[-1] == "5 checks: 4 passed, 0 failed, 1 skipped"


def test_async_and_batch_inputs_go_under_the_stacks_prefixes(aws):
    deploy_model("iris", all_modes(state_machine(WRITES_OUTPUT)))
    queue_endpoint_answers((LABELS, "text/csv"))
    queue_async_answer(LABELS)
    tests = SmokeTests(DeployedEnvironment.connect("dev"), poll_interval=0.05, timeout=10, run_id="run-1")
    outcomes = {result.mode: result.outcome for result in tests.run(["iris"])}
    assert outcomes.pop("component") is Outcome.SKIPPED  # not deployed here
    assert set(outcomes.values()) == {Outcome.PASSED}

    s3 = boto3.client("s3")
    sample = ("\n".join(SAMPLE_ROWS) + "\n").encode()
    assert s3.get_object(Bucket="async-bucket", Key="iris/input/smoke/run-1.csv")["Body"].read() == sample
    assert (
        s3.get_object(Bucket="batch-bucket", Key="iris/input/run-batch/smoke-run-1/records.csv")["Body"].read()
        == sample
    )
    sfn = boto3.client("stepfunctions")
    execution = sfn.list_executions(stateMachineArn=_only_machine())
    described = sfn.describe_execution(executionArn=execution["executions"][0]["executionArn"])
    assert described["name"] == "smoke-run-1"
    assert json.loads(described["input"]) == {
        "input_uri": "s3://batch-bucket/iris/input/run-batch/smoke-run-1/",
        "output_uri": "s3://batch-bucket/iris/output/smoke/run-1/",
    }


def _only_machine() -> str:
    (machine,) = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    return machine["stateMachineArn"]


# --- failing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("setosa\n", "text/csv", "expected one label per row (3 lines), got 1 line(s)"),
        ("setosa\nvirginica\nversicolor\nsetosa\n", "text/csv", "expected one label per row (3 lines), got 4"),
        ("setosa\n \nversicolor\n", "text/csv", "line(s) [2] of the answer are empty"),
        (
            '{"predictions": ["setosa", "virginica", "versicolor"]}',
            "application/json",
            "answered in 'application/json'",
        ),
    ],
)
def test_a_wrongly_shaped_answer_fails_with_a_clear_report(aws, capsys, body, content_type, message):
    deploy_model("iris", {"RealtimeEndpointName": "dev-iris-realtime"})
    queue_endpoint_answers((body, content_type))

    assert smoke() == 1
    lines = report_lines(capsys)
    assert lines[1].startswith("FAIL  iris  realtime    dev-iris-realtime")
    assert message in lines[1]
    assert lines[-1] == "5 checks: 0 passed, 1 failed, 4 skipped"


def test_one_failing_mode_does_not_stop_the_others(aws, capsys):
    deploy_model("iris", all_modes(state_machine(FAILS)))
    queue_endpoint_answers((LABELS, "text/csv"))
    queue_async_answer("model crashed: ValueError", failure=True)

    assert smoke() == 1
    lines = report_lines(capsys)
    assert [line.split()[0] for line in lines[1:5]] == ["PASS", "PASS", "FAIL", "FAIL"]
    assert "dev-iris-async failed the request: s3://" in lines[3]
    assert "model crashed: ValueError" in lines[3]
    assert "ended FAILED (TransformJobFailed: ClientError: bad input row)" in lines[4]
    assert lines[-1] == "5 checks: 2 passed, 2 failed, 1 skipped"


def test_a_batch_run_that_writes_no_output_fails(aws, capsys):
    deploy_model("iris", batch_only(state_machine(WRITES_NOTHING)))
    assert smoke() == 1
    assert "batch execution succeeded but s3://batch-bucket/iris/output/smoke/" in capsys.readouterr().out


def test_a_batch_run_past_the_timeout_is_stopped_and_fails(aws, capsys):
    arn = state_machine(NEVER_ENDS)
    deploy_model("iris", batch_only(arn))
    assert main(["smoke", "--env", "dev", "--poll-interval", "0.05", "--timeout", "0.3"]) == 1
    assert "did not finish within 0.3 s; stopped it" in capsys.readouterr().out
    sfn = boto3.client("stepfunctions")
    (execution,) = sfn.list_executions(stateMachineArn=arn)["executions"]
    # moto's executions stop in a worker thread: give it a moment (bounded) to record it.
    for _ in range(100):
        status = sfn.describe_execution(executionArn=execution["executionArn"])["status"]
        if status != "RUNNING":
            break
        time.sleep(0.05)
    assert status == "ABORTED"


def test_a_mode_with_incomplete_outputs_fails(aws, capsys):
    deploy_model("iris", {"AsyncEndpointName": "dev-iris-async", "AsyncInputPath": "s3://async-bucket/in/"})
    assert smoke() == 1
    assert "FAIL  iris  async       the stack has AsyncEndpointName but lacks AsyncOutputPath, AsyncFailurePath" in (
        capsys.readouterr().out
    )


# --- skipped and not deployed ----------------------------------------------------------


def test_modes_without_outputs_are_skipped(aws, capsys):
    deploy_model("iris", {"RealtimeEndpointName": "dev-iris-realtime"})
    queue_endpoint_answers((LABELS, "text/csv"))

    assert smoke() == 0
    lines = report_lines(capsys)
    assert lines[2] == "SKIP  iris  serverless  no ServerlessEndpointName output: serverless is not deployed"
    assert lines[3] == "SKIP  iris  async       no AsyncEndpointName output: async is not deployed"
    assert lines[4] == "SKIP  iris  batch       no BatchStateMachineArn output: batch is not deployed"
    assert lines[-1] == "5 checks: 1 passed, 0 failed, 4 skipped"


def test_a_run_that_checks_nothing_fails(aws, capsys):
    deploy_model("iris", {"SomethingElse": "x"})
    assert smoke() == 1
    out = capsys.readouterr().out
    assert "5 checks: 0 passed, 0 failed, 5 skipped" in out
    assert "nothing was checked" in out


def test_every_model_is_checked_unless_one_is_named(aws, capsys):
    deploy_model("iris", {"RealtimeEndpointName": "dev-iris-realtime"})
    deploy_model("fraud", {"ServerlessEndpointName": "dev-fraud-serverless"})
    queue_endpoint_answers((LABELS, "text/csv"))
    assert smoke() == 0
    lines = report_lines(capsys)
    assert lines[-1] == "10 checks: 2 passed, 0 failed, 8 skipped"
    assert any(line.startswith("PASS  fraud  serverless") for line in lines)

    assert smoke("--model", "iris") == 0
    assert report_lines(capsys)[-1] == "5 checks: 1 passed, 0 failed, 4 skipped"


def test_an_environment_without_model_stacks_is_a_clear_error(aws, capsys):
    assert smoke() == 2
    assert "no model stacks are deployed in environment dev" in capsys.readouterr().err
    assert smoke("--model", "iris") == 2


def test_a_sample_file_of_our_own(aws, capsys, tmp_path):
    sample = tmp_path / "records.csv"
    sample.write_text("1,2,3,4,5\n\n6,7,8,9,10\n")  # blank lines are not records
    deploy_model("fraud", {"RealtimeEndpointName": "dev-fraud-realtime"})
    queue_endpoint_answers(("legit\nfraud\n", "text/csv"))
    assert smoke("--sample", str(sample)) == 0
    assert "dev-fraud-realtime answered 2 labels for 2 rows (legit, fraud)" in capsys.readouterr().out


def test_an_empty_sample_file_is_refused(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("\n")
    with pytest.raises(SystemExit):
        main(["smoke", "--env", "dev", "--sample", str(tmp_path / "empty.csv")])
    assert "holds no records" in capsys.readouterr().err


def test_timeouts_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        main(["smoke", "--env", "dev", "--timeout", "0"])
    assert "must be a positive number of seconds" in capsys.readouterr().err


# --- the shape check and the report on their own ---------------------------------------


def test_check_labels_accepts_one_label_per_row_with_or_without_a_final_newline():
    assert check_labels(b"a\nb\n", 2, "x") == ["a", "b"]
    assert check_labels(b"a\r\nb", 2, "x") == ["a", "b"]
    with pytest.raises(CheckFailed, match="not UTF-8"):
        check_labels(b"\xff\xfe", 1, "x")


def test_report_passes_only_without_failures_and_with_something_checked():
    from inference_platform.smoke import CheckResult

    passed = CheckResult("iris", "realtime", Outcome.PASSED, "ok", 0.25)
    failed = CheckResult("iris", "batch", Outcome.FAILED, "broken", 1.0)
    skipped = CheckResult("iris", "async", Outcome.SKIPPED, "absent")
    text, ok = report("dev", "r1", [passed, skipped])
    assert ok
    assert "PASS  iris  realtime    ok (0.2 s)" in text
    assert "SKIP  iris  async       absent" in text and "absent (" not in text
    assert report("dev", "r1", [passed, failed])[1] is False
    assert report("dev", "r1", [skipped])[1] is False


def test_a_component_is_invoked_on_its_shared_endpoint_by_name(aws, capsys):
    deploy_model(
        "iris",
        {"InferenceComponentName": "dev-iris-component", "InferenceComponentEndpointName": "dev-inference-components"},
    )
    queue_endpoint_answers((LABELS, "text/csv"))
    sent: list[dict] = []

    def record(params, **_kwargs):  # botocore's before-call hook: the request as the client sends it
        sent.append(params)

    tests = SmokeTests(DeployedEnvironment.connect("dev"), poll_interval=0.05, timeout=10, run_id="run-1")
    tests.runtime.meta.events.register("provide-client-params.sagemaker-runtime.InvokeEndpoint", record)
    (component,) = [result for result in tests.run(["iris"]) if result.mode == "component"]
    assert component.outcome is Outcome.PASSED, component
    assert "dev-inference-components (dev-iris-component) answered 3 labels" in component.detail
    ((request,),) = [sent]
    assert (request["EndpointName"], request["InferenceComponentName"]) == (
        "dev-inference-components",
        "dev-iris-component",
    )


def test_a_component_without_its_endpoint_output_fails(aws, capsys):
    deploy_model("iris", {"InferenceComponentName": "dev-iris-component"})
    assert smoke() == 1
    (line,) = [line for line in report_lines(capsys) if " component " in line]
    assert line.startswith("FAIL") and "lacks InferenceComponentEndpointName" in line


def test_a_multi_model_endpoint_is_asked_for_its_target_model(aws):
    deploy_model("tenants", {"RealtimeEndpointName": "dev-tenants-realtime"})
    deploy_model("iris", {"RealtimeEndpointName": "dev-iris-realtime"})
    queue_endpoint_answers((LABELS, "text/csv"), (LABELS, "text/csv"))
    tests = SmokeTests(DeployedEnvironment.connect("dev"), target_models={"tenants": "tenant-a/model.tar.gz"})
    sent: dict[str, str | None] = {}

    def capture(params: dict, **_: object) -> None:
        sent[params["EndpointName"]] = params.get("TargetModel")

    tests.runtime.meta.events.register("provide-client-params.sagemaker-runtime.InvokeEndpoint", capture)
    assert all(result.outcome is not Outcome.FAILED for result in tests.run(["tenants", "iris"]))
    # Only the multi-model endpoint's model names a target; the other endpoint is invoked as before.
    assert sent == {"dev-tenants-realtime": "tenant-a/model.tar.gz", "dev-iris-realtime": None}


@pytest.mark.parametrize("value", ["tenants", "=tenant-a/model.tar.gz", "tenants="])
def test_a_target_model_is_model_equals_target(value, capsys):
    with pytest.raises(SystemExit):
        smoke("--target-model", value)
    assert "expected MODEL=TARGET, e.g. tenants=tenant-a/model.tar.gz" in capsys.readouterr().err
