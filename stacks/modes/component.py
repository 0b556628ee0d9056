"""Inference component: the model's share of the environment's shared endpoint."""

from __future__ import annotations

from inference_constructs.dashboard import LATENCY_PERCENTILES, InferenceDashboard
from inference_constructs.dashboard import threshold_line as _line
from inference_constructs.inference_component import ComponentSettings, InferenceComponent
from inference_constructs.inference_model import InferenceModel
from inference_core import modes, outputs
from inference_core.naming import shared_endpoint_name
from stacks.modes.base import ModeContext, ModeUnit


class ComponentUnit(ModeUnit[ComponentSettings, InferenceComponent]):
    mode = modes.COMPONENT

    def build(self, context: ModeContext, settings: ComponentSettings) -> InferenceComponent:
        shared = context.environment.shared_endpoint
        # The config refuses a component block without a shared endpoint; a construct-level
        # caller gets the same answer here instead of a component on a missing endpoint.
        if shared is None:
            raise ValueError(
                f"model {context.model.name}: an inference component needs the environment's shared_endpoint"
            )
        stack = context.stack
        model = InferenceModel(
            stack,
            "ComponentModel",
            network=context.environment.network,
            **context.model_props(context.model.model_data),
        )
        model.check_runs_on(shared.instance_type)
        return InferenceComponent(
            stack,
            "Component",
            component_name=context.endpoint_name(self.mode),
            endpoint_name=shared_endpoint_name(context.environment.environment),
            variant_name=shared.variant_name,
            model=model,
            settings=settings,
            alarm_topic=context.platform.alarms_topic,
        )

    def outputs(self, construct: InferenceComponent) -> dict[str, str]:
        return {
            outputs.COMPONENT_NAME: construct.component_name,
            outputs.COMPONENT_ENDPOINT_NAME: construct.endpoint_name,
        }

    def add_to_dashboard(
        self, dashboard: InferenceDashboard, construct: InferenceComponent, *, model_name: str
    ) -> None:
        thresholds = construct.settings.alarms
        scaling = construct.settings.autoscaling
        dashboard.add_heading(model_name, "inference component", construct.component_name)
        dashboard.add_widgets(
            dashboard.graph(
                "Invocations",
                [
                    construct.metric("Invocations", statistic="Sum", label="invocations"),
                    construct.metric("NoCapacityInvocationFailures", statistic="Sum", label="no copy to serve"),
                ],
            ),
            dashboard.graph(
                "Errors",
                [
                    construct.metric("Invocation5XXErrors", statistic="Sum", label="5XX"),
                    construct.metric("Invocation4XXErrors", statistic="Sum", label="4XX"),
                ],
                annotations=[_line(thresholds.invocation_5xx_errors, "5XX alarm")],
            ),
            dashboard.graph(
                "Model latency (microseconds)",
                [construct.metric("ModelLatency", statistic=p, label=f"model {p}") for p in LATENCY_PERCENTILES],
                annotations=[_line(thresholds.model_latency_p99_milliseconds * 1000, "p99 alarm")],
            ),
            dashboard.graph(
                "Copies",
                [construct.metric("InvocationsPerCopy", statistic="Sum", label="invocations per copy")],
                annotations=[_line(scaling.target_invocations_per_copy, "scaling target")] if scaling else [],
            ),
        )
        dashboard.add_alarms_of(construct)
