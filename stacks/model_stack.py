"""The stateless half of an environment: one stack per model, serving it in each mode."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from inference_constructs.batch_transform_job import BatchTransformJob
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
        prefix = f"{environment.environment}-{model.name}"
        model_data = model.model_data if model.model_data.startswith("s3://") else f"{base_dir}/{model.model_data}"
        self.inference_model = InferenceModel(
            self,
            "Model",
            name=model.name,
            name_prefix=prefix,
            image=model.image,
            model_data=model_data,
            encryption_key=platform.encryption_key,
            environment=model.environment,
            network=environment.network,
        )
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
        if model.batch is not None:
            self.batch = BatchTransformJob(
                self,
                "Batch",
                model=self.inference_model,
                settings=model.batch,
                bucket=platform.batch_bucket,
                key_prefix=f"{environment.environment}/{model.name}",
                encryption_key=platform.encryption_key,
                notifications_topic=platform.notifications_topic,
                alarms_topic=platform.alarms_topic,
                log_removal_policy=cdk.RemovalPolicy.RETAIN
                if environment.retain_stateful_resources
                else cdk.RemovalPolicy.DESTROY,
            )
            cdk.CfnOutput(self, "BatchStateMachineArn", value=self.batch.state_machine.state_machine_arn)
            cdk.CfnOutput(self, "BatchInputPath", value=self.batch.input_path)
            cdk.CfnOutput(self, "BatchOutputPath", value=self.batch.output_path)
