"""The stateless half of an environment: one stack per model, serving it in each mode."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from inference_constructs.inference_model import InferenceModel
from inference_constructs.naming import endpoint_name
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from inference_constructs.serverless_endpoint import ServerlessEndpoint, serverless_model
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
        prefix = f"{environment.environment}-{model.name}"
        model_data = model.model_data if model.model_data.startswith("s3://") else f"{base_dir}/{model.model_data}"
        # One description of the model; each network variant of it is built from these props.
        model_props: dict[str, Any] = {
            "name": model.name,
            "name_prefix": prefix,
            "image": model.image,
            "model_data": model_data,
            "encryption_key": platform.encryption_key,
            "environment": model.environment,
        }
        self.inference_model = InferenceModel(self, "Model", network=environment.network, **model_props)
        if model.realtime is not None:
            self.realtime = RealtimeEndpoint(
                self,
                "Realtime",
                model=self.inference_model,
                encryption_key=platform.encryption_key,
                endpoint_name=endpoint_name(environment.environment, model.name, "realtime"),
                settings=model.realtime,
            )
            cdk.CfnOutput(self, "RealtimeEndpointName", value=self.realtime.endpoint_name)
        if model.serverless is not None:
            # SageMaker serves only VPC-less models without network isolation from serverless
            # endpoints, so serverless gets its own copy of the model (and role), whatever `network` says.
            self.serverless_model = serverless_model(self, "ServerlessModel", **model_props)
            self.serverless = ServerlessEndpoint(
                self,
                "Serverless",
                model=self.serverless_model,
                encryption_key=platform.encryption_key,
                endpoint_name=endpoint_name(environment.environment, model.name, "serverless"),
                settings=model.serverless,
            )
            cdk.CfnOutput(self, "ServerlessEndpointName", value=self.serverless.endpoint_name)
