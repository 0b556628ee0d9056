"""What EndpointBase gives every endpoint construct: an encrypted log group with a retention period."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from inference_constructs.endpoint import EndpointLogSettings, check_endpoint_props
from inference_constructs.errors import InvalidPropsError, ProblemCollector
from inference_constructs.log_retention import LOG_RETENTION_DAYS
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from tests.inference_constructs import test_async_endpoint, test_realtime_endpoint, test_serverless_endpoint
from tests.inference_constructs.helpers import new_key, new_model, new_stack

SERVERLESS = {"memory_size_in_mb": 2048, "max_concurrency": 5}
ASYNC = {"instance_type": "ml.m5.large"}


@pytest.fixture(scope="module", params=["realtime", "serverless", "async"])
def endpoint_template(request, model_artifact):
    """Each endpoint kind with default log settings: (endpoint, template, key logical id)."""
    if request.param == "realtime":
        stack, endpoint = test_realtime_endpoint.build(model_artifact, {"instance_type": "ml.m5.large"})
    elif request.param == "serverless":
        stack, endpoint = test_serverless_endpoint.build(model_artifact, SERVERLESS)
    else:
        stack, endpoint = test_async_endpoint.build(model_artifact, ASYNC)
    key = endpoint.model.encryption_key
    return endpoint, Template.from_stack(stack), stack.get_logical_id(key.node.default_child)


def test_log_group_is_the_one_sagemaker_writes_to_encrypted_and_expiring(endpoint_template):
    endpoint, template, key_id = endpoint_template
    endpoint_log_groups = template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": Match.string_like_regexp("^/aws/sagemaker/")}}
    )
    assert len(endpoint_log_groups) == 1
    template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "LogGroupName": f"/aws/sagemaker/Endpoints/{endpoint.endpoint_name}",
                "KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
                "RetentionInDays": 365,
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_endpoint_waits_for_its_log_group(endpoint_template):
    # Otherwise SageMaker could create the group first (unencrypted, kept forever) and the
    # stack's own group would then fail to create.
    _, template, _ = endpoint_template
    (log_group_id,) = template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": Match.string_like_regexp("^/aws/sagemaker/")}}
    )
    (endpoint_resource,) = template.find_resources("AWS::SageMaker::Endpoint").values()
    assert log_group_id in endpoint_resource["DependsOn"]


def test_retention_and_deletion_follow_the_settings(model_artifact):
    stack = new_stack()
    key = new_key(stack)
    RealtimeEndpoint(
        stack,
        "Realtime",
        model=new_model(stack, key, model_artifact),
        encryption_key=key,
        endpoint_name="test-iris-realtime",
        settings={"instance_type": "ml.m5.large"},
        logs={"retention_days": 30, "retain_on_delete": False},
    )
    Template.from_stack(stack).has_resource(
        "AWS::Logs::LogGroup",
        {"Properties": Match.object_like({"RetentionInDays": 30}), "DeletionPolicy": "Delete"},
    )


def test_a_retention_cloudwatch_does_not_offer_is_refused_with_the_allowed_periods(model_artifact):
    stack = new_stack()
    key = new_key(stack)
    with pytest.raises(InvalidPropsError) as error:
        RealtimeEndpoint(
            stack,
            "Realtime",
            model=new_model(stack, key, model_artifact),
            encryption_key=key,
            endpoint_name="test-iris-realtime",
            settings={"instance_type": "ml.m5.large"},
            logs={"retention_days": 100},
        )
    assert "logs.retention_days: must be one of the periods CloudWatch Logs offers: 1, 3, 5, 7" in str(error.value)
    assert "(got 100)" in str(error.value)


@pytest.mark.parametrize("days", LOG_RETENTION_DAYS)
def test_every_period_cloudwatch_offers_is_accepted(days):
    assert EndpointLogSettings(retention_days=days).retention_days == days


def test_the_shared_endpoint_prologue_reports_every_problem_and_returns_the_log_settings():
    # One home for what every mode checks (realtime, async and serverless call it).
    problems = ProblemCollector()
    checked = check_endpoint_props(
        problems, endpoint_name="bad_name!", logs={"retention_days": 2}, captures_data=True, data_capture_prefix="x/"
    )
    assert checked is None
    assert [problem.split(":")[0] for problem in problems.problems] == [
        "logs.retention_days",
        "endpoint_name",
        "data_capture_bucket and data_capture_prefix",
    ]
    fine = ProblemCollector()
    assert check_endpoint_props(fine, endpoint_name="dev-iris-realtime", logs=None) == EndpointLogSettings()
    assert fine.problems == []
