"""The pipeline's smoke-test role may make every AWS call the smoke tests really make.

The smoke tests run against moto here, which checks no IAM at all; on AWS a call the role does
not allow fails the pipeline stage. So the calls are recorded as the smoke tests make them,
on every path (passing modes, and a batch run past its timeout, which is stopped), and each
one's IAM action must be granted by ``smoke_test_statements``.
"""

from __future__ import annotations

import aws_cdk as cdk
import boto3
import botocore.exceptions
import pytest
from botocore.client import BaseClient
from botocore.config import Config

from inference_core.iam import SMOKE_TESTS
from stacks.pipeline_stack import UNUSED_SMOKE_TEST_GRANTS, smoke_test_statements
from tests.inference_platform.test_smoke_command import (
    LABELS,
    NEVER_ENDS,
    WRITES_OUTPUT,
    all_modes,
    aws,  # noqa: F401 - the moto fixture
    deploy_model,
    queue_async_answer,
    queue_endpoint_answers,
    smoke,
    state_machine,
)

# IAM actions whose name is not the operation's (S3's reads and listings).
ACTION_OF_OPERATION = {("s3", "HeadObject"): "s3:GetObject", ("s3", "ListObjectsV2"): "s3:ListBucket"}


@pytest.fixture
def recorded_calls(monkeypatch) -> set[str]:
    """The IAM action of every AWS API call made while the fixture is active."""
    calls: set[str] = set()
    original = BaseClient._make_api_call

    def recording(client: BaseClient, operation: str, params: dict) -> object:
        prefix = client.meta.service_model.signing_name  # the IAM prefix: sagemaker-runtime signs as sagemaker
        calls.add(ACTION_OF_OPERATION.get((prefix, operation), f"{prefix}:{operation}"))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return calls


def granted_actions() -> set[str]:
    stack = cdk.Stack(cdk.App(), "Pipeline", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    statements = smoke_test_statements(stack, "dev", account="111111111111", region="eu-west-1")
    return {action for scoped in statements for action in scoped.statement.actions}


@pytest.mark.usefixtures("aws")
def test_every_call_of_a_passing_run_is_granted(recorded_calls):
    deploy_model("iris", all_modes(state_machine(WRITES_OUTPUT)))
    queue_endpoint_answers((LABELS, "text/csv"))
    queue_async_answer(LABELS)
    recorded_calls.clear()  # the set-up above is not the smoke tests' doing

    assert smoke() == 0
    assert {"sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync", "states:StartExecution"} <= recorded_calls
    assert recorded_calls - granted_actions() == set()
    # The core's list of what the smoke tests call is true, and the role grants exactly that list
    # plus the two grants kept from before the list existed.
    assert recorded_calls - SMOKE_TESTS.all() == set()
    assert granted_actions() == SMOKE_TESTS.all() | UNUSED_SMOKE_TEST_GRANTS.all()


@pytest.mark.usefixtures("aws")
def test_stopping_a_timed_out_batch_run_is_granted(recorded_calls):
    # Before this check the role could start executions but not stop them.
    deploy_model("iris", {key: value for key, value in all_modes(state_machine(NEVER_ENDS)).items() if "Batch" in key})
    recorded_calls.clear()

    smoke("--timeout", "0.3")
    assert "states:StopExecution" in recorded_calls
    assert recorded_calls - granted_actions() == set()
    assert recorded_calls - SMOKE_TESTS.all() == set()


def test_the_recording_sees_calls_the_role_does_not_grant(recorded_calls, monkeypatch):
    # The check above must be able to fail: a call outside the grants shows up in the difference.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    client = boto3.client(
        "sts",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"total_max_attempts": 1}),  # botocore would retry with back-off for 6 s
    )
    with pytest.raises(botocore.exceptions.EndpointConnectionError):  # nothing listens on port 9; recorded first
        client.get_caller_identity()
    assert recorded_calls - granted_actions() == {"sts:GetCallerIdentity"}
