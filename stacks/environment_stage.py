"""``EnvironmentStage``: one environment as a deployable unit (CLI today, a pipeline later)."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from inference_config.schema import EnvironmentConfig
from inference_core.naming import (
    ENVIRONMENT_TAG,
    MODEL_TAG,
    PLATFORM_STACK_ID,
    SHARED_ENDPOINT_STACK_ID,
    model_stack_id,
    model_stack_name,
    monitoring_stack_id,
    monitoring_stack_name,
    platform_stack_name,
    shared_endpoint_stack_name,
)
from stacks.limits import enforce_cloudformation_limits
from stacks.model_stack import ModelStack
from stacks.monitoring_stack import MODELS_PER_DASHBOARD, MonitoringStack
from stacks.platform_stack import PlatformStack
from stacks.shared_endpoint_stack import SharedEndpointStack


class EnvironmentStage(cdk.Stage):
    """A platform stack, one model stack per configured model, and a monitoring stack whose
    dashboard shows them all."""

    def __init__(self, scope: Construct, *, config: EnvironmentConfig, base_dir: str) -> None:
        env = cdk.Environment(account=config.account, region=config.region)
        super().__init__(scope, config.stage_name, env=env)
        self.config = config
        self.platform = PlatformStack(
            self,
            PLATFORM_STACK_ID,
            stack_name=platform_stack_name(config.environment),
            config=config,
            termination_protection=config.termination_protection,
        )
        # The shared endpoint for inference components, when the environment declares one.
        self.shared_endpoint = (
            SharedEndpointStack(
                self,
                SHARED_ENDPOINT_STACK_ID,
                stack_name=shared_endpoint_stack_name(config.environment),
                environment=config,
                settings=config.shared_endpoint,
                platform=self.platform.resources,
                termination_protection=config.termination_protection,
            )
            if config.shared_endpoint is not None
            else None
        )
        self.model_stacks = {
            model.name: ModelStack(
                self,
                model_stack_id(model.name),
                stack_name=model_stack_name(config.environment, model.name),
                environment=config,
                model=model,
                platform=self.platform.resources,
                base_dir=base_dir,
                termination_protection=config.termination_protection,
            )
            for model in config.models
        }
        if self.shared_endpoint is not None:
            # Components join the endpoint by its fixed name: the dependency alone orders them.
            for name, stack in self.model_stacks.items():
                if next(m for m in config.models if m.name == name).component is not None:
                    stack.add_stack_dependency(
                        self.shared_endpoint, "its inference component runs on the shared endpoint"
                    )
        stacks = list(self.model_stacks.values())
        pages = [stacks[start : start + MODELS_PER_DASHBOARD] for start in range(0, len(stacks), MODELS_PER_DASHBOARD)]
        self.monitoring_stacks = [
            MonitoringStack(
                self,
                monitoring_stack_id(page),
                stack_name=monitoring_stack_name(config.environment, page),
                environment=config.environment,
                model_stacks=page_stacks,
                page=page,
                pages=len(pages),
                termination_protection=config.termination_protection,
            )
            for page, page_stacks in enumerate(pages, start=1)
        ]
        self.monitoring = self.monitoring_stacks[0]
        shared = [self.shared_endpoint] if self.shared_endpoint is not None else []
        for stack in [self.platform, *shared, *self.model_stacks.values(), *self.monitoring_stacks]:
            enforce_cloudformation_limits(stack)
        for key, value in {ENVIRONMENT_TAG: config.environment, **config.tags}.items():
            cdk.Tags.of(self).add(key, value)
        for name, stack in self.model_stacks.items():
            # Clients find the deployed models by this tag (inference_platform.deployed).
            cdk.Tags.of(stack).add(MODEL_TAG, name)
