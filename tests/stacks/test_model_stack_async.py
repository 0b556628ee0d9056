"""The async endpoint as the model stacks compose it: outputs clients rely on, platform wiring."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import DEPLOYED_ENVIRONMENTS, resources_of_type

ASYNC_OUTPUTS = {
    "AsyncEndpointName",
    "AsyncInputPath",
    "AsyncOutputPath",
    "AsyncFailurePath",
    "AsyncSuccessTopicArn",
    "AsyncErrorTopicArn",
    "AsyncInvocationTimeoutSeconds",
}


@pytest.fixture(scope="module")
def prod_model(synthesized):
    return synthesized.template(synthesized.stages["prod"].model_stacks["iris"])


def test_every_environment_publishes_the_async_outputs(synthesized):
    for name in DEPLOYED_ENVIRONMENTS:
        outputs = synthesized.template(synthesized.stages[name].model_stacks["iris"])["Outputs"]
        assert ASYNC_OUTPUTS <= outputs.keys(), name
        assert outputs["AsyncEndpointName"]["Value"] == f"{name}-iris-async"


def test_paths_are_s3_uris_under_the_platform_async_bucket_per_environment_and_model(prod_model):
    outputs = prod_model["Outputs"]
    for key, folder in (("AsyncInputPath", "input"), ("AsyncOutputPath", "output"), ("AsyncFailurePath", "failure")):
        separator, parts = outputs[key]["Value"]["Fn::Join"]
        assert separator == "" and parts[0] == "s3://" and parts[2] == f"/prod/iris/{folder}/"
        assert "AsyncInferenceBucket" in parts[1]["Fn::ImportValue"]
    assert outputs["AsyncInvocationTimeoutSeconds"]["Value"] == "3600"


def test_topics_belong_to_the_model_stack(prod_model):
    outputs = prod_model["Outputs"]
    topics = resources_of_type(prod_model, "AWS::SNS::Topic")
    assert outputs["AsyncSuccessTopicArn"]["Value"]["Ref"] in topics
    assert outputs["AsyncErrorTopicArn"]["Value"]["Ref"] in topics


def test_alarms_go_to_the_platform_alarm_topic(prod_model):
    alarms = resources_of_type(prod_model, "AWS::CloudWatch::Alarm")
    async_alarms = [
        alarm
        for alarm in alarms.values()
        if {"Name": "EndpointName", "Value": "prod-iris-async"} in alarm["Properties"].get("Dimensions", [])
    ]
    notifying = [alarm for alarm in async_alarms if "OKActions" in alarm["Properties"]]
    assert {alarm["Properties"]["MetricName"] for alarm in notifying} == {
        "ApproximateAgeOfOldestRequest",
        "ApproximateBacklogSize",
        "InvocationFailures",
    }
    for alarm in notifying:
        (action,) = alarm["Properties"]["AlarmActions"]
        assert "AlarmsTopic" in action["Fn::ImportValue"]


def test_platform_key_lets_sns_deliver_to_encrypted_queues_of_this_account_only(synthesized):
    template = Template.from_json(synthesized.template(synthesized.stages["prod"].platform))
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AllowSnsToDeliverToEncryptedQueues",
                                "Principal": {"Service": "sns.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                                "Condition": {
                                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                    "ArnLike": {"aws:SourceArn": Match.any_value()},
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_shipped_async_data_capture_lands_in_the_platform_capture_bucket_per_model(synthesized):
    for name, expected in (("dev", None), ("staging", 100), ("prod", 20)):
        template = synthesized.template(synthesized.stages[name].model_stacks["iris"])
        (config,) = [
            c["Properties"]
            for c in resources_of_type(template, "AWS::SageMaker::EndpointConfig").values()
            if "AsyncInferenceConfig" in c["Properties"]
        ]
        capture = config.get("DataCaptureConfig")
        if expected is None:
            assert capture is None, name
            continue
        assert capture["InitialSamplingPercentage"] == expected, name
        separator, parts = capture["DestinationS3Uri"]["Fn::Join"]
        assert separator == ""
        assert parts[0] == "s3://" and parts[2] == f"/{name}/iris/async/", name
        assert "DataCaptureBucket" in parts[1]["Fn::ImportValue"], name
        assert "PlatformKey" in capture["KmsKeyId"]["Fn::ImportValue"], name
