"""Topic subscribers: exactly one valid endpoint each, and what the topic makes of them."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template
from pydantic import ValidationError

from inference_constructs.encrypted_topic import EncryptedTopic
from inference_constructs.subscribers import Subscriber
from tests.inference_constructs.helpers import new_key, new_stack

FUNCTION = "arn:aws:lambda:eu-west-1:111111111111:function:page-oncall"


@pytest.mark.parametrize(
    ("given", "protocol"),
    [
        ({"email": "team@example.com"}, "email"),
        ({"https": "https://hooks.example.com/a"}, "https"),
        ({"sqs": "arn:aws:sqs:eu-west-1:111111111111:alerts"}, "sqs"),
        ({"lambda": FUNCTION}, "lambda"),
    ],
)
def test_each_protocol(given, protocol):
    subscriber = Subscriber.model_validate(given)
    assert (subscriber.protocol, subscriber.endpoint) == (protocol, next(iter(given.values())))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "give exactly one of email, https, sqs, lambda; got none"),
        ({"email": "a@b.c", "sqs": "arn:aws:sqs:eu-west-1:111111111111:q"}, "got email, sqs"),
        ({"email": "not-an-address"}, "email: expected an e-mail address"),
        ({"https": "http://plain.example.com"}, "https: expected an https:// URL"),
        ({"sqs": "arn:aws:sns:eu-west-1:111111111111:topic"}, "sqs: expected an SQS queue ARN"),
        ({"lambda": "page-oncall"}, "lambda: expected a Lambda function ARN"),
    ],
)
def test_bad_subscribers_are_refused(given, message):
    with pytest.raises(ValidationError, match=message):
        Subscriber.model_validate(given)


def test_topic_subscribes_each_and_lets_sns_invoke_a_function():
    stack = new_stack()
    topic = EncryptedTopic(
        stack,
        "Alarms",
        encryption_key=new_key(stack),
        display_name="alarms",
        subscribers=[Subscriber(email="team@example.com"), Subscriber.model_validate({"lambda": FUNCTION})],
    )
    topic.allow_cloudwatch_alarms()
    template = Template.from_stack(stack)
    protocols = {s["Properties"]["Protocol"] for s in template.find_resources("AWS::SNS::Subscription").values()}
    assert protocols == {"email", "lambda"}
    (permission,) = template.find_resources("AWS::Lambda::Permission").values()
    assert permission["Properties"]["Principal"] == "sns.amazonaws.com"
    assert permission["Properties"]["FunctionName"] == FUNCTION
    assert permission["Properties"]["SourceArn"] == {"Ref": stack.get_logical_id(topic.topic.node.default_child)}
