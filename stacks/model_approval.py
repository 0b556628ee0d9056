"""Model Registry approvals start the delivery pipeline, which deploys the approved version.

An approval of a version in one of the groups the environments name starts the pipeline
(``inference_constructs.model_approval.ModelApprovalTrigger``); its synth step resolves each
group's latest approved version (``scripts.resolve_model_packages``) and passes it to ``cdk synth``
as context, so the version then moves dev -> staging -> (approval) -> prod like any other change.
This module holds the pipeline's side: which groups, and the synth step's commands and variable.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_codepipeline as codepipeline

from inference_config.schema import EnvironmentConfig
from inference_core.naming import RESOLVED_MODEL_PACKAGES_FILE

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
