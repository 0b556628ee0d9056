"""Asynchronous: an endpoint reading requests from and writing results to S3, scaling to zero."""

from __future__ import annotations

from inference_constructs.async_endpoint import AsyncEndpoint, AsyncSettings
from inference_constructs.dashboard import InferenceDashboard
from inference_core import modes, outputs
from stacks.modes.base import ModeContext, ModeUnit


class AsyncUnit(ModeUnit[AsyncSettings, AsyncEndpoint]):
    mode = modes.ASYNC

    def build(self, context: ModeContext, settings: AsyncSettings) -> AsyncEndpoint:
        # Its own SageMaker model: the container's server timeout and workers follow the mode's limits.
        model = context.model_with_server(
            "AsyncModel",
            timeout_seconds=settings.invocation_timeout_seconds,
            workers=settings.max_concurrent_invocations_per_instance,
        )
        return AsyncEndpoint(
            context.stack,
            "Async",
            model=model,
            encryption_key=context.platform.encryption_key,
            async_bucket=context.platform.async_bucket,
            path_prefix=context.model_prefix,
            endpoint_name=context.endpoint_name(self.mode),
            alarm_topic=context.platform.alarms_topic,
            settings=settings,
            data_capture_bucket=context.platform.data_capture_bucket,
            data_capture_prefix=context.data_capture_prefix(self.mode),
            logs=context.logs,
        )

    def outputs(self, construct: AsyncEndpoint) -> dict[str, str]:
        return {
            outputs.ASYNC_ENDPOINT_NAME: construct.endpoint_name,
            outputs.ASYNC_INPUT_PATH: construct.input_path,
            outputs.ASYNC_OUTPUT_PATH: construct.output_path,
            outputs.ASYNC_FAILURE_PATH: construct.failure_path,
            outputs.ASYNC_SUCCESS_TOPIC_ARN: construct.success_topic.topic_arn,
            outputs.ASYNC_ERROR_TOPIC_ARN: construct.error_topic.topic_arn,
            # Clients pass it with each request: SageMaker takes the timeout per invocation.
            outputs.ASYNC_INVOCATION_TIMEOUT_SECONDS: str(construct.invocation_timeout_seconds),
        }

    def add_to_dashboard(self, dashboard: InferenceDashboard, construct: AsyncEndpoint, *, model_name: str) -> None:
        dashboard.add_async_endpoint(construct, model_name=model_name)
