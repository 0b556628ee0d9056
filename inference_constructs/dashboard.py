"""``InferenceDashboard``: one CloudWatch dashboard for an environment's models.

Every endpoint and batch job gets a titled row under its model's heading; an alarm status
widget at the top lists every health alarm added. Endpoint metrics and alarms are addressed
by their stable names (``prod-iris-realtime``, ``prod-iris-realtime-ModelLatency``), so a
dashboard in a stack of its own needs no cross-stack export from the model stacks.

Why not ``cdk-monitoring-constructs``: it has no SageMaker endpoint monitoring (every
widget here would be its "custom" monitoring), and it loads a further ~1 MB jsii assembly
on every synth. See docs/observability.md, "The dashboard".

The widgets are laid out and rendered in Python, the way CDK's own widgets render (same JSON,
same order of keys), and handed to the CDK ``Dashboard`` as one widget at synth: a
``cloudwatch.GraphWidget`` and its ``cloudwatch.Metric`` objects cost jsii round trips each
(about 550 per synth of the shipped app), the Python rows none. Metrics are described with
:class:`MetricSpec` (the endpoints' ``metric_spec()``, as their alarms are). A graph of other
``IMetric`` objects, or any other ``IWidget``, is still a CDK widget, rendered by CDK in its place.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from inference_constructs.alarms import MetricSpec
from inference_constructs.async_endpoint import AsyncEndpoint
from inference_constructs.batch.alarms import EXECUTION_METRIC_PERIOD_MINUTES, execution_metric_spec
from inference_constructs.batch_transform_job import BatchTransformJob
from inference_constructs.endpoint import INSTANCE_NAMESPACE, EndpointBase, InstanceBackedEndpoint, alarm_arn
from inference_constructs.gpu_alarms import GpuThresholds
from inference_constructs.instance_types import gpus_of
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from inference_constructs.serverless_endpoint import ServerlessEndpoint
from inference_constructs.stack_values import stack_values

# CloudWatch shows at most 100 alarms in one alarm status widget.
MAX_ALARMS_PER_WIDGET = 100
GRID_WIDTH = 24
GRAPH_HEIGHT = 6
ALARM_WIDGET_HEIGHT = 4
LATENCY_PERCENTILES = ("p50", "p90", "p99")
# CloudWatch's default period: CDK leaves it out of a graph's metric.
_DEFAULT_PERIOD_SECONDS = 300


@functools.cache
def _three_hours() -> cdk.Duration:
    # Made once per process (a jsii round trip each): the dashboards' default time range.
    return cdk.Duration.hours(3)


@functools.cache
def _region() -> str:
    # What a CDK graph shows when given no region: the deploying stack's (a token).
    return cdk.Aws.REGION


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


# Metrics drawn in Python ------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A metric drawn on a graph: a :class:`MetricSpec` and its label."""

    metric: MetricSpec
    label: str | None = None

    def key(self) -> str:
        # CDK's metricKey: two lines with the same key are drawn once (the first one's label).
        m = self.metric
        return "|".join([m.namespace, m.metric_name, *_flat(_sorted_dimensions(m)), m.statistic, str(m.period_seconds)])

    def to_metric(self) -> cloudwatch.Metric:
        """The same line as a ``cloudwatch.Metric`` (for a graph CDK renders)."""
        return self.metric.to_metric(label=self.label) if self.label is not None else self.metric.to_metric()


@dataclass(frozen=True)
class Expression:
    """A metric math line (``cloudwatch.MathExpression`` described in Python)."""

    expression: str
    using: Mapping[str, MetricSpec]
    label: str | None = None
    period_seconds: int = 60

    def key(self) -> str:
        parts = [self.expression]
        for id in sorted(self.using):
            parts += [id, Line(self.using[id]).key()]
        return "|".join(parts)


GraphMetric = Line | Expression | cloudwatch.IMetric


def _sorted_dimensions(metric: MetricSpec) -> list[tuple[str, str]]:
    # A cloudwatch.Metric lists its dimensions sorted by name.
    return sorted(metric.dimensions)


def _flat(pairs: Sequence[tuple[str, str]]) -> list[str]:
    return [part for pair in pairs for part in pair]


def _metrics_json(left: Sequence[Line | Expression], right: Sequence[Line | Expression]) -> list[list[Any]]:
    """A graph's ``metrics``, as CDK's ``allMetricsGraphJson`` renders them: one entry per
    distinct metric, a math expression's metrics after it, hidden and named by their id."""
    entries: list[dict[str, Any]] = []
    by_key: dict[str, dict[str, Any]] = {}
    by_id: dict[str, dict[str, Any]] = {}

    def add(metric: Line | Expression, tag: str | None, id: str | None = None) -> None:
        key = metric.key()
        entry = by_id.get(id) if id else None
        if entry is not None and entry["metric"].key() != key:
            raise ValueError(f"two different metrics share the id {id!r} in one graph")
        if entry is None:
            entry = by_key.get(key)
            if entry is not None and entry["id"] and id:
                entry = None
        if entry is None:
            entry = {"metric": metric, "id": None, "tag": None}
            entries.append(entry)
            by_key[key] = entry
        if not entry["id"] and id:
            entry["id"] = id
            by_id[id] = entry
        if not entry["tag"] and tag:
            entry["tag"] = tag
        if isinstance(metric, Expression):
            for sub_id, sub in metric.using.items():
                add(Line(sub), None, sub_id)

    for tag, metrics in (("left", left), ("right", right)):
        for metric in metrics:
            add(metric, tag)
    return [_metric_json(entry["metric"], entry["tag"], entry["id"]) for entry in entries]


def _metric_json(metric: Line | Expression, tag: str | None, id: str | None) -> list[Any]:
    """One entry of a graph's ``metrics`` (CDK's ``metricGraphJson``): keys in CDK's order,
    the period only when it is not the default, the statistic only when it is not Average."""
    entry: list[Any] = []
    options: dict[str, Any]
    if isinstance(metric, Line):
        spec = metric.metric
        entry += [spec.namespace, spec.metric_name, *_flat(_sorted_dimensions(spec))]
        options = {"color": None, "label": metric.label, "id": None, "visible": None}
        if spec.period_seconds != _DEFAULT_PERIOD_SECONDS:
            options["period"] = spec.period_seconds
        if spec.statistic != "Average":
            options["stat"] = spec.statistic
    else:
        options = {"label": metric.label, "color": None, "expression": metric.expression}
        if metric.period_seconds != _DEFAULT_PERIOD_SECONDS:
            options["period"] = metric.period_seconds
    if not tag:
        options["visible"] = False
    if tag != "left":
        options["yAxis"] = tag
    if id:
        options["id"] = id
    if options.get("visible") is not False and isinstance(metric, Expression) and not metric.label:
        options["label"] = metric.expression
    rendered = _defined(options)
    if rendered:
        entry.append(rendered)
    return entry


def _defined(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without its unset keys (CDK drops undefined properties)."""
    return {key: value for key, value in values.items() if value is not None}


def _axis(min: float | None = None, max: float | None = None) -> dict[str, Any]:
    """A y axis as ``cloudwatch.YAxisProps`` renders (keys sorted), units hidden."""
    return _defined({"max": max, "min": min, "showUnits": False})


def _annotation(annotation: cloudwatch.HorizontalAnnotation, axis: str) -> dict[str, Any]:
    # A HorizontalAnnotation is a jsii struct: its fields are read in Python, no round trip.
    return _defined(
        {
            "value": annotation.value,
            "color": annotation.color,
            "fill": annotation.fill,
            "label": annotation.label,
            "visible": annotation.visible,
            "yAxis": axis,
        }
    )


# Widgets ------------------------------------------------------------------------------------


class _Widget:
    """A widget laid out and rendered in Python."""

    width: int
    height: int

    def render(self, x: int, y: int) -> list[dict[str, Any]]:
        raise NotImplementedError


@dataclass
class _Text(_Widget):
    markdown: str
    width: int = GRID_WIDTH
    height: int = 1

    def render(self, x: int, y: int) -> list[dict[str, Any]]:
        return [
            {
                "type": "text",
                "width": self.width,
                "height": self.height,
                "x": x,
                "y": y,
                "properties": {"markdown": self.markdown},
            }
        ]


@dataclass
class Graph(_Widget):
    """A graph (or, with ``view="singleValue"``, a single value widget), as CDK's
    ``GraphWidget`` and ``SingleValueWidget`` render it."""

    title: str
    left: list[Line | Expression]
    right: list[Line | Expression] = field(default_factory=list)
    left_annotations: list[cloudwatch.HorizontalAnnotation] = field(default_factory=list)
    right_annotations: list[cloudwatch.HorizontalAnnotation] = field(default_factory=list)
    left_y_axis: dict[str, Any] | None = None
    right_y_axis: dict[str, Any] | None = None
    width: int = GRID_WIDTH // 4
    height: int = GRAPH_HEIGHT
    stacked: bool | None = None
    view: str = "timeSeries"
    set_period_to_time_range: bool | None = None

    def render(self, x: int, y: int) -> list[dict[str, Any]]:
        metrics = _metrics_json(self.left, self.right)
        if self.view == "singleValue":
            properties = {
                "view": self.view,
                "title": self.title,
                "region": _region(),
                "metrics": metrics,
                "setPeriodToTimeRange": self.set_period_to_time_range,
            }
        else:
            horizontal = [_annotation(a, "left") for a in self.left_annotations] + [
                _annotation(a, "right") for a in self.right_annotations
            ]
            properties = {
                "view": self.view,
                "title": self.title,
                "region": _region(),
                "stacked": self.stacked,
                "metrics": metrics or None,
                "annotations": {"horizontal": horizontal} if horizontal else None,
                "yAxis": _defined({"left": self.left_y_axis, "right": self.right_y_axis}),
                "setPeriodToTimeRange": self.set_period_to_time_range,
            }
        return [
            {
                "type": "metric",
                "width": self.width,
                "height": self.height,
                "x": x,
                "y": y,
                "properties": _defined(properties),
            }
        ]


class _Foreign(_Widget):
    """A CDK widget (``IWidget``) in a row: CDK positions and renders it.

    CDK resolves the dashboard body several times per synth; the widget is rendered once per
    place (two jsii calls), and its size read once unless the caller knows it.
    """

    def __init__(self, widget: cloudwatch.IWidget, size: tuple[int, int] | None = None) -> None:
        self.widget = widget
        self.width, self.height = size or (int(widget.width), int(widget.height))
        self._rendered: dict[tuple[int, int], list[dict[str, Any]]] = {}

    def render(self, x: int, y: int) -> list[dict[str, Any]]:
        if (x, y) not in self._rendered:
            self.widget.position(x, y)
            self._rendered[(x, y)] = list(self.widget.to_json())
        return self._rendered[(x, y)]


@dataclass(frozen=True)
class NamedAlarm:
    """An alarm listed by its name, in the dashboard stack's account and region: what
    ``cloudwatch.Alarm.from_alarm_name`` gives, without a construct and its jsii call."""

    alarm_name: str


class _AlarmStatus(_Widget):
    """Alarm status widgets for every alarm in ``alarms`` at synth time (up to 100 per widget),
    so that rows added later contribute their alarms."""

    def __init__(self, alarms: list[cloudwatch.IAlarm | NamedAlarm], stack: cdk.Stack, *, title: str) -> None:
        self._alarms = alarms
        self._stack = stack
        self._title = title
        self.width = GRID_WIDTH

    @property
    def _chunks(self) -> list[list[cloudwatch.IAlarm | NamedAlarm]]:
        count = max(1, math.ceil(len(self._alarms) / MAX_ALARMS_PER_WIDGET))
        return [self._alarms[i * MAX_ALARMS_PER_WIDGET : (i + 1) * MAX_ALARMS_PER_WIDGET] for i in range(count)]

    @property
    def height(self) -> int:  # type: ignore[override]
        return ALARM_WIDGET_HEIGHT * len(self._chunks)

    def _arn(self, alarm: cloudwatch.IAlarm | NamedAlarm) -> str:
        return alarm_arn(self._stack, alarm.alarm_name) if isinstance(alarm, NamedAlarm) else alarm.alarm_arn

    def render(self, x: int, y: int) -> list[dict[str, Any]]:
        rendered: list[dict[str, Any]] = []
        for index, chunk in enumerate(self._chunks):
            y_index = y + index * ALARM_WIDGET_HEIGHT
            if not chunk:
                rendered += _Text(f"**{self._title}**: no alarms added yet", height=ALARM_WIDGET_HEIGHT).render(
                    x, y_index
                )
                continue
            title = self._title if index == 0 else f"{self._title} ({index + 1})"
            rendered.append(
                {
                    "type": "alarm",
                    "width": GRID_WIDTH,
                    "height": ALARM_WIDGET_HEIGHT,
                    "x": x,
                    "y": y_index,
                    "properties": {
                        "title": title,
                        "alarms": [self._arn(alarm) for alarm in chunk],
                        "sortBy": "stateUpdatedTimestamp",  # AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP
                    },
                }
            )
        return rendered


class _Row:
    """Widgets side by side, wrapping at the grid's width (CDK's ``Row``)."""

    def __init__(self, widgets: Sequence[_Widget]) -> None:
        self.widgets = list(widgets)

    def layout(self) -> tuple[list[tuple[int, int]], int]:
        """Each widget's offset, and the row's height."""
        offsets: list[tuple[int, int]] = []
        x = y = height = 0
        for widget in self.widgets:
            if x + widget.width > GRID_WIDTH:
                y, x = height, 0
            offsets.append((x, y))
            height = max(height, y + widget.height)
            x += widget.width
        return offsets, height


@jsii.implements(cloudwatch.IWidget)
class _Body:
    """Every row of the dashboard, as one widget of the CDK ``Dashboard``: laid out and
    rendered in Python when the dashboard is synthesized (CDK's ``Column`` of rows)."""

    def __init__(self) -> None:
        self.rows: list[_Row] = []
        self._x = 0
        self._y = 0

    @property
    def width(self) -> jsii.Number:
        return GRID_WIDTH

    @property
    def height(self) -> jsii.Number:
        return sum(row.layout()[1] for row in self.rows)

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
        y = self._y
        for row in self.rows:
            offsets, height = row.layout()
            for widget, (dx, dy) in zip(row.widgets, offsets, strict=True):
                rendered += widget.render(self._x + dx, y + dy)
            y += height
        return rendered


class InferenceDashboard(Construct):
    """A CloudWatch dashboard of inference endpoints and batch jobs, in rows per model.

    Add each mode's construct with one call; the row shows invocations, errors, latency
    percentiles (p50/p90/p99) and, per mode, instances against the autoscaling bounds (real-time,
    async), cold starts and concurrency (serverless), backlog (async) or execution outcomes
    (batch). Every endpoint's health alarms join the alarm status widget at the top.

    Further rows go through :meth:`add_widgets` (widgets added to ``dashboard``, the CDK
    ``Dashboard``, would come after every row added here).

    :param dashboard_name: The dashboard's name (unique in the account: include the environment
        and region).
    :param title: Markdown heading shown at the top, e.g. ``Inference: prod``.
    """

    def __init__(self, scope: Construct, id: str, *, dashboard_name: str, title: str) -> None:
        super().__init__(scope, id)
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name, default_interval=_three_hours()
        )
        self.dashboard_name = dashboard_name
        #: The alarms listed at the top.
        self.alarms: list[cloudwatch.IAlarm | NamedAlarm] = []
        self._models: list[str] = []
        self._body = _Body()
        self.dashboard.add_widgets(self._body)
        self.add_widgets(
            _Text(
                f"# {title}\n"
                "Rows per model and mode. Latency in microseconds (model and overhead latency) or milliseconds "
                "(async processing); counts per minute unless a widget says otherwise.",
                height=2,
            )
        )
        # Rendered at synth, so that alarms added after this point are listed too.
        self.add_widgets(_AlarmStatus(self.alarms, stack_values(scope).stack, title="Alarms"))

    def add_widgets(self, *widgets: _Widget | cloudwatch.IWidget) -> None:
        """A row of widgets (wrapping at the grid's width): this module's, or any CDK ``IWidget``."""
        if widgets:
            self._body.rows.append(_Row([self._own(w) for w in widgets]))

    def _own(self, widget: _Widget | cloudwatch.IWidget) -> _Widget:
        if isinstance(widget, _Widget) and not isinstance(widget, _Foreign):
            return widget
        foreign = widget if isinstance(widget, _Foreign) else _Foreign(widget)
        # What Dashboard.add_widgets does with a widget's warnings (e.g. a math expression's).
        for warning_id, message in (foreign.widget.warnings_v2 or {}).items():
            cdk.Annotations.of(self.dashboard).add_warning_v2(warning_id, message)
        return foreign

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

        def line(name: str, statistic: str, label: str, variant: str | None) -> Line:
            return Line(endpoint.metric_spec(name, statistic=statistic, variant_name=variant), _label(label, variant))

        self.add_widgets(
            self._graph("Invocations", [line("Invocations", "Sum", "invocations", v) for v in variants]),
            self._graph(
                "Errors",
                [
                    metric
                    for v in variants
                    for metric in (
                        line("Invocation5XXErrors", "Sum", "5XX", v),
                        line("Invocation4XXErrors", "Sum", "4XX", v),
                    )
                ],
                annotations=[_line(thresholds.invocation_5xx_errors, "5XX alarm")],
            ),
            self._graph(
                "Model latency (microseconds)",
                [line("ModelLatency", p, f"model {p}", v) for v in variants for p in LATENCY_PERCENTILES],
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
                [line("OverheadLatency", p, f"overhead {p}", None) for p in LATENCY_PERCENTILES],
            ),
        )
        if weighted:
            self.add_widgets(*_variant_comparison(endpoint, [endpoint.variant_name, *weighted]))
        if endpoint.model.multi_model:
            self.add_widgets(*_multi_model_row(endpoint))
        self._add_alarms_of(endpoint)

    def _add_gpus(
        self,
        endpoint: InstanceBackedEndpoint,
        instance_type: str,
        thresholds: GpuThresholds,
        *more: _Widget,
    ) -> None:
        """GPU and GPU memory utilization, per GPU as CloudWatch reports them, on GPU instance
        types, then ``more`` widgets on the same row."""
        gpus = gpus_of(instance_type)
        if gpus == 0:
            return
        self.add_widgets(
            Graph(
                title=f"GPU utilization (%, 100 per GPU; {gpus} GPU(s) per instance)",
                left=[
                    Line(endpoint.metric_spec("GPUUtilization", namespace=INSTANCE_NAMESPACE), "GPU"),
                    Line(endpoint.metric_spec("GPUMemoryUtilization", namespace=INSTANCE_NAMESPACE), "GPU memory"),
                ],
                left_annotations=[
                    _line(thresholds.gpu_utilization_percent * gpus, "GPU alarm"),
                    _line(thresholds.gpu_memory_utilization_percent * gpus, "GPU memory alarm"),
                ],
                left_y_axis=_axis(min=0, max=100 * gpus),
            ),
            *more,
        )

    def add_serverless_endpoint(self, endpoint: ServerlessEndpoint, *, model_name: str) -> None:
        """A serverless endpoint: invocations, errors, latency with overhead, cold starts and concurrency."""
        thresholds = endpoint.settings.alarms
        self._heading(model_name, "serverless", endpoint)

        def line(name: str, statistic: str, label: str) -> Line:
            return Line(endpoint.metric_spec(name, statistic=statistic), label)

        self.add_widgets(
            self._graph("Invocations", [line("Invocations", "Sum", "invocations")]),
            self._graph(
                "Errors",
                [line("Invocation5XXErrors", "Sum", "5XX"), line("Invocation4XXErrors", "Sum", "4XX")],
                annotations=[_line(thresholds.invocation_5xx_errors, "5XX alarm")],
            ),
            self._graph(
                "Latency (microseconds)",
                [
                    *(line("ModelLatency", p, f"model {p}") for p in LATENCY_PERCENTILES),
                    line("OverheadLatency", "p99", "overhead p99 (cold starts)"),
                ],
                annotations=[_line(thresholds.overhead_latency_p99_milliseconds * 1000, "overhead alarm")],
            ),
            Graph(
                title="Cold starts and concurrency",
                # Cold starts: samples of ModelSetupTime (metric_cold_starts).
                left=[line("ModelSetupTime", "SampleCount", "cold starts")],
                right=[
                    line("ServerlessConcurrentExecutionsUtilization", "Maximum", "concurrency used / max"),
                ],
                right_annotations=[
                    _line(thresholds.concurrent_executions_utilization, "throttling alarm"),
                    _line(1, "throttled"),
                ],
                left_y_axis=_axis(min=0),
                right_y_axis=_axis(min=0, max=1),
            ),
        )
        self._add_alarms_of(endpoint)

    def add_async_endpoint(self, endpoint: AsyncEndpoint, *, model_name: str) -> None:
        """An async endpoint: requests processed and failed, backlog, processing time and instances."""
        thresholds = endpoint.settings.alarms
        self._heading(model_name, "async", endpoint)

        def line(name: str, statistic: str, label: str) -> Line:
            return Line(endpoint.metric_spec(name, statistic=statistic), label)

        self.add_widgets(
            self._graph(
                "Requests processed and failed",
                [line("InvocationsProcessed", "Sum", "processed"), line("InvocationFailures", "Sum", "failed")],
                annotations=[_line(thresholds.invocation_failures, "failures alarm")],
            ),
            Graph(
                title="Backlog",
                # Per endpoint (metric_endpoint), not per variant.
                left=[
                    Line(
                        endpoint.endpoint_metric_spec("ApproximateBacklogSize", statistic="Maximum"), "queued requests"
                    )
                ],
                right=[
                    Line(
                        endpoint.endpoint_metric_spec("ApproximateAgeOfOldestRequest", statistic="Maximum"),
                        "oldest request age (s)",
                    )
                ],
                left_annotations=[_line(thresholds.backlog_size, "backlog alarm")],
                right_annotations=[_line(thresholds.oldest_request_age_seconds, "age alarm")],
                left_y_axis=_axis(min=0),
                right_y_axis=_axis(min=0),
            ),
            self._graph(
                "Processing time (milliseconds)",
                [
                    *(line("TotalProcessingTime", p, f"total {p}") for p in LATENCY_PERCENTILES),
                    line("TimeInBacklog", "p99", "in backlog p99"),
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
        outcomes: list[GraphMetric] = [
            *(
                # A BatchTransformJob's metrics are known in Python (batch.alarms.execution_metric).
                [
                    Line(execution_metric_spec(job.state_machine_arn, name, EXECUTION_METRIC_PERIOD_MINUTES), label)
                    for name, label in (
                        ("ExecutionsSucceeded", "succeeded"),
                        ("ExecutionsFailed", "failed"),
                        ("ExecutionsTimedOut", "timed out"),
                    )
                ]
                if isinstance(job, BatchTransformJob)
                else [
                    job.metric_executions_succeeded(label="succeeded"),
                    job.metric_executions_failed(label="failed"),
                    job.metric_executions_timed_out(label="timed out"),
                ]
            )
        ]
        self._model_heading(model_name)
        self.add_widgets(_Text(f"### {model_name} · batch transform · `{job.state_machine_name}`"))
        self.add_widgets(
            _graph_widget("Executions", outcomes, stacked=True, left_y_axis=_axis(min=0), width=GRID_WIDTH // 2),
            _graph_widget(
                "Executions in the time range",
                outcomes,
                view="singleValue",
                set_period_to_time_range=True,
                width=GRID_WIDTH // 2,
            ),
        )
        self._add_alarms_of(job)

    # Helpers -------------------------------------------------------------------------------

    def _model_heading(self, model_name: str) -> None:
        if model_name not in self._models:
            self._models.append(model_name)
            self.add_widgets(_Text(f"## Model {model_name}"))

    def _heading(self, model_name: str, mode: str, endpoint: EndpointBase) -> None:
        self.add_heading(model_name, mode, endpoint.endpoint_name)

    def add_heading(self, model_name: str, mode: str, name: str) -> None:
        """A row's heading (``### iris · async · `prod-iris-async```), under its model's heading."""
        self._model_heading(model_name)
        self.add_widgets(_Text(f"### {model_name} · {mode} · `{name}`"))

    @staticmethod
    def _graph(
        title: str,
        metrics: Sequence[GraphMetric],
        *,
        annotations: Sequence[cloudwatch.HorizontalAnnotation] = (),
    ) -> _Widget:
        """A quarter-width graph from zero, of :class:`Line` s (rendered in Python) or ``IMetric`` s."""
        return _graph_widget(title, metrics, left_annotations=annotations, left_y_axis=_axis(min=0))

    @staticmethod
    def _instances(endpoint: InstanceBackedEndpoint) -> Graph:
        low, high = endpoint.capacity_bounds
        return Graph(
            title="Instances in service",
            # Instances in service (metric_instances_reporting): samples of CPUUtilization.
            left=[Line(_instances_reporting(endpoint), "instances reporting")],
            left_annotations=[_line(high, f"max {high}"), _line(low, f"min {low}")],
            left_y_axis=_axis(min=0, max=high + 1),
        )

    def _add_alarms_of(self, source: AlarmSource) -> None:
        # By name, in this stack: the alarms' generated ARNs would need exports from the model stack.
        self.alarms.extend(NamedAlarm(name) for name in source.alarm_names.values())

    # What a mode's unit (stacks/modes/) builds a row of its own from, besides add_heading.
    graph = _graph
    instances = _instances
    add_alarms_of = _add_alarms_of


def _graph_widget(
    title: str,
    metrics: Sequence[GraphMetric],
    *,
    left_annotations: Sequence[cloudwatch.HorizontalAnnotation] = (),
    left_y_axis: dict[str, Any] | None = None,
    width: int = GRID_WIDTH // 4,
    stacked: bool | None = None,
    view: str = "timeSeries",
    set_period_to_time_range: bool | None = None,
) -> _Widget:
    """A graph of ``metrics``: rendered in Python when they are all :class:`Line` s or
    :class:`Expression` s; else CDK's ``GraphWidget`` (or ``SingleValueWidget``) with the same props."""
    if all(isinstance(m, (Line, Expression)) for m in metrics):
        return Graph(
            title=title,
            left=[m for m in metrics if isinstance(m, (Line, Expression))],
            left_annotations=list(left_annotations),
            left_y_axis=left_y_axis,
            width=width,
            stacked=stacked,
            view=view,
            set_period_to_time_range=set_period_to_time_range,
        )
    cdk_metrics = [_cdk_metric(m) for m in metrics]
    widget: cloudwatch.IWidget
    if view == "singleValue":
        widget = cloudwatch.SingleValueWidget(
            title=title,
            metrics=cdk_metrics,
            set_period_to_time_range=set_period_to_time_range,
            width=width,
            height=GRAPH_HEIGHT,
        )
    else:
        axis = left_y_axis or {}
        widget = cloudwatch.GraphWidget(
            title=title,
            left=cdk_metrics,
            left_annotations=list(left_annotations) or None,
            left_y_axis=cloudwatch.YAxisProps(
                min=axis.get("min"), max=axis.get("max"), show_units=axis.get("showUnits")
            ),
            stacked=stacked,
            width=width,
            height=GRAPH_HEIGHT,
        )
    return _Foreign(widget, (width, GRAPH_HEIGHT))


def _cdk_metric(metric: GraphMetric) -> cloudwatch.IMetric:
    if isinstance(metric, Line):
        return metric.to_metric()
    if isinstance(metric, Expression):
        return cloudwatch.MathExpression(
            expression=metric.expression,
            using_metrics={id: spec.to_metric() for id, spec in metric.using.items()},
            label=metric.label,
            period=cdk.Duration.seconds(metric.period_seconds),
        )
    return metric


def _instances_reporting(endpoint: InstanceBackedEndpoint, variant: str | None = None) -> MetricSpec:
    """Every instance reports CPUUtilization once a minute, so the one-minute sample count is
    the instance count (``metric_instances_reporting``)."""
    return endpoint.metric_spec(
        "CPUUtilization", namespace=INSTANCE_NAMESPACE, statistic="SampleCount", variant_name=variant
    )


def _label(what: str, variant: str | None) -> str:
    return f"{what} ({variant})" if variant else what


def _line(value: float, label: str) -> cloudwatch.HorizontalAnnotation:
    return cloudwatch.HorizontalAnnotation(value=value, label=label)


# A threshold line on a graph, for the rows mode units build themselves (stacks/modes/).
threshold_line = _line


def _variant_comparison(endpoint: RealtimeEndpoint, variants: list[str]) -> list[_Widget]:
    """An A/B row: each variant's share of requests (what its weight gives it) and its instances."""
    ids = {variant: f"v{index}" for index, variant in enumerate(variants)}
    invocations = {ids[v]: endpoint.metric_spec("Invocations", statistic="Sum", variant_name=v) for v in variants}
    total = " + ".join(f"FILL({i}, 0)" for i in ids.values())
    shares: list[Line | Expression] = [
        Expression(
            expression=f"IF(({total}) > 0, 100 * FILL({ids[v]}, 0) / ({total}), 0)",
            using=invocations,
            label=f"share of requests (%) ({v})",
        )
        for v in variants
    ]
    return [
        Graph(
            title="Requests per variant (%)",
            left=shares,
            left_y_axis=_axis(min=0, max=100),
            width=GRID_WIDTH // 2,
        ),
        Graph(
            title="Instances in service per variant",
            left=[Line(_instances_reporting(endpoint, v), _label("instances", v)) for v in variants],
            left_y_axis=_axis(min=0),
            width=GRID_WIDTH // 2,
        ),
    ]


def _multi_model_row(endpoint: RealtimeEndpoint) -> list[_Widget]:
    """A multi-model endpoint's row: models loaded against cache hits, and the wait for loading."""
    thresholds = endpoint.settings.alarms
    return [
        Graph(
            title="Models loaded and cache hits",
            left=[Line(endpoint.metric_spec("LoadedModelCount", statistic="Maximum"), "models loaded")],
            right=[
                Line(
                    endpoint.metric_spec("ModelCacheHit", statistic="Average"),
                    "requests finding their model loaded (ratio)",
                )
            ],
            right_annotations=[_line(thresholds.model_cache_hit_percent / 100, "cache hit alarm")],
            left_y_axis=_axis(min=0),
            right_y_axis=_axis(min=0, max=1),
            width=GRID_WIDTH // 2,
        ),
        Graph(
            title="Model loading wait (microseconds)",
            left=[
                Line(endpoint.metric_spec("ModelLoadingWaitTime", statistic=p), f"loading wait {p}")
                for p in LATENCY_PERCENTILES
            ],
            left_annotations=[_line(thresholds.model_loading_wait_p99_milliseconds * 1000, "p99 alarm")],
            left_y_axis=_axis(min=0),
            width=GRID_WIDTH // 2,
        ),
    ]
