"""PipelineKey and BuildLogGroup: a pipeline's key and build logs, rotating, encrypted and retained
unless a named option says otherwise."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from inference_constructs.errors import InvalidPropsError
from inference_constructs.pipeline_storage import BuildLogGroup, PipelineKey
from tests.inference_constructs.helpers import new_stack


def storage_template(**log_options: object) -> tuple[cdk.Stack, Template]:
    stack = new_stack()
    key = PipelineKey(stack, "ArtifactsKey", pipeline_name="delivery").key
    BuildLogGroup(stack, "BuildLogs", encryption_key=key, **log_options)  # type: ignore[arg-type]
    return stack, Template.from_stack(stack)


def test_the_key_rotates_is_retained_and_has_its_alias():
    _, template = storage_template()
    template.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": Match.object_like(
                {"EnableKeyRotation": True, "Description": "Encrypts the artifacts and build logs of pipeline delivery"}
            ),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/delivery/pipeline-artifacts"})


def test_cloudwatch_logs_may_use_the_key_for_this_accounts_log_groups_only():
    _, template = storage_template()
    (key,) = template.find_resources("AWS::KMS::Key").values()
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowCloudWatchLogs"]
    logs_in_this_region = {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    assert statement["Principal"] == {"Service": logs_in_this_region}
    assert list(statement["Condition"]) == ["ArnLike"]
    assert "kms:EncryptionContext:aws:logs:arn" in statement["Condition"]["ArnLike"]


def test_build_logs_are_encrypted_kept_a_year_and_retained():
    _, template = storage_template()
    (key_id,) = template.find_resources("AWS::KMS::Key")
    template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]}, "RetentionInDays": 365},
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_retention_and_removal_are_named_options():
    _, template = storage_template(retention_days=90, removal_policy=cdk.RemovalPolicy.DESTROY)
    template.has_resource(
        "AWS::Logs::LogGroup",
        {"Properties": Match.object_like({"RetentionInDays": 90}), "DeletionPolicy": "Delete"},
    )


def test_a_retention_cloudwatch_logs_does_not_offer_is_refused():
    stack = new_stack()
    key = PipelineKey(stack, "ArtifactsKey", pipeline_name="delivery").key
    with pytest.raises(InvalidPropsError, match=r"Test/BuildLogs: invalid props \(1 problem\(s\)\)") as raised:
        BuildLogGroup(stack, "BuildLogs", encryption_key=key, retention_days=2)
    (problem,) = raised.value.problems
    assert problem.startswith("retention_days: must be one of the periods CloudWatch Logs offers: 1, 3, 5, 7,")


def test_a_pipeline_name_kms_refuses_in_an_alias_is_refused():
    with pytest.raises(InvalidPropsError) as raised:
        PipelineKey(new_stack(), "ArtifactsKey", pipeline_name="delivery pipeline")
    (problem,) = raised.value.problems
    assert problem == (
        "pipeline_name (alias 'alias/delivery pipeline/pipeline-artifacts'): must match ^[a-zA-Z0-9:/_-]+$ "
        "(kms AliasNameType)"
    )
