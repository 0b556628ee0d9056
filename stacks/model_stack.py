"""The stateless half of an environment: one stack per model, serving it in each mode."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from inference_config.schema import EnvironmentConfig, ModelConfig
from inference_constructs.endpoint import EndpointLogSettings
from inference_constructs.inference_model import ModelImage
from inference_constructs.serial_pipeline import PipelineContainer
from inference_core.modes import registered
from stacks.modes import ModeContext, unit_of
from stacks.platform_stack import PlatformResources


class ModelStack(cdk.Stack):
    """Everything one model needs, in every mode its config asks for (``units``: mode name ->
    its construct, built by the mode's unit in ``stacks/modes/``).

    Only this model's config feeds this template, so changing one model redeploys one stack.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: EnvironmentConfig,
        model: ModelConfig,
        platform: PlatformResources,
        base_dir: str,
        **kwargs: object,
    ) -> None:
        super().__init__(
            scope,
            id,
            description=f"SageMaker inference for model {model.name} ({environment.environment})",
            **kwargs,  # type: ignore[arg-type]
        )
        self._environment, self._model, self._platform, self._base_dir = environment, model, platform, base_dir
        self.model_name = model.name
        context = ModeContext(
            stack=self,
            environment=environment,
            model=model,
            platform=platform,
            # Endpoint logs are data: kept unless the environment opts out (their names are fixed,
            # so a kept group blocks redeploying the same environment until it is deleted).
            logs=EndpointLogSettings(
                retention_days=environment.log_retention_days, retain_on_delete=environment.retain_endpoint_logs
            ),
            model_props=self.model_props,
        )
        # Each mode the config has a block for, in registry order: its construct (each mode runs
        # its own SageMaker model, because the model carries the container's server timeout and
        # workers, and those differ by mode), then its outputs.
        self.units: dict[str, Construct] = {}
        for mode in registered():
            settings = model.settings_of(mode)
            if settings is None:
                continue
            unit = unit_of(mode)
            construct = unit.build(context, settings)
            self.units[mode.name] = construct
            values = unit.outputs(construct)
            required = tuple(key for key in values if key not in mode.optional_outputs)
            if required != mode.outputs or not set(values) <= {*mode.outputs, *mode.optional_outputs}:
                raise ValueError(
                    f"mode {mode.name}: its unit publishes outputs {list(values)}, but inference_core.modes "
                    f"declares {list(mode.outputs)} (and optionally {list(mode.optional_outputs)}); clients read "
                    "the declared ones"
                )
            for key, value in values.items():
                cdk.CfnOutput(self, key, value=value)

    def model_props(self, model_data: str, image: ModelImage | None = None) -> dict[str, Any]:
        """One description of this model (image, environment, key); each SageMaker model built
        from it (VPC, shadow, serverless) differs only in its artifact and network (and a
        weighted variant's in its ``image``, when it has its own)."""
        local = not model_data.startswith("s3://")
        image = image or self._model.image
        if image.dockerfile is not None:  # config paths are relative to the repository root
            image = image.model_copy(update={"dockerfile": f"{self._base_dir}/{image.dockerfile}"})
        return {
            "name": self._model.name,
            "name_prefix": f"{self._environment.environment}-{self._model.name}",
            "image": image,
            "model_data": f"{self._base_dir}/{model_data}" if local else model_data,
            "encryption_key": self._platform.encryption_key,
            "environment": self._model.environment,
            # Only real-time serves multi-model (the config refuses other modes with it).
            **({"multi_model": True} if self._model.multi_model else {}),
            # Only real-time and batch run serial pipelines (the config refuses other modes with one).
            **(
                {"pipeline": [self._local_paths(c) for c in self._model.serial_pipeline]}
                if self._model.serial_pipeline
                else {}
            ),
        }

    def _local_paths(self, container: PipelineContainer) -> PipelineContainer:
        """A pipeline container with its local artifact and Dockerfile under the repository root."""
        image, data = container.image, container.model_data
        if image.dockerfile is not None:
            image = image.model_copy(update={"dockerfile": f"{self._base_dir}/{image.dockerfile}"})
        if data is not None and not data.startswith("s3://"):
            data = f"{self._base_dir}/{data}"
        return container.model_copy(update={"image": image, "model_data": data})
