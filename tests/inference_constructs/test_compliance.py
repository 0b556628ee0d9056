"""The acknowledgement helpers: what they write into the assembly, and that each is written once."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from inference_constructs.compliance import acknowledge_wildcard_resources, skip_checkov_check

REASON = "A reason long enough to say why this finding does not apply here."
ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


def _app(**props: str) -> cdk.App:
    return cdk.App(builtin_cloud_formation_validation=False, **props)


def _acknowledged(assembly: cdk.cx_api.CloudAssembly, stack: cdk.Stack) -> dict[str, list[dict[str, str]]]:
    """Construct path -> the acknowledgement entries CDK recorded on it, in order."""
    # The stack's metadata file, as the CDK CLI and cdk-nag read it.
    metadata = json.loads((Path(assembly.directory) / f"{stack.artifact_id}.metadata.json").read_text())
    return {
        path: [entry["data"] for entry in entries if entry["type"] == ACKNOWLEDGED]
        for path, entries in metadata.items()
        if any(entry["type"] == ACKNOWLEDGED for entry in entries)
    }


def test_wildcards_render_as_cdk_nag_names_them_references_and_imports_included():
    app = _app()
    platform = cdk.Stack(app, "Platform")
    bucket = s3.Bucket(platform, "Bucket")
    stack = cdk.Stack(app, "Model")
    topic = sns.Topic(stack, "Topic")
    first, second = Construct(stack, "First"), Construct(stack, "Second")
    acknowledge_wildcard_resources(first, [f"{bucket.bucket_arn}/in/*", "*"], REASON)
    acknowledge_wildcard_resources(second, [f"{topic.topic_arn}*"], REASON)
    acknowledge_wildcard_resources(first, [f"arn:{cdk.Aws.PARTITION}:s3:::x/*"], REASON)
    cdk.CfnOutput(stack, "Uses", value=bucket.bucket_arn)  # makes the bucket ARN an import

    recorded = _acknowledged(app.synth(), stack)

    imported = "Platform:ExportsOutputFnGetAttBucket83908E77Arn063C8555"
    assert recorded["/Model/First"] == [
        {f"AwsSolutions::AwsSolutions-IAM5[Resource::{imported}/in/*]": REASON},
        {"AwsSolutions::AwsSolutions-IAM5[Resource::*]": REASON},
        {"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::x/*]": REASON},
    ]
    topic_id = stack.get_logical_id(topic.node.default_child)
    assert recorded["/Model/Second"] == [{f"AwsSolutions::AwsSolutions-IAM5[Resource::<{topic_id}>*]": REASON}]


def test_a_wildcard_acknowledgement_needs_a_specific_reason():
    with pytest.raises(ValueError, match="needs a specific reason, got 'because'"):
        acknowledge_wildcard_resources(cdk.Stack(_app(), "Model"), ["*"], "because")


def test_checkov_skips_accumulate_in_the_resource_metadata(tmp_path: Path):
    app = _app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Model")
    bucket = s3.CfnBucket(stack, "Bucket")
    skip_checkov_check(bucket, "CKV_AWS_18", REASON)
    skip_checkov_check(bucket, "CKV_AWS_21", REASON + " (another)")
    app.synth()

    template = json.loads((tmp_path / "Model.template.json").read_text())
    assert template["Resources"]["Bucket"]["Metadata"]["checkov"] == {
        "skip": [{"id": "CKV_AWS_18", "comment": REASON}, {"id": "CKV_AWS_21", "comment": REASON + " (another)"}]
    }
