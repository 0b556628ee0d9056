"""Assemble a CDK app from validated environment configs. ``app.py`` is the thin shell."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from typing import TYPE_CHECKING

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks

from inference_config.schema import EnvironmentConfig, PipelineConfig
from stacks.environment_stage import EnvironmentStage
from stacks.limits import check_template_sizes

if TYPE_CHECKING:
    from stacks.pipeline_stack import PipelineStack


def compliance_packs(app: cdk.App) -> list[NagPack]:
    """The cdk-nag rule packs every environment must pass."""
    return [AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app), PCIDSS321Checks(app)]


def register_compliance_checks(app: cdk.App) -> None:
    """cdk-nag packs, as validation plugins: an unacknowledged finding fails synth."""
    cdk.Validations.of(app).add_plugins(*compliance_packs(app))


def synthesize(app: cdk.App) -> list[str]:
    """Write the assembly; if a template is too large for CloudFormation, remove the whole
    assembly (nothing half-built is left) and return the problems."""
    assembly = app.synth()
    problems = check_template_sizes(assembly)
    if problems:
        shutil.rmtree(assembly.directory, ignore_errors=True)
    return problems


def build_stages(app: cdk.App, configs: Iterable[EnvironmentConfig], *, base_dir: str) -> list[EnvironmentStage]:
    return [EnvironmentStage(app, config=config, base_dir=base_dir) for config in configs]


def build_pipeline(
    app: cdk.App,
    settings: PipelineConfig,
    configs: Iterable[EnvironmentConfig],
    *,
    base_dir: str,
    cli_version: str | None = None,
) -> PipelineStack:
    """The pipeline stack; the environment stages are created inside it, not in the app."""
    # Imported here: the pipeline modules of aws-cdk-lib cost about 0.15 s to import, and the
    # shipped config builds the environments directly.
    from stacks.pipeline_stack import PIPELINE_STACK_ID, PipelineStack

    return PipelineStack(
        app,
        PIPELINE_STACK_ID,
        stack_name=f"{settings.name}-pipeline",
        settings=settings,
        environments={config.environment: config for config in configs},
        base_dir=base_dir,
        cli_version=cli_version,
    )
