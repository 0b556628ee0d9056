"""An environment in another account: the pipeline grants that account's bootstrap roles what the
deploy relies on (the artifacts, their key, the asset publishing role), and nothing to others."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk.assertions import Template

from stacks.pipeline_stack import PipelineStack
from tests.conftest import REPO_ROOT, new_app, resources_of_type
from tests.stacks.test_pipeline_stack import settings  # noqa: F401 - the shipped pipeline.yaml, switched on

TARGET = "222222222222"
DEPLOY_ROLE = f":iam::{TARGET}:role/cdk-hnb659fds-deploy-role-{TARGET}-eu-west-1"


@pytest.fixture(scope="module")
def template(settings, shipped_configs):  # noqa: F811
    configs = dict(shipped_configs)
    configs["prod"] = configs["prod"].model_copy(update={"account": TARGET})
    stack = PipelineStack(new_app(), "Pipeline", settings=settings, environments=configs, base_dir=str(REPO_ROOT))
    return Template.from_stack(stack).to_json()


def statements_naming(document: dict, text: str) -> list[dict]:
    return [statement for statement in document["Statement"] if text in json.dumps(statement)]


def test_the_target_deploy_role_reads_the_artifacts_and_decrypts_them(template):
    reads = [
        statement
        for policy in resources_of_type(template, "AWS::S3::BucketPolicy").values()
        for statement in statements_naming(policy["Properties"]["PolicyDocument"], DEPLOY_ROLE)
    ]
    assert reads and all(statement["Effect"] == "Allow" for statement in reads)
    assert {"s3:GetObject*", "s3:List*"} <= {action for statement in reads for action in statement["Action"]}
    (key,) = resources_of_type(template, "AWS::KMS::Key").values()
    decrypts = statements_naming(key["Properties"]["KeyPolicy"], DEPLOY_ROLE)
    assert decrypts and "kms:Decrypt" in {action for statement in decrypts for action in statement["Action"]}


def test_assets_are_published_into_the_target_account_through_its_publishing_role(template):
    publishing = [
        statement
        for key, policy in resources_of_type(template, "AWS::IAM::Policy").items()
        if "Assets" in key
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "sts:AssumeRole"
    ]
    assert any(f":iam::{TARGET}:role/cdk-hnb659fds-file-publishing-role-{TARGET}" in json.dumps(s) for s in publishing)


def test_no_other_account_is_granted_anything(template):
    accounts = {"111111111111", TARGET}
    found = set(re.findall(r":iam::([0-9]{12}):", json.dumps(template)))
    assert found <= accounts, found - accounts
