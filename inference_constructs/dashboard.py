"""``InferenceDashboard``: one CloudWatch dashboard for an environment's models.

Every endpoint and batch job gets a titled row under its model's heading; an alarm status
widget at the top lists every health alarm added. Endpoint metrics and alarms are addressed
by their stable names (``prod-iris-realtime``, ``prod-iris-realtime-ModelLatency``), so a
dashboard in a stack of its own needs no cross-stack export from the model stacks.

Why not ``cdk-monitoring-constructs``: it has no SageMaker endpoint monitoring (every
widget here would be its "custom" monitoring), and it loads a further ~1 MB jsii assembly
on every synth. See docs/observability.md, "The dashboard".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from inference_constructs.async_endpoint import AsyncEndpoint
from inference_constructs.endpoint import EndpointBase, InstanceBackedEndpoint
from inference_constructs.gpu_alarms import GpuThresholds
from inference_constructs.instance_types import gpus_of
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from inference_constructs.serverless_endpoint import ServerlessEndpoint

# CloudWatch shows at most 100 alarms in one alarm status widget.
MAX_ALARMS_PER_WIDGET = 100
GRID_WIDTH = 24
GRAPH_HEIGHT = 6
ALARM_WIDGET_HEIGHT = 4
LATENCY_PERCENTILES = ("p50", "p90", "p99")


class AlarmSource(Protocol):
    """Anything with named health alarms (every endpoint construct, the batch job)."""

    @property
    def alarm_names(self) -> Mapping[str, str]: ...


class BatchJobMetrics(Protocol):
    """What the dashboard needs from a batch job: its state machine's name and execution metrics."""

    @property
    def state_machine_name(self) -> str: ...

    @property
    def alarm_names(self) -> Mapping[str, str]: ...

    def metric_executions_succeeded(self, **props: Any) -> cloudwatch.IMetric: ...

    def metric_executions_failed(self, **props: Any) -> cloudwatch.IMetric: ...

    def metric_executions_timed_out(self, **props: Any) -> cloudwatch.IMetric: ...


class InferenceDashboard(Construct):
    """A CloudWatch dashboard of inference endpoints and batch jobs, in rows per model.

    Add each mode's construct with one call; the row shows invocations, errors, latency
    percentiles (p50/p90/p99) and, per mode, instances against the autoscaling bounds (real-time,
    async), cold starts and concurrency (serverless), backlog (async) or execution outcomes
    (batch). Every endpoint's health alarms join the alarm status widget at the top.

    :param dashboard_name: The dashboard's name (unique in the account: include the environment
        and region).
    :param title: Markdown heading shown at the top, e.g. ``Inference: prod``.
    """

    def __init__(self, scope: Construct, id: str, *, dashboard_name: str, title: str) -> None:
        super().__init__(scope, id)
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name, default_interval=cdk.Duration.hours(3)
        )
        self.dashboard_name = dashboard_name
        self.alarms: list[cloudwatch.IAlarm] = []
        self._models: list[str] = []
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# {title}\n"
                "Rows per model and mode. Latency in microseconds (model and overhead latency) or milliseconds "
                "(async processing); counts per minute unless a widget says otherwise.",
                width=GRID_WIDTH,
                height=2,
            )
        )
        # Rendered at synth, so that alarms added after this point are listed too.
        self.dashboard.add_widgets(_AlarmStatusSummary(self.alarms, title="Alarms"))

    # Rows ----------------------------------------------------------------------------------

    def add_realtime_endpoint(self, endpoint: RealtimeEndpoint, *, model_name: str) -> None:
        """A real-time endpoint: invocations, errors, model latency and instances (with its shadow variant's)."""
        shadow = endpoint.shadow_variant_name
        weighted = endpoint.weighted_variant_names
        # Weighted variants: every line names its variant, so they compare side by side.
        variants: list[str | None] = (
            [endpoint.variant_name, *weighted] if weighted else [None, shadow] if shadow else [None]
        )
        thresholds = endpoint.settings.alarms
        self._heading(model_name, "real-time", endpoint)
        self.dashboard.add_widgets(
            self._graph(
                "Invocations",
                [endpoint.metric_invocations(label=_label("invocations", v), variant_name=v) for v in variants],
            ),
            self._graph(
                "Errors",
                [
                    metric
                    for v in variants
                    for metric in (
                        endpoint.metric_invocation_5xx_errors(label=_label("5XX", v), variant_name=v),
                        endpoint.metric_invocation_4xx_errors(label=_label("4XX", v), variant_name=v),
                    )
                ],
                annotations=[_line(thresholds.invocation_5xx_errors, "5XX alarm")],
            ),
            self._graph(
                "Model latency (microseconds)",
                [
                    endpoint.metric_model_latency(p, label=_label(f"model {p}", v), variant_name=v)
                    for v in variants
                    for p in LATENCY_PERCENTILES
                ],
                annotations=[_line(thresholds.model_latency_p99_milliseconds * 1000, "p99 alarm")],
            ),
            self._instances(endpoint),
        )
        self._add_gpus(
            endpoint,
            endpoint.settings.instance_type,
            thresholds,
            # What SageMaker adds on top of the model: on LLM endpoints, queueing in front of busy instances.
            self._graph(
                "Overhead latency (microseconds)",
                [endpoint.metric_overhead_latency(p, label=f"overhead {p}") for p in LATENCY_PERCENTILES],
            ),
        )
        if weighted:
            self.dashboard.add_widgets(*_variant_comparison(endpoint, [endpoint.variant_name, *weighted]))
        if endpoint.model.multi_model:
            self.dashboard.add_widgets(*_multi_model_row(endpoint))
        self._add_alarms_of(endpoint)

    def _add_gpus(
        self,
        endpoint: InstanceBackedEndpoint,
        instance_type: str,
        thresholds: GpuThresholds,
        *more: cloudwatch.IWidget,
    ) -> None:
        """GPU and GPU memory utilization, per GPU as CloudWatch reports them, on GPU instance
        types, then ``more`` widgets on the same row."""
        gpus = gpus_of(instance_type)
        if gpus == 0:
            return
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=f"GPU utilization (%, 100 per GPU; {gpus} GPU(s) per instance)",
                left=[
                    endpoint.metric_gpu_utilization(label="GPU"),
                    endpoint.metric_gpu_memory_utilization(label="GPU memory"),
                ],
                left_annotations=[
                    _line(thresholds.gpu_utilization_percent * gpus, "GPU alarm"),
                    _line(thresholds.gpu_memory_utilization_percent * gpus, "GPU memory alarm"),
                ],
                left_y_axis=cloudwatch.YAxisProps(min=0, max=100 * gpus, show_units=False),
                width=GRID_WIDTH // 4,
                height=GRAPH_HEIGHT,
            ),
            *more,
        )

    def add_serverless_endpoint(self, endpoint: ServerlessEndpoint, *, model_name: str) -> None:
        """A serverless endpoint: invocations, errors, latency with overhead, cold starts and concurrency."""
        thresholds = endpoint.settings.alarms
        self._heading(model_name, "serverless", endpoint)
        self.dashboard.add_widgets(
            self._graph("Invocations", [endpoint.metric_invocations(label="invocations")]),
            self._graph(
                "Errors",
                [
                    endpoint.metric_invocation_5xx_errors(label="5XX"),
                    endpoint.metric_invocation_4xx_errors(label="4XX"),
                ],
                annotations=[_line(thresholds.invocation_5xx_errors, "5XX alarm")],
            ),
            self._graph(
                "Latency (microseconds)",
                [
                    *(endpoint.metric_model_latency(p, label=f"model {p}") for p in LATENCY_PERCENTILES),
                    endpoint.metric_overhead_latency("p99", label="overhead p99 (cold starts)"),
                ],
                annotations=[_line(thresholds.overhead_latency_p99_milliseconds * 1000, "overhead alarm")],
            ),
            cloudwatch.GraphWidget(
                title="Cold starts and concurrency",
                left=[endpoint.metric_cold_starts(label="cold starts")],
                right=[endpoint.metric_concurrent_executions_utilization(label="concurrency used / max")],
                right_annotations=[
                    _line(thresholds.concurrent_executions_utilization, "throttling alarm"),
                    _line(1, "throttled"),
                ],
                left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                right_y_axis=cloudwatch.YAxisProps(min=0, max=1, show_units=False),
                width=GRID_WIDTH // 4,
                height=GRAPH_HEIGHT,
            ),
        )
        self._add_alarms_of(endpoint)

    def add_async_endpoint(self, endpoint: AsyncEndpoint, *, model_name: str) -> None:
        """An async endpoint: requests processed and failed, backlog, processing time and instances."""
        thresholds = endpoint.settings.alarms
        self._heading(model_name, "async", endpoint)
        self.dashboard.add_widgets(
            self._graph(
                "Requests processed and failed",
                [
                    endpoint.metric_invocations_processed(label="processed"),
                    endpoint.metric_invocation_failures(label="failed"),
                ],
                annotations=[_line(thresholds.invocation_failures, "failures alarm")],
            ),
            cloudwatch.GraphWidget(
                title="Backlog",
                left=[endpoint.metric_approximate_backlog_size(statistic="Maximum", label="queued requests")],
                right=[endpoint.metric_approximate_age_of_oldest_request(label="oldest request age (s)")],
                left_annotations=[_line(thresholds.backlog_size, "backlog alarm")],
                right_annotations=[_line(thresholds.oldest_request_age_seconds, "age alarm")],
                left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                right_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                width=GRID_WIDTH // 4,
                height=GRAPH_HEIGHT,
            ),
            self._graph(
                "Processing time (milliseconds)",
                [
                    *(endpoint.metric_total_processing_time(p, label=f"total {p}") for p in LATENCY_PERCENTILES),
                    endpoint.metric_time_in_backlog("p99", label="in backlog p99"),
                ],
            ),
            self._instances(endpoint),
        )
        self._add_gpus(endpoint, endpoint.settings.instance_type, thresholds)
        self._add_alarms_of(endpoint)

    def add_batch_job(self, job: BatchJobMetrics, *, model_name: str) -> None:
        """A batch transform job: its state machine's succeeded, failed and timed-out executions.

        :param job: Anything exposing ``state_machine_name``, ``alarm_names`` and
            ``metric_executions_succeeded()``, ``metric_executions_failed()``, ``metric_executions_timed_out()``.
        """
        outcomes = [
            job.metric_executions_succeeded(label="succeeded"),
            job.metric_executions_failed(label="failed"),
            job.metric_executions_timed_out(label="timed out"),
        ]
        self._model_heading(model_name)
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"### {model_name} · batch transform · `{job.state_machine_name}`",
                width=GRID_WIDTH,
                height=1,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Executions",
                left=outcomes,
                stacked=True,
                left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                width=GRID_WIDTH // 2,
                height=GRAPH_HEIGHT,
            ),
            cloudwatch.SingleValueWidget(
                title="Executions in the time range",
                metrics=outcomes,
                set_period_to_time_range=True,
                width=GRID_WIDTH // 2,
                height=GRAPH_HEIGHT,
            ),
        )
        self._add_alarms_of(job)

    # Helpers -------------------------------------------------------------------------------

    def _model_heading(self, model_name: str) -> None:
        if model_name not in self._models:
            self._models.append(model_name)
            self.dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"## Model {model_name}", width=24, height=1))

    def _heading(self, model_name: str, mode: str, endpoint: EndpointBase) -> None:
        self.add_heading(model_name, mode, endpoint.endpoint_name)

    def add_heading(self, model_name: str, mode: str, name: str) -> None:
        """A row's heading (``### iris · async · `prod-iris-async```), under its model's heading."""
        self._model_heading(model_name)
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown=f"### {model_name} · {mode} · `{name}`", width=GRID_WIDTH, height=1)
        )

    @staticmethod
    def _graph(
        title: str,
        metrics: Sequence[cloudwatch.IMetric],
        *,
        annotations: Sequence[cloudwatch.HorizontalAnnotation] = (),
    ) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(
            title=title,
            left=list(metrics),
            left_annotations=list(annotations) or None,
            left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
            width=GRID_WIDTH // 4,
            height=GRAPH_HEIGHT,
        )

    @staticmethod
    def _instances(endpoint: InstanceBackedEndpoint) -> cloudwatch.GraphWidget:
        low, high = endpoint.capacity_bounds
        return cloudwatch.GraphWidget(
            title="Instances in service",
            left=[endpoint.metric_instances_reporting()],
            left_annotations=[_line(high, f"max {high}"), _line(low, f"min {low}")],
            left_y_axis=cloudwatch.YAxisProps(min=0, max=high + 1, show_units=False),
            width=GRID_WIDTH // 4,
            height=GRAPH_HEIGHT,
        )

    def _add_alarms_of(self, source: AlarmSource) -> None:
        # By name, in this stack: the alarms' generated ARNs would need exports from the model stack.
        for name in source.alarm_names.values():
            self.alarms.append(cloudwatch.Alarm.from_alarm_name(self, name, name))

    # What a mode's unit (stacks/modes/) builds a row of its own from, besides add_heading.
    graph = _graph
    instances = _instances
    add_alarms_of = _add_alarms_of


def _label(what: str, variant: str | None) -> str:
    return f"{what} ({variant})" if variant else what


def _line(value: float, label: str) -> cloudwatch.HorizontalAnnotation:
    return cloudwatch.HorizontalAnnotation(value=value, label=label)


# A threshold line on a graph, for the rows mode units build themselves (stacks/modes/).
threshold_line = _line


@jsii.implements(cloudwatch.IWidget)
class _AlarmStatusSummary:
    """Alarm status widgets for every alarm in ``alarms`` at synth time (up to 100 per widget).

    A plain ``AlarmStatusWidget`` copies its alarm list when constructed; this one is laid out
    and rendered when the dashboard is synthesized, so rows added later contribute their alarms.
    """

    def __init__(self, alarms: list[cloudwatch.IAlarm], *, title: str) -> None:
        self._alarms = alarms
        self._title = title
        self._x = 0
        self._y = 0

    @property
    def _chunks(self) -> list[list[cloudwatch.IAlarm]]:
        count = max(1, math.ceil(len(self._alarms) / MAX_ALARMS_PER_WIDGET))
        return [self._alarms[i * MAX_ALARMS_PER_WIDGET : (i + 1) * MAX_ALARMS_PER_WIDGET] for i in range(count)]

    @property
    def width(self) -> jsii.Number:
        return GRID_WIDTH

    @property
    def height(self) -> jsii.Number:
        return ALARM_WIDGET_HEIGHT * len(self._chunks)

    @property
    def warnings(self) -> list[str] | None:
        return None

    @property
    def warnings_v2(self) -> dict[str, str] | None:
        return None

    def position(self, x: jsii.Number, y: jsii.Number) -> None:
        self._x, self._y = int(x), int(y)

    def to_json(self) -> list[Any]:
        rendered: list[Any] = []
        for index, chunk in enumerate(self._chunks):
            if chunk:
                widget: cloudwatch.IWidget = cloudwatch.AlarmStatusWidget(
                    alarms=chunk,
                    title=self._title if index == 0 else f"{self._title} ({index + 1})",
                    width=GRID_WIDTH,
                    height=ALARM_WIDGET_HEIGHT,
                    sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
                )
            else:
                widget = cloudwatch.TextWidget(
                    markdown=f"**{self._title}**: no alarms added yet", width=GRID_WIDTH, height=ALARM_WIDGET_HEIGHT
                )
            widget.position(self._x, self._y + index * ALARM_WIDGET_HEIGHT)
            rendered.extend(widget.to_json())
        return rendered


def _variant_comparison(endpoint: RealtimeEndpoint, variants: list[str]) -> list[cloudwatch.IWidget]:
    """An A/B row: each variant's share of requests (what its weight gives it) and its instances."""
    ids = {variant: f"v{index}" for index, variant in enumerate(variants)}
    invocations = {ids[v]: endpoint.metric_invocations(variant_name=v) for v in variants}
    total = " + ".join(f"FILL({i}, 0)" for i in ids.values())
    shares = [
        cloudwatch.MathExpression(
            expression=f"IF(({total}) > 0, 100 * FILL({ids[v]}, 0) / ({total}), 0)",
            using_metrics=invocations,
            label=f"share of requests (%) ({v})",
            period=cdk.Duration.minutes(1),
        )
        for v in variants
    ]
    return [
        cloudwatch.GraphWidget(
            title="Requests per variant (%)",
            left=shares,
            left_y_axis=cloudwatch.YAxisProps(min=0, max=100, show_units=False),
            width=GRID_WIDTH // 2,
            height=GRAPH_HEIGHT,
        ),
        cloudwatch.GraphWidget(
            title="Instances in service per variant",
            left=[endpoint.metric_instances_reporting(variant_name=v, label=_label("instances", v)) for v in variants],
            left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
            width=GRID_WIDTH // 2,
            height=GRAPH_HEIGHT,
        ),
    ]


def _multi_model_row(endpoint: RealtimeEndpoint) -> list[cloudwatch.IWidget]:
    """A multi-model endpoint's row: models loaded against cache hits, and the wait for loading."""
    thresholds = endpoint.settings.alarms
    return [
        cloudwatch.GraphWidget(
            title="Models loaded and cache hits",
            left=[endpoint.metric_loaded_model_count(label="models loaded")],
            right=[endpoint.metric_model_cache_hit(label="requests finding their model loaded (ratio)")],
            right_annotations=[_line(thresholds.model_cache_hit_percent / 100, "cache hit alarm")],
            left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
            right_y_axis=cloudwatch.YAxisProps(min=0, max=1, show_units=False),
            width=GRID_WIDTH // 2,
            height=GRAPH_HEIGHT,
        ),
        cloudwatch.GraphWidget(
            title="Model loading wait (microseconds)",
            left=[endpoint.metric_model_loading_wait_time(p, label=f"loading wait {p}") for p in LATENCY_PERCENTILES],
            left_annotations=[_line(thresholds.model_loading_wait_p99_milliseconds * 1000, "p99 alarm")],
            left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
            width=GRID_WIDTH // 2,
            height=GRAPH_HEIGHT,
        ),
    ]
