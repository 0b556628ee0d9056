"""ModelApprovalTrigger: an approval in a named group starts the pipeline, with a rule EventBridge
accepts however many groups there are (and a clear error when there are more than it can take)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from aws_rules.rules import check_all
from aws_rules.templates import Templates
from inference_constructs.compliance import recorded_acknowledgements
from inference_constructs.errors import InvalidPropsError
from inference_constructs.model_approval import (
    APPROVAL_DETAIL_TYPE,
    DESCRIPTION_PREFIX,
    ModelApprovalTrigger,
    acknowledge_registry_reads,
    registry_read_statements,
)
from inference_constructs.service_models import max_length
from tests.inference_constructs.helpers import new_stack

PIPELINE_ARN = "arn:aws:codepipeline:eu-west-1:111111111111:delivery"
# Longest names SageMaker takes (EntityName: 63 characters).
LONG_GROUPS = [f"{index:02d}-{'g' * 60}" for index in range(9)]


def trigger_template(groups: list[str]) -> dict:
    stack = new_stack()
    pipeline = codepipeline.Pipeline.from_pipeline_arn(stack, "Pipeline", PIPELINE_ARN)
    ModelApprovalTrigger(stack, "ModelApproved", pipeline=pipeline, groups=groups)
    return Template.from_stack(stack).to_json()


def rules_of(template: dict) -> list[dict]:
    return [resource for resource in template["Resources"].values() if resource["Type"] == "AWS::Events::Rule"]


def test_an_approval_in_a_named_group_starts_the_pipeline():
    template = trigger_template(["iris-models", "tabular-models"])
    (rule,) = rules_of(template)
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": [APPROVAL_DETAIL_TYPE],
        "detail": {"ModelPackageGroupName": ["iris-models", "tabular-models"], "ModelApprovalStatus": ["Approved"]},
    }
    assert rule["Properties"]["Description"] == (
        "Deploy the approved model package versions of iris-models, tabular-models"
    )
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == PIPELINE_ARN
    # EventBridge starts the pipeline with a role that may start only it.
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "codepipeline:StartPipelineExecution", "Effect": "Allow", "Resource": PIPELINE_ARN}
    ]


def test_many_long_group_names_keep_the_description_within_eventbridges_limit():
    # Nine names of 63 characters: listing them takes more than PutRule's 512 characters, which the
    # pipeline stack's rule used to do (a stack that failed at deploy). The AWS rule catches that form.
    listed = DESCRIPTION_PREFIX + ", ".join(LONG_GROUPS)
    assert len(listed) > max_length("events", "RuleDescription")
    old = {"Resources": {"Rule": {"Type": "AWS::Events::Rule", "Properties": {"Description": listed}}}}
    assert [violation.rule for violation in check_all(Templates({"pipeline": old}))] == ["fields-fit-aws-api-shapes"]

    template = trigger_template(LONG_GROUPS)
    (rule,) = rules_of(template)
    assert rule["Properties"]["Description"] == (
        "Deploy the approved model package versions of the 9 model package groups of its event pattern"
    )
    assert rule["Properties"]["EventPattern"]["detail"]["ModelPackageGroupName"] == LONG_GROUPS
    assert check_all(Templates({"pipeline": template})) == []


def test_every_problem_with_the_groups_is_reported_at_once():
    stack = new_stack()
    pipeline = codepipeline.Pipeline.from_pipeline_arn(stack, "Pipeline", PIPELINE_ARN)
    with pytest.raises(InvalidPropsError) as raised:
        ModelApprovalTrigger(stack, "ModelApproved", pipeline=pipeline, groups=["iris_models", "-tabular"])
    assert raised.value.problems == [
        "groups[0]: must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$ (sagemaker EntityName)",
        "groups[1]: must match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$ (sagemaker EntityName)",
    ]
    assert str(raised.value).startswith("Test/ModelApproved: invalid props (2 problem(s))")
    with pytest.raises(InvalidPropsError, match=r"groups: name at least one model package group"):
        ModelApprovalTrigger(stack, "NoGroups", pipeline=pipeline, groups=[])


# 63-character names (SageMaker's longest group names) and the compact size of their event pattern.
SIXTY_GROUPS = [f"{index:03d}-{'g' * 59}" for index in range(60)]


def refusal(groups: list[str], **options: object) -> list[str]:
    stack = new_stack()
    pipeline = codepipeline.Pipeline.from_pipeline_arn(stack, "Pipeline", PIPELINE_ARN)
    with pytest.raises(InvalidPropsError) as raised:
        ModelApprovalTrigger(stack, "ModelApproved", pipeline=pipeline, groups=groups, **options)  # type: ignore[arg-type]
    return raised.value.problems


def pattern_size(template: dict) -> int:
    (rule,) = rules_of(template)
    return len(json.dumps(rule["Properties"]["EventPattern"], separators=(",", ":")))


def test_more_groups_than_the_default_event_pattern_quota_holds_is_an_error_naming_it():
    # EventBridge's default "Event pattern size" quota is 2,048 characters: 28 such names fit
    # (2,003), 29 do not (2,069).
    (problem,) = refusal(SIXTY_GROUPS[:29])
    assert problem.startswith("groups: the event pattern naming 29 groups takes 2069 characters; ")
    assert "EventBridge allows 2048 (the account's event pattern size quota, eb-quota.html)" in problem
    template = trigger_template(SIXTY_GROUPS[:28])
    assert pattern_size(template) == 2003
    assert check_all(Templates({"pipeline": template})) == []


def test_a_raised_quota_is_a_named_option_up_to_putrules_own_limit():
    # Raised to PutRule's 4,096: 59 names fit (4,049), 60 do not (4,115).
    stack = new_stack()
    pipeline = codepipeline.Pipeline.from_pipeline_arn(stack, "Pipeline", PIPELINE_ARN)
    ModelApprovalTrigger(stack, "ModelApproved", pipeline=pipeline, groups=SIXTY_GROUPS[:59], event_pattern_quota=4096)
    assert pattern_size(Template.from_stack(stack).to_json()) == 4049
    (problem,) = refusal(SIXTY_GROUPS, event_pattern_quota=4096)
    assert problem.startswith(
        "groups: the event pattern naming 60 groups takes 4115 characters; EventBridge allows 4096"
    )
    (problem,) = refusal(["iris-models"], event_pattern_quota=8192)
    assert problem == (
        "event_pattern_quota: 8192 is not between EventBridge's default quota, 2048, and PutRule's most, 4096 "
        "(events EventPattern)"
    )


def test_the_registry_reads_are_held_to_the_groups_versions():
    stack = new_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"))
    for statement in registry_read_statements(stack, ["iris-models"]):
        role.add_to_policy(statement)
    acknowledge_registry_reads(role, ["iris-models"])
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    # The wildcard is acknowledged as cdk-nag names it, on the role that holds it.
    (acknowledged,) = recorded_acknowledgements(stack.node.root)
    assert acknowledged.path == "Test/Role"
    assert acknowledged.finding_id == (
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
        "model-package/iris-models/*]"
    )
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]
    # The ARN CDK's own Stack.formatArn gives for the group's versions.
    assert statement["Resource"] == stack.resolve(
        stack.format_arn(service="sagemaker", resource="model-package", resource_name="iris-models/*")
    )
