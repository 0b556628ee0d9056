"""``python -m inference_platform outputs`` against moto's CloudFormation."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from inference_platform.__main__ import main


def _stack(client, name: str, outputs: dict[str, str], tags: dict[str, str]) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    client.create_stack(
        StackName=name, TemplateBody=json.dumps(template), Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )


@pytest.fixture
def deployed(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("cloudformation")
        _stack(client, "Dev-Platform", {"AsyncBucketName": "async-bucket"}, {"environment": "dev"})
        _stack(client, "Dev-ModelIris", {"RealtimeEndpointName": "dev-iris-realtime"}, {"model": "iris"})
        _stack(client, "Prod-ModelIris", {"RealtimeEndpointName": "prod-iris-realtime"}, {"model": "iris"})
        yield


def test_outputs_lists_platform_and_every_model_of_the_environment(deployed, capsys):
    assert main(["outputs", "--env", "dev"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "platform": {"AsyncBucketName": "async-bucket"},
        "models": {"iris": {"RealtimeEndpointName": "dev-iris-realtime"}},
    }


def test_undeployed_environment_is_a_clear_error(deployed, capsys):
    assert main(["outputs", "--env", "staging"]) == 2
    assert "stack Staging-Platform is not deployed" in capsys.readouterr().err
