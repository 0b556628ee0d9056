"""Serverless: an endpoint SageMaker scales per request, with its own VPC-less model."""

from __future__ import annotations

from inference_constructs.dashboard import InferenceDashboard
from inference_constructs.serverless_endpoint import ServerlessEndpoint, ServerlessSettings, serverless_model
from inference_core import modes, outputs
from stacks.modes.base import ModeContext, ModeUnit


class ServerlessUnit(ModeUnit[ServerlessSettings, ServerlessEndpoint]):
    mode = modes.SERVERLESS

    def build(self, context: ModeContext, settings: ServerlessSettings) -> ServerlessEndpoint:
        # SageMaker serves only VPC-less models without network isolation from serverless
        # endpoints, so serverless gets its own copy of the model (and role), whatever `network` says.
        model = serverless_model(context.stack, "ServerlessModel", **context.model_props(context.model.model_data))
        return ServerlessEndpoint(
            context.stack,
            "Serverless",
            model=model,
            encryption_key=context.platform.encryption_key,
            endpoint_name=context.endpoint_name(self.mode),
            settings=settings,
            alarm_topic=context.platform.alarms_topic,
            logs=context.logs,
        )

    def outputs(self, construct: ServerlessEndpoint) -> dict[str, str]:
        return {outputs.SERVERLESS_ENDPOINT_NAME: construct.endpoint_name}

    def add_to_dashboard(
        self, dashboard: InferenceDashboard, construct: ServerlessEndpoint, *, model_name: str
    ) -> None:
        dashboard.add_serverless_endpoint(construct, model_name=model_name)
