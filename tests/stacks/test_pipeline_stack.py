"""The delivery pipeline: stages in order, make test in synth, smoke tests, approval, nag-clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk.assertions import Match, Template

from inference_config.loader import load_pipeline
from inference_constructs.compliance import recorded_acknowledgements
from stacks.application import build_pipeline, register_compliance_checks
from stacks.pipeline_stack import PipelineStack
from tests.conftest import CONFIG_DIR, REPO_ROOT, new_app, resources_of_type
from tests.nag import stale_acknowledgements


@pytest.fixture(scope="module")
def settings():
    # The shipped file, switched on: the same stages, source and approval as users get.
    return load_pipeline(CONFIG_DIR / "pipeline.yaml", base_dir=REPO_ROOT).model_copy(update={"enabled": True})


@pytest.fixture(scope="module")
def pipeline_app(settings, shipped_configs, tmp_path_factory):
    """The pipeline app with the four nag packs: synth raises on any unacknowledged finding."""
    app = new_app(tmp_path_factory.mktemp("pipeline.out"))
    stack = build_pipeline(app, settings, shipped_configs.values(), base_dir=str(REPO_ROOT), cli_version="2.1148.1")
    register_compliance_checks(app)
    assembly = app.synth()
    return app, stack, assembly


@pytest.fixture(scope="module")
def template(pipeline_app):
    _, stack, assembly = pipeline_app
    return assembly.get_stack_by_name(stack.stack_name).template


def pipeline_stages(template: dict) -> list[dict]:
    (pipeline,) = resources_of_type(template, "AWS::CodePipeline::Pipeline").values()
    return pipeline["Properties"]["Stages"]


def build_commands(template: dict, logical_id_part: str) -> str:
    projects = resources_of_type(template, "AWS::CodeBuild::Project")
    matching = [project for key, project in projects.items() if logical_id_part in key]
    assert len(matching) == 1, f"expected one project matching {logical_id_part}, found {list(projects)}"
    return matching[0]["Properties"]["Source"]["BuildSpec"]


def test_synthesizes_with_every_nag_pack_and_no_lookups(pipeline_app):
    _, stack, assembly = pipeline_app
    # app.synth() raised ValidationFailed otherwise; nothing was looked up (no missing context).
    manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text())
    assert "missing" not in manifest
    assert stack.account == "111111111111" and stack.region == "eu-west-1"


def test_environments_deploy_in_order_after_source_build_and_self_mutation(template):
    names = [stage["Name"] for stage in pipeline_stages(template)]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", "Dev", "Staging", "Prod"]


def test_manual_approval_comes_before_anything_is_deployed_to_prod(template):
    stages = {stage["Name"]: stage["Actions"] for stage in pipeline_stages(template)}
    approvals = {
        name: [action for action in actions if action["ActionTypeId"]["Category"] == "Approval"]
        for name, actions in stages.items()
    }
    assert [name for name, found in approvals.items() if found] == ["Prod"]
    first_deploy = min(
        action["RunOrder"] for action in stages["Prod"] if action["ActionTypeId"]["Provider"] == "CloudFormation"
    )
    assert approvals["Prod"][0]["RunOrder"] < first_deploy


def test_synth_step_runs_the_developer_checks_then_synth(template):
    spec = json.loads(build_commands(template, "Synth"))
    commands = spec["phases"]["build"]["commands"]
    assert commands.index("make test") < commands.index("make synth")
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.11", "nodejs": "20"}
    assert spec["artifacts"]["base-directory"] == "cdk.out"


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_each_stage_is_followed_by_its_smoke_tests(template, environment):
    stage_name = environment.capitalize()
    spec = json.loads(build_commands(template, f"SmokeTest{stage_name}"))
    commands = spec["phases"]["build"]["commands"]
    assert f".venv/bin/python -m inference_platform smoke --env {environment} --region eu-west-1" in commands
    actions = next(stage["Actions"] for stage in pipeline_stages(template) if stage["Name"] == stage_name)
    smoke = next(action for action in actions if action["Name"] == f"SmokeTest{stage_name}")
    assert smoke["RunOrder"] == max(action["RunOrder"] for action in actions)


def test_smoke_tests_may_only_touch_their_own_environment(template):
    policies = resources_of_type(template, "AWS::IAM::Policy")
    (dev_policy,) = [policy for key, policy in policies.items() if "SmokeTestDev" in key]
    statements = dev_policy["Properties"]["PolicyDocument"]["Statement"]
    text = json.dumps(statements)
    assert "endpoint/dev-*" in text and "endpoint/prod-*" not in text
    assert "arn:aws:s3:::dev-platform-*" in text
    kms = next(s for s in statements if s["Action"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"])
    assert kms["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/dev/sagemaker-inference"}}
    start = next(s for s in statements if s["Action"] == "states:StartExecution")
    assert start["Condition"] == {"StringEquals": {"aws:ResourceTag/environment": "dev"}}


def test_source_is_the_configured_connection_and_branch(template, settings):
    source = pipeline_stages(template)[0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == settings.source.connection_arn
    assert source["Configuration"]["FullRepositoryId"] == settings.source.repository
    assert source["Configuration"]["BranchName"] == "main"


def test_self_mutating_v2_pipeline_running_the_pinned_cli(template):
    Template.from_json(template).has_resource_properties(
        "AWS::CodePipeline::Pipeline", {"PipelineType": "V2", "RestartExecutionOnUpdate": True}
    )
    spec = build_commands(template, "SelfMutation")
    assert "aws-cdk@2.1148.1" in spec and "cdk -a . deploy" in spec


def test_artifacts_and_logs_are_encrypted_with_a_rotating_key(template):
    assertions = Template.from_json(template)
    assertions.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    key_id = next(iter(resources_of_type(template, "AWS::KMS::Key")))
    assertions.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
                            }
                        }
                    )
                ]
            },
            "LoggingConfiguration": Match.any_value(),
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    )
    assertions.has_resource_properties(
        "AWS::Logs::LogGroup", {"KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]}, "RetentionInDays": 365}
    )
    for project in resources_of_type(template, "AWS::CodeBuild::Project").values():
        assert project["Properties"]["EncryptionKey"] == {"Fn::GetAtt": [key_id, "Arn"]}
        assert "CloudWatchLogs" in json.dumps(project["Properties"]["LogsConfig"])


def test_the_stages_inside_the_pipeline_are_the_environment_stages(pipeline_app):
    _, stack, assembly = pipeline_app
    assert list(stack.stages) == ["dev", "staging", "prod"]
    nested = sorted(path.name for path in Path(assembly.directory).glob("assembly-*"))
    assert nested == ["assembly-Pipeline-Dev", "assembly-Pipeline-Prod", "assembly-Pipeline-Staging"]


def test_every_pipeline_acknowledgement_matches_a_finding(pipeline_app):
    app, stack, _ = pipeline_app
    mine = [ack for ack in recorded_acknowledgements(app) if ack.path.startswith(stack.node.path + "/Pipeline")]
    assert mine
    stale = [ack for ack in stale_acknowledgements(app) if ack in mine]
    assert not stale, stale
    for ack in mine:
        assert len(ack.reason) >= 30 and ack.finding_id.split("::")[1] not in ack.reason


def test_codecommit_source_and_cross_account_smoke_role(settings, shipped_configs):
    role = "arn:aws:iam::222222222222:role/smoke-tests"
    stages = [
        stage.model_copy(update={"smoke_test_role_arn": role}) if stage.environment == "prod" else stage
        for stage in settings.stages
    ]
    other = settings.model_copy(
        update={
            "source": settings.source.model_copy(
                update={"connection_arn": None, "repository": None, "codecommit_repository": "inference"}
            ),
            "stages": stages,
        }
    )
    app = new_app()
    stack = PipelineStack(app, "Pipeline", settings=other, environments=shipped_configs, base_dir=str(REPO_ROOT))
    template = Template.from_stack(stack).to_json()
    source = pipeline_stages(template)[0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeCommit"
    assert source["Configuration"]["RepositoryName"] == "inference"
    spec = json.loads(build_commands(template, "SmokeTestProd"))
    commands = spec["phases"]["build"]["commands"]
    assert f"aws configure set profile.smoke-tests.role_arn {role}" in commands
    assert commands[-1].endswith("--profile smoke-tests")
    policies = resources_of_type(template, "AWS::IAM::Policy")
    (prod_policy,) = [policy for key, policy in policies.items() if "SmokeTestProd" in key]
    assert {"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": role} in prod_policy["Properties"][
        "PolicyDocument"
    ]["Statement"]
    assert "sagemaker:InvokeEndpoint" not in json.dumps(prod_policy)


def test_a_stage_without_an_environment_config_is_refused(settings, shipped_configs):
    configs = {name: config for name, config in shipped_configs.items() if name != "staging"}
    with pytest.raises(ValueError, match="pipeline stages without an environment config: staging"):
        PipelineStack(new_app(), "Pipeline", settings=settings, environments=configs, base_dir=str(REPO_ROOT))


# cfn-lint warnings accepted on the pipeline template, each with its reason (errors never are).
PIPELINE_EXPLAINED_WARNINGS = {
    "W3005": "CDK's own codepipeline.Pipeline adds a DependsOn on its role next to the GetAtt of the role's ARN.",
}


def test_cfn_lint_finds_no_errors_in_the_pipeline_template(pipeline_app):
    _, stack, assembly = pipeline_app
    template_file = Path(assembly.directory) / assembly.get_stack_by_name(stack.stack_name).template_file
    assert not unexplained_lint(template_file)


def unexplained_lint(template_file: Path) -> list[str]:
    """cfn-lint's errors, and warnings not in PIPELINE_EXPLAINED_WARNINGS, on a pipeline template."""
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "json", "--", str(template_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode % 2 == 0, result.stderr
    return [
        f"{match['Rule']['Id']} {match['Message']}"
        for match in json.loads(result.stdout or "[]")
        if match["Level"] == "Error" or match["Rule"]["Id"] not in PIPELINE_EXPLAINED_WARNINGS
    ]
