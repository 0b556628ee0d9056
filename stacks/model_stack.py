"""The stateless half of an environment: one stack per model, serving it in each mode."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from inference_constructs.inference_model import InferenceModel
from inference_constructs.naming import endpoint_name
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from inference_platform.config_schema import EnvironmentConfig, ModelConfig
from stacks.platform_stack import PlatformResources


class ModelStack(cdk.Stack):
    """Everything one model needs, in every mode its config asks for.

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
        self.inference_model = self._inference_model("Model", model.model_data)
        if model.realtime is not None:
            shadow = model.realtime.shadow
            self.realtime = RealtimeEndpoint(
                self,
                "Realtime",
                model=self.inference_model,
                encryption_key=platform.encryption_key,
                endpoint_name=endpoint_name(environment.environment, model.name, "realtime"),
                settings=model.realtime,
                alarm_topic=platform.alarms_topic,
                data_capture_bucket=platform.data_capture_bucket,
                data_capture_prefix=f"{environment.environment}/{model.name}/realtime/",
                shadow_model=self._inference_model("ShadowModel", shadow.model_data) if shadow else None,
            )
            cdk.CfnOutput(self, "RealtimeEndpointName", value=self.realtime.endpoint_name)

    def _inference_model(self, id: str, model_data: str) -> InferenceModel:
        """A SageMaker model of this model's image and environment, placed in the environment's network."""
        local = not model_data.startswith("s3://")
        return InferenceModel(
            self,
            id,
            name=self._model.name,
            name_prefix=f"{self._environment.environment}-{self._model.name}",
            image=self._model.image,
            model_data=f"{self._base_dir}/{model_data}" if local else model_data,
            encryption_key=self._platform.encryption_key,
            environment=self._model.environment,
            network=self._environment.network,
        )
