"""Shared fixtures. The shipped app is synthesized once per test session."""

from __future__ import annotations

import json
import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # before jsii starts
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest

from inference_platform.config_loader import load_environments
from inference_platform.config_schema import EnvironmentConfig
from model_code.build import DEFAULT_OUTPUT, build
from stacks.application import build_stages, register_compliance_checks
from stacks.environment_stage import EnvironmentStage

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "config"
ENVIRONMENTS = ("dev", "staging", "prod")


# Tests build apps with the same feature flags as `cdk synth` (cdk.json's context).
CDK_CONTEXT = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


def new_app(outdir: Path | str | None = None) -> cdk.App:
    """An app for tests, configured like `cdk synth`, except that CloudFormation's built-in
    validation is left to cfn-lint (it triples synth time and only warns)."""
    return cdk.App(
        outdir=str(outdir) if outdir else None, builtin_cloud_formation_validation=False, context=CDK_CONTEXT
    )


@dataclass
class SynthesizedApp:
    app: cdk.App
    stages: dict[str, EnvironmentStage]
    assembly: cdk.cx_api.CloudAssembly
    configs: dict[str, EnvironmentConfig]

    def template(self, stack: cdk.Stack) -> dict:
        """The synthesized template of ``stack`` as a plain dict."""
        stage_assembly = self.assembly.get_nested_assembly(f"assembly-{stack.node.scope.node.id}")
        return stage_assembly.get_stack_by_name(stack.stack_name).template

    def all_templates(self) -> dict[str, dict]:
        """Every template of every environment, keyed by stack path (``Prod/ModelIris``)."""
        return {
            f"{name.capitalize()}/{stack.node.id}": self.template(stack)
            for name, stage in self.stages.items()
            for stack in [stage.platform, *stage.model_stacks.values(), *stage.monitoring_stacks]
        }

    def template_files(self) -> list[Path]:
        return sorted(Path(self.assembly.directory).rglob("*.template.json"))


@pytest.fixture(scope="session")
def model_artifact() -> Path:
    """The model artifact the shipped configs point at (built once if missing)."""
    if not DEFAULT_OUTPUT.is_file():
        build(DEFAULT_OUTPUT)
    return DEFAULT_OUTPUT


@pytest.fixture(scope="session")
def shipped_configs(model_artifact: Path) -> dict[str, EnvironmentConfig]:
    configs = load_environments([CONFIG_DIR / f"{name}.yaml" for name in ENVIRONMENTS], base_dir=REPO_ROOT)
    return {config.environment: config for config in configs}


@pytest.fixture(scope="session")
def synthesized(
    shipped_configs: dict[str, EnvironmentConfig], tmp_path_factory: pytest.TempPathFactory
) -> SynthesizedApp:
    """The shipped three-environment app with its compliance checks, synthesized once."""
    app = new_app(tmp_path_factory.mktemp("cdk.out"))
    stages = build_stages(app, shipped_configs.values(), base_dir=str(REPO_ROOT))
    register_compliance_checks(app)
    assembly = app.synth()
    return SynthesizedApp(
        app=app,
        stages={stage.config.environment: stage for stage in stages},
        assembly=assembly,
        configs=shipped_configs,
    )


def resources_of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {key: value for key, value in template.get("Resources", {}).items() if value["Type"] == resource_type}


def dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True)
