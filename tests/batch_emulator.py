"""The batch transform state machine, synthesized by the real construct, in moto's Step Functions.

moto 5.2.5 executes state machine definitions when asked (``execute_state_machine``), calling
the emulated services, but it has no ``.sync`` integrations: a ``createTransformJob.sync``
task ends the execution with ``States.Runtime`` ("Unsupported .sync callback procedure").
``request_response=True`` swaps that one resource for the request-response
``createTransformJob`` (moto's transform jobs are ``Completed`` at once), so everything
around the job (naming, overrides, location checks, notifications, the client) runs as written.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from inference_constructs.batch_transform_job import BatchTransformJob
from tests.conftest import new_app
from tests.inference_constructs.helpers import new_model

ACCOUNT = "123456789012"
REGION = "eu-west-1"
BUCKET = "batch-bucket"
NOTIFICATIONS_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:dev-notifications"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MODEL_NAME = "iris-model"
STATE_MACHINE_NAME = "dev-iris-batch-transform"
INPUT_PATH = f"s3://{BUCKET}/dev/iris/input/"
OUTPUT_PATH = f"s3://{BUCKET}/dev/iris/output/"
SYNC_RESOURCE = "arn:aws:states:::sagemaker:createTransformJob.sync"


@cache
def synthesized_definition(artifact: Path) -> str:
    """The definition the construct writes for model ``iris`` in ``dev``, as deployed."""
    app = new_app()
    stack = cdk.Stack(app, "Emulated", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    job = BatchTransformJob(
        stack,
        "Batch",
        model=new_model(stack, key, artifact, name_prefix="dev-iris"),
        settings={"instance_type": "ml.m5.large", "accept": "text/csv"},
        bucket=s3.Bucket.from_bucket_name(stack, "Bucket", BUCKET),
        key_prefix="dev/iris",
        encryption_key=key,
        notifications_topic=sns.Topic.from_topic_arn(stack, "Notifications", NOTIFICATIONS_TOPIC),
        alarms_topic=sns.Topic.from_topic_arn(stack, "Alarms", f"arn:aws:sns:{REGION}:{ACCOUNT}:dev-alarms"),
    )
    assert job.state_machine_name == STATE_MACHINE_NAME
    template = Template.from_stack(stack).to_json()
    (machine,) = (r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    return _resolve(machine["Properties"]["DefinitionString"])


def _resolve(value: Any) -> str:
    """Fill in what CloudFormation would: the partition and the model's generated name."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolve(part) for part in parts)
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    if "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "ModelName":
        return MODEL_NAME
    raise AssertionError(f"unexpected reference in the definition: {json.dumps(value)}")


def create_state_machine(stepfunctions: Any, definition: str, *, request_response: bool) -> str:
    if request_response:
        assert SYNC_RESOURCE in definition
        definition = definition.replace(SYNC_RESOURCE, SYNC_RESOURCE.removesuffix(".sync"))
    response = stepfunctions.create_state_machine(
        name=STATE_MACHINE_NAME, definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/batch"
    )
    return str(response["stateMachineArn"])


def create_environment(session: Any) -> str:
    """The bucket and the notifications topic, with a queue subscribed to read what is published."""
    session.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    sns_client, sqs = session.client("sns"), session.client("sqs")
    sns_client.create_topic(Name=NOTIFICATIONS_TOPIC.rsplit(":", 1)[1])
    queue_url = sqs.create_queue(QueueName="notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns_client.subscribe(TopicArn=NOTIFICATIONS_TOPIC, Protocol="sqs", Endpoint=queue_arn)
    return str(queue_url)


def published(session: Any, queue_url: str) -> list[tuple[str, dict[str, Any]]]:
    """(subject, message) of every notification published so far."""
    messages = session.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    bodies = [json.loads(message["Body"]) for message in messages]
    return [(body.get("Subject"), json.loads(body["Message"])) for body in bodies]
