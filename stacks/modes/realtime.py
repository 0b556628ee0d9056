"""Real-time: an instance-backed endpoint (and its optional shadow variant)."""

from __future__ import annotations

from typing import Any

from inference_constructs.dashboard import InferenceDashboard
from inference_constructs.inference_model import InferenceModel
from inference_constructs.realtime_endpoint import RealtimeEndpoint, RealtimeSettings, WeightedVariantSettings
from inference_core import modes, outputs
from stacks.modes.base import ModeContext, ModeUnit


def variant_model_props(context: ModeContext, variant: WeightedVariantSettings) -> dict[str, Any]:
    """The model's description for a weighted variant: its own model version and image, where it names them."""
    return context.model_props(variant.model_data or context.model.model_data, variant.image)


class RealtimeUnit(ModeUnit[RealtimeSettings, RealtimeEndpoint]):
    mode = modes.REALTIME

    def build(self, context: ModeContext, settings: RealtimeSettings) -> RealtimeEndpoint:
        # Real-time (and its shadow) keeps the construct ids it always had ("Model", not
        # "RealtimeModel"), so its resources keep their logical ids.
        stack, network = context.stack, context.environment.network
        shadow = settings.shadow
        return RealtimeEndpoint(
            stack,
            "Realtime",
            model=InferenceModel(stack, "Model", network=network, **context.model_props(context.model.model_data)),
            encryption_key=context.platform.encryption_key,
            endpoint_name=context.endpoint_name(self.mode),
            settings=settings,
            alarm_topic=context.platform.alarms_topic,
            data_capture_bucket=context.platform.data_capture_bucket,
            data_capture_prefix=context.data_capture_prefix(self.mode),
            shadow_model=InferenceModel(stack, "ShadowModel", network=network, **context.model_props(shadow.model_data))
            if shadow
            else None,
            logs=context.logs,
            variant_models={
                variant.variant_name: InferenceModel(
                    stack,
                    f"Variant{variant.variant_name}Model",
                    network=network,
                    **variant_model_props(context, variant),
                )
                for variant in settings.variants
            },
        )

    def outputs(self, construct: RealtimeEndpoint) -> dict[str, str]:
        streaming = {outputs.REALTIME_RESPONSE_STREAMING: "text-generation"} if construct.model.streams_text else {}
        return {outputs.REALTIME_ENDPOINT_NAME: construct.endpoint_name, **streaming}

    def add_to_dashboard(self, dashboard: InferenceDashboard, construct: RealtimeEndpoint, *, model_name: str) -> None:
        dashboard.add_realtime_endpoint(construct, model_name=model_name)
