"""The stateless half of an environment: one stack per model, serving it in each mode."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from inference_constructs.async_endpoint import AsyncEndpoint
from inference_constructs.batch_transform_job import BatchTransformJob
from inference_constructs.endpoint import EndpointLogSettings
from inference_constructs.inference_model import InferenceModel, ModelServer
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from inference_constructs.serverless_endpoint import ServerlessEndpoint, serverless_model
from inference_core import outputs
from inference_core.naming import ASYNC, REALTIME, SERVERLESS, endpoint_name
from inference_core.s3 import data_capture_prefix, model_prefix
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
        self.model_name = model.name
        self.realtime: RealtimeEndpoint | None = None
        self.serverless: ServerlessEndpoint | None = None
        self.async_endpoint: AsyncEndpoint | None = None
        self.batch: BatchTransformJob | None = None
        # Endpoint logs are data: kept unless the environment opts out (their names are fixed, so a
        # kept group blocks redeploying the same environment until it is deleted).
        logs = EndpointLogSettings(
            retention_days=environment.log_retention_days, retain_on_delete=environment.retain_endpoint_logs
        )
        # Each mode runs its own SageMaker model, because the model carries the container's
        # server timeout and workers, and those differ by mode (ModelServer). Real-time (and
        # its shadow) keeps the construct id it always had, so its resources keep their names.
        self.inference_model: InferenceModel | None = None
        if model.realtime is not None:
            self.inference_model = InferenceModel(
                self, "Model", network=environment.network, **self._model_props(model.model_data)
            )
            shadow = model.realtime.shadow
            self.realtime = RealtimeEndpoint(
                self,
                "Realtime",
                model=self.inference_model,
                encryption_key=platform.encryption_key,
                endpoint_name=endpoint_name(environment.environment, model.name, REALTIME),
                settings=model.realtime,
                alarm_topic=platform.alarms_topic,
                data_capture_bucket=platform.data_capture_bucket,
                data_capture_prefix=data_capture_prefix(environment.environment, model.name, REALTIME),
                shadow_model=InferenceModel(
                    self, "ShadowModel", network=environment.network, **self._model_props(shadow.model_data)
                )
                if shadow
                else None,
                logs=logs,
            )
            cdk.CfnOutput(self, outputs.REALTIME_ENDPOINT_NAME, value=self.realtime.endpoint_name)
        if model.serverless is not None:
            # SageMaker serves only VPC-less models without network isolation from serverless
            # endpoints, so serverless gets its own copy of the model (and role), whatever `network` says.
            self.serverless_model = serverless_model(self, "ServerlessModel", **self._model_props(model.model_data))
            self.serverless = ServerlessEndpoint(
                self,
                "Serverless",
                model=self.serverless_model,
                encryption_key=platform.encryption_key,
                endpoint_name=endpoint_name(environment.environment, model.name, SERVERLESS),
                settings=model.serverless,
                alarm_topic=platform.alarms_topic,
                logs=logs,
            )
            cdk.CfnOutput(self, outputs.SERVERLESS_ENDPOINT_NAME, value=self.serverless.endpoint_name)

        if model.async_ is not None:
            self.async_model = InferenceModel(
                self,
                "AsyncModel",
                network=environment.network,
                server=ModelServer(
                    timeout_seconds=model.async_.invocation_timeout_seconds,
                    workers=model.async_.max_concurrent_invocations_per_instance,
                ),
                **self._model_props(model.model_data),
            )
            self.async_endpoint = AsyncEndpoint(
                self,
                "Async",
                model=self.async_model,
                encryption_key=platform.encryption_key,
                async_bucket=platform.async_bucket,
                path_prefix=model_prefix(environment.environment, model.name),
                endpoint_name=endpoint_name(environment.environment, model.name, ASYNC),
                alarm_topic=platform.alarms_topic,
                settings=model.async_,
                data_capture_bucket=platform.data_capture_bucket,
                data_capture_prefix=data_capture_prefix(environment.environment, model.name, ASYNC),
                logs=logs,
            )
            for key, value in (
                (outputs.ASYNC_ENDPOINT_NAME, self.async_endpoint.endpoint_name),
                (outputs.ASYNC_INPUT_PATH, self.async_endpoint.input_path),
                (outputs.ASYNC_OUTPUT_PATH, self.async_endpoint.output_path),
                (outputs.ASYNC_FAILURE_PATH, self.async_endpoint.failure_path),
                (outputs.ASYNC_SUCCESS_TOPIC_ARN, self.async_endpoint.success_topic.topic_arn),
                (outputs.ASYNC_ERROR_TOPIC_ARN, self.async_endpoint.error_topic.topic_arn),
                (outputs.ASYNC_INVOCATION_TIMEOUT_SECONDS, str(self.async_endpoint.invocation_timeout_seconds)),
            ):
                cdk.CfnOutput(self, key, value=value)

        if model.batch is not None:
            self.batch_model = InferenceModel(
                self,
                "BatchModel",
                network=environment.network,
                server=ModelServer(
                    timeout_seconds=model.batch.model_client.invocations_timeout_seconds,
                    workers=model.batch.max_concurrent_transforms or 1,  # SageMaker's default is 1
                ),
                **self._model_props(model.model_data),
            )
            self.batch = BatchTransformJob(
                self,
                "Batch",
                model=self.batch_model,
                settings=model.batch,
                bucket=platform.batch_bucket,
                key_prefix=model_prefix(environment.environment, model.name),
                encryption_key=platform.encryption_key,
                notifications_topic=platform.notifications_topic,
                alarms_topic=platform.alarms_topic,
                log_removal_policy=cdk.RemovalPolicy.RETAIN
                if environment.retain_stateful_resources
                else cdk.RemovalPolicy.DESTROY,
            )
            cdk.CfnOutput(self, outputs.BATCH_STATE_MACHINE_ARN, value=self.batch.state_machine.state_machine_arn)
            cdk.CfnOutput(self, outputs.BATCH_INPUT_PATH, value=self.batch.input_path)
            cdk.CfnOutput(self, outputs.BATCH_OUTPUT_PATH, value=self.batch.output_path)

    def _model_props(self, model_data: str) -> dict[str, Any]:
        """One description of this model (image, environment, key); each SageMaker model built
        from it (VPC, shadow, serverless) differs only in its artifact and network."""
        local = not model_data.startswith("s3://")
        image = self._model.image
        if image.dockerfile is not None:  # config paths are relative to the repository root
            image = image.model_copy(update={"dockerfile": f"{self._base_dir}/{image.dockerfile}"})
        return {
            "name": self._model.name,
            "name_prefix": f"{self._environment.environment}-{self._model.name}",
            "image": image,
            "model_data": f"{self._base_dir}/{model_data}" if local else model_data,
            "encryption_key": self._platform.encryption_key,
            "environment": self._model.environment,
        }
