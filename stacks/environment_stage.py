"""``EnvironmentStage``: one environment as a deployable unit (CLI today, a pipeline later)."""

from __future__ import annotations

import re

import aws_cdk as cdk
from constructs import Construct

from inference_platform.config_schema import EnvironmentConfig
from stacks.model_stack import ModelStack
from stacks.platform_stack import PlatformStack


def model_stack_id(model_name: str) -> str:
    """``iris`` -> ``ModelIris``; ``fraud-v2`` -> ``ModelFraudV2``."""
    return "Model" + "".join(part.capitalize() for part in re.split(r"[-]", model_name))


class EnvironmentStage(cdk.Stage):
    """A platform stack plus one model stack per configured model."""

    def __init__(self, scope: Construct, *, config: EnvironmentConfig, base_dir: str) -> None:
        env = cdk.Environment(account=config.account, region=config.region)
        super().__init__(scope, config.stage_name, env=env)
        self.config = config
        self.platform = PlatformStack(
            self, "Platform", config=config, termination_protection=config.termination_protection
        )
        self.model_stacks = {
            model.name: ModelStack(
                self,
                model_stack_id(model.name),
                environment=config,
                model=model,
                platform=self.platform.resources,
                base_dir=base_dir,
                termination_protection=config.termination_protection,
            )
            for model in config.models
        }
        for stack in [self.platform, *self.model_stacks.values()]:
            for key, value in {"environment": config.environment, **config.tags}.items():
                cdk.Tags.of(stack).add(key, value)
