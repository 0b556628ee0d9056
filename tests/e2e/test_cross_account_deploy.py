"""An environment deployed to a second account with the pipeline account's credentials, on moto.

What the delivery pipeline does for an environment in another account: the target account is
bootstrapped trusting the pipeline account (``cdk bootstrap --trust``), and the CLI, running
with the pipeline account's credentials, assumes the target's bootstrap roles to publish assets
and deploy. moto keeps accounts apart by the credentials a request is signed with (an assumed
role's credentials act in the role's account), so the stacks must appear in the target account
and not in the pipeline's. moto enforces no IAM and no trust policy: what it shows is the CLI
path and where things are created, and the trust the bootstrap wrote is asserted from IAM.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
import yaml

from inference_core.naming import model_stack_name
from tests.e2e.conftest import ACCOUNT, ENVIRONMENT, REGION, CdkCli, Emulator, check, run
from tests.e2e.test_deploy_round_trip import _deploy

pytestmark = pytest.mark.e2e

TARGET = "222222222222"
IRIS = {
    "name": "iris",
    "image": {"framework": "sklearn", "version": "1.4-2"},
    "model_data": "s3://e2e-cross-account-models/iris/model.tar.gz",
    "realtime": {"instance_type": "ml.m5.large"},
}


def target_credentials(emulator: Emulator) -> dict[str, str]:
    """Credentials acting in the target account (as an administrator there would bootstrap it)."""
    credentials = emulator.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{TARGET}:role/OrganizationAccountAccessRole", RoleSessionName="bootstrap"
    )["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


def target_client(emulator: Emulator, service: str, credentials: dict[str, str]):
    import boto3

    return boto3.Session(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
        region_name=REGION,
    ).client(service, endpoint_url=emulator.url)


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("config")
    config = {
        "environment": ENVIRONMENT,
        "account": TARGET,
        "region": REGION,
        "termination_protection": False,
        "retain_endpoint_logs": False,
        "models": [IRIS],
    }
    (directory / f"{ENVIRONMENT}.yaml").write_text(yaml.safe_dump(config))
    return directory


@pytest.fixture(scope="module")
def deployed(cdk: CdkCli, emulator: Emulator, config_dir: Path) -> dict[str, str]:
    credentials = target_credentials(emulator)
    # The target account's administrator bootstraps it, trusting the pipeline account.
    bootstrap = [
        "npx",
        "--no-install",
        "cdk",
        "bootstrap",
        f"aws://{TARGET}/{REGION}",
        "--trust",
        ACCOUNT,
        "--cloudformation-execution-policies",
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "--no-notices",
        "--output",
        str(cdk.outdir),
        "-c",
        f"config_dir={config_dir}",
    ]
    environment = {**emulator.environment(), **credentials}
    check(run(bootstrap, deadline=cdk.deadline, limit=180, env=environment), emulator)
    # The pipeline account's credentials deploy: the CLI assumes the target's bootstrap roles.
    _deploy(cdk, config_dir)
    return credentials


def test_the_stacks_are_created_in_the_target_account_only(deployed: dict[str, str], emulator: Emulator):
    stack = model_stack_name(ENVIRONMENT, "iris")
    target = target_client(emulator, "cloudformation", deployed)
    assert target.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    pipeline_account = {
        summary["StackName"] for summary in emulator.client("cloudformation").list_stacks()["StackSummaries"]
    }
    assert stack not in pipeline_account


def test_the_target_bootstrap_roles_trust_the_pipeline_account(deployed: dict[str, str], emulator: Emulator):
    iam = target_client(emulator, "iam", deployed)
    roles = {role["RoleName"]: role for role in iam.list_roles()["Roles"]}
    for kind in ("deploy", "file-publishing", "image-publishing"):
        name = f"cdk-hnb659fds-{kind}-role-{TARGET}-{REGION}"
        assert name in roles, sorted(roles)
        document = roles[name]["AssumeRolePolicyDocument"]
        policy = json.loads(urllib.parse.unquote(document)) if isinstance(document, str) else document
        principals = json.dumps([statement.get("Principal") for statement in policy["Statement"]])
        assert ACCOUNT in principals, (name, principals)


def test_the_model_role_exists_in_the_target_account_with_its_grants(deployed: dict[str, str], emulator: Emulator):
    iam = target_client(emulator, "iam", deployed)
    sagemaker_roles = [
        role
        for role in iam.list_roles()["Roles"]
        if "sagemaker.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
    ]
    assert sagemaker_roles and all(f":{TARGET}:" in role["Arn"] for role in sagemaker_roles)
    policies = [
        iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
        for role in sagemaker_roles
        for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    ]
    assert any("e2e-cross-account-models/iris/model.tar.gz" in json.dumps(policy) for policy in policies)
