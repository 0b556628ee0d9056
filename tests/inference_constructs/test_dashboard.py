"""InferenceDashboard: the dashboard body, parsed as JSON, per model and mode."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template
from constructs import Construct

from inference_constructs.alarms import MetricSpec
from inference_constructs.async_endpoint import AsyncEndpoint
from inference_constructs.dashboard import Expression, Graph, InferenceDashboard, Line, NamedAlarm, threshold_line
from inference_constructs.realtime_endpoint import RealtimeEndpoint
from inference_constructs.serverless_endpoint import ServerlessEndpoint, serverless_model
from tests.conftest import new_app
from tests.inference_constructs.helpers import new_key, new_model

ENDPOINT_DIMENSIONS = ("EndpointName", "VariantName")


class StandInBatchJob(Construct):
    """Stands in for the batch transform construct: a state machine (one Pass state) with the
    execution metrics and the failed-executions alarm the dashboard takes."""

    def __init__(self, scope: Construct, id: str, *, state_machine_name: str) -> None:
        super().__init__(scope, id)
        self.state_machine_name = state_machine_name
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name,
            definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(self, "Transform")),
        )
        self.alarm_names = {"FailedExecutions": f"{state_machine_name}-FailedExecutions"}
        cloudwatch.Alarm(
            self,
            "FailedAlarm",
            alarm_name=self.alarm_names["FailedExecutions"],
            metric=self.metric_executions_failed(),
            threshold=1,
            evaluation_periods=1,
        )

    def metric_executions_succeeded(self, **props: Any) -> cloudwatch.Metric:
        return self.state_machine.metric_succeeded(**props)

    def metric_executions_failed(self, **props: Any) -> cloudwatch.Metric:
        return self.state_machine.metric_failed(**props)

    def metric_executions_timed_out(self, **props: Any) -> cloudwatch.Metric:
        return self.state_machine.metric_timed_out(**props)


def dashboard_body(template: dict) -> dict:
    """The DashboardBody as JSON; references become ``${LogicalId}`` or ``${LogicalId.Attribute}``."""
    (dashboard,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, str):
        return json.loads(body)
    separator, parts = body["Fn::Join"]
    return json.loads(separator.join(part if isinstance(part, str) else f"${{{_reference(part)}}}" for part in parts))


def _reference(part: dict) -> str:
    if "Ref" in part:
        return part["Ref"]
    if "Fn::GetAtt" in part:
        return ".".join(part["Fn::GetAtt"])
    raise AssertionError(f"unexpected reference in the dashboard body: {part}")


def graphs_by_title(widgets: list[dict]) -> dict[str, dict]:
    return {w["properties"]["title"]: w for w in widgets if w["type"] == "metric"}


def rows_under(widgets: list[dict], heading: str) -> list[dict]:
    """The widgets of the row that follows the text widget ``heading`` (same y)."""
    index = next(i for i, w in enumerate(widgets) if w["type"] == "text" and w["properties"]["markdown"] == heading)
    y = widgets[index + 1]["y"]
    return [w for w in widgets[index + 1 :] if w["y"] == y]


def metric_lines(widget: dict) -> list[dict]:
    """Each metric of a graph as {namespace, name, dimensions, stat, period, label, yAxis}."""
    lines = []
    for entry in widget["properties"]["metrics"]:
        *ids, options = entry if isinstance(entry[-1], dict) else (*entry, {})
        namespace, name, *pairs = ids
        lines.append(
            {
                "namespace": namespace,
                "name": name,
                "dimensions": dict(zip(pairs[::2], pairs[1::2], strict=True)),
                **options,
            }
        )
    return lines


@pytest.fixture(scope="module")
def dashboard(model_artifact):
    """Endpoints of every mode in a model stack; the dashboard (and a stand-in batch job) in another."""
    app = new_app()
    models = cdk.Stack(app, "Models", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    key = new_key(models)
    topic = sns.Topic(models, "Alarms")
    model = new_model(models, key, model_artifact)
    realtime = RealtimeEndpoint(
        models,
        "Realtime",
        model=model,
        encryption_key=key,
        endpoint_name="test-iris-realtime",
        settings={
            "instance_type": "ml.m5.large",
            "initial_instance_count": 2,
            "autoscaling": {"min_capacity": 2, "max_capacity": 5, "target_invocations_per_instance": 100},
            "alarms": {"invocation_5xx_errors": 4, "model_latency_p99_milliseconds": 300},
            "shadow": {"model_data": "s3://my-bucket/iris/v2/model.tar.gz", "instance_type": "ml.m5.large"},
        },
        alarm_topic=topic,
        shadow_model=new_model(models, key, model_artifact, id="Shadow"),
    )
    serverless = ServerlessEndpoint(
        models,
        "Serverless",
        model=serverless_model(
            models,
            "ServerlessModel",
            name="iris",
            name_prefix="test-iris",
            image={"framework": "sklearn", "version": "1.4-2"},
            model_data=str(model_artifact),
            encryption_key=key,
        ),
        encryption_key=key,
        endpoint_name="test-iris-serverless",
        settings={
            "memory_size_in_mb": 2048,
            "max_concurrency": 5,
            "alarms": {"concurrent_executions_utilization": 0.8},
        },
        alarm_topic=topic,
    )
    async_endpoint = AsyncEndpoint(
        models,
        "Async",
        model=model,
        encryption_key=key,
        async_bucket=s3.Bucket(models, "AsyncBucket"),
        path_prefix="test/iris",
        endpoint_name="test-iris-async",
        alarm_topic=topic,
        settings={
            "instance_type": "ml.m5.large",
            "autoscaling": {"min_capacity": 0, "max_capacity": 3},
            "alarms": {"backlog_size": 40, "oldest_request_age_seconds": 600},
        },
    )
    other = RealtimeEndpoint(
        models,
        "Other",
        model=new_model(models, key, model_artifact, id="OtherModel", name="other", name_prefix="test-other"),
        encryption_key=key,
        endpoint_name="test-other-realtime",
        settings={"instance_type": "ml.m5.large"},
        alarm_topic=topic,
    )

    monitoring = cdk.Stack(app, "Monitoring", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    board = InferenceDashboard(monitoring, "Dashboard", dashboard_name="test-inference", title="Inference: test")
    board.add_realtime_endpoint(realtime, model_name="iris")
    board.add_serverless_endpoint(serverless, model_name="iris")
    board.add_async_endpoint(async_endpoint, model_name="iris")
    batch = StandInBatchJob(monitoring, "Batch", state_machine_name="test-iris-batch")
    board.add_batch_job(batch, model_name="iris")
    board.add_realtime_endpoint(other, model_name="other")
    assembly = app.synth()
    templates = {name: assembly.get_stack_by_name(name).template for name in ("Models", "Monitoring")}
    endpoints = {"realtime": realtime, "serverless": serverless, "async": async_endpoint, "other": other}
    return board, endpoints, batch, templates, dashboard_body(templates["Monitoring"])["widgets"]


# Layout -------------------------------------------------------------------------------------


def test_one_dashboard_with_its_name_and_a_title_then_the_alarm_status(dashboard):
    _, _, _, templates, widgets = dashboard
    Template.from_json(templates["Monitoring"]).has_resource_properties(
        "AWS::CloudWatch::Dashboard", {"DashboardName": "test-inference"}
    )
    assert widgets[0]["type"] == "text" and widgets[0]["properties"]["markdown"].startswith("# Inference: test")
    assert widgets[1]["type"] == "alarm" and widgets[1]["y"] == 2


def test_rows_per_model_each_titled_with_mode_and_endpoint(dashboard):
    _, _, _, _, widgets = dashboard
    headings = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"][1:]
    assert headings == [
        "## Model iris",
        "### iris · real-time · `test-iris-realtime`",
        "### iris · serverless · `test-iris-serverless`",
        "### iris · async · `test-iris-async`",
        "### iris · batch transform · `test-iris-batch`",
        "## Model other",
        "### other · real-time · `test-other-realtime`",
    ]
    for heading in headings:
        if heading.startswith("###"):
            row = rows_under(widgets, heading)
            assert sum(w["width"] for w in row) == 24, heading
    # Rows never overlap: every widget starts below or beside the previous ones.
    cells = {(w["x"], w["y"]) for w in widgets}
    assert len(cells) == len(widgets)


# Real-time ----------------------------------------------------------------------------------


def test_realtime_row_shows_invocations_errors_latency_percentiles_and_instances(dashboard):
    _, _, _, _, widgets = dashboard
    graphs = graphs_by_title(rows_under(widgets, "### iris · real-time · `test-iris-realtime`"))
    assert list(graphs) == ["Invocations", "Errors", "Model latency (microseconds)", "Instances in service"]
    production = {"EndpointName": "test-iris-realtime", "VariantName": "AllTraffic"}
    shadow = {"EndpointName": "test-iris-realtime", "VariantName": "Shadow"}

    invocations = metric_lines(graphs["Invocations"])
    assert [(m["name"], m["dimensions"], m["stat"]) for m in invocations] == [
        ("Invocations", production, "Sum"),
        ("Invocations", shadow, "Sum"),
    ]
    errors = metric_lines(graphs["Errors"])
    assert {(m["name"], m["dimensions"]["VariantName"]) for m in errors} == {
        ("Invocation5XXErrors", "AllTraffic"),
        ("Invocation4XXErrors", "AllTraffic"),
        ("Invocation5XXErrors", "Shadow"),
        ("Invocation4XXErrors", "Shadow"),
    }
    assert graphs["Errors"]["properties"]["annotations"]["horizontal"][0]["value"] == 4
    latency = metric_lines(graphs["Model latency (microseconds)"])
    assert [(m["name"], m["stat"], m["dimensions"]["VariantName"]) for m in latency] == [
        ("ModelLatency", "p50", "AllTraffic"),
        ("ModelLatency", "p90", "AllTraffic"),
        ("ModelLatency", "p99", "AllTraffic"),
        ("ModelLatency", "p50", "Shadow"),
        ("ModelLatency", "p90", "Shadow"),
        ("ModelLatency", "p99", "Shadow"),
    ]
    assert graphs["Model latency (microseconds)"]["properties"]["annotations"]["horizontal"][0]["value"] == 300_000


def test_instances_are_drawn_against_the_autoscaling_bounds(dashboard):
    _, _, _, _, widgets = dashboard
    instances = graphs_by_title(rows_under(widgets, "### iris · real-time · `test-iris-realtime`"))[
        "Instances in service"
    ]
    (line,) = metric_lines(instances)
    assert (line["namespace"], line["name"], line["stat"], line["period"]) == (
        "/aws/sagemaker/Endpoints",
        "CPUUtilization",
        "SampleCount",
        60,
    )
    assert line["label"] == "instances reporting"
    bounds = {a["label"]: a["value"] for a in instances["properties"]["annotations"]["horizontal"]}
    assert bounds == {"max 5": 5, "min 2": 2}
    # A fixed-size endpoint's bounds are its instance count.
    fixed = graphs_by_title(rows_under(widgets, "### other · real-time · `test-other-realtime`"))[
        "Instances in service"
    ]
    assert {a["value"] for a in fixed["properties"]["annotations"]["horizontal"]} == {1}


# Serverless -----------------------------------------------------------------------------------


def test_serverless_row_shows_cold_starts_overhead_and_concurrency(dashboard):
    _, _, _, _, widgets = dashboard
    graphs = graphs_by_title(rows_under(widgets, "### iris · serverless · `test-iris-serverless`"))
    assert list(graphs) == ["Invocations", "Errors", "Latency (microseconds)", "Cold starts and concurrency"]
    latency = metric_lines(graphs["Latency (microseconds)"])
    assert [(m["name"], m["stat"]) for m in latency] == [
        ("ModelLatency", "p50"),
        ("ModelLatency", "p90"),
        ("ModelLatency", "p99"),
        ("OverheadLatency", "p99"),
    ]
    cold = metric_lines(graphs["Cold starts and concurrency"])
    assert [(m["name"], m["stat"], m.get("yAxis", "left")) for m in cold] == [
        ("ModelSetupTime", "SampleCount", "left"),
        ("ServerlessConcurrentExecutionsUtilization", "Maximum", "right"),
    ]
    assert all(m["dimensions"]["EndpointName"] == "test-iris-serverless" for m in cold)
    annotations = graphs["Cold starts and concurrency"]["properties"]["annotations"]["horizontal"]
    assert {(a["value"], a["yAxis"]) for a in annotations} == {(0.8, "right"), (1, "right")}


# Async ----------------------------------------------------------------------------------------


def test_async_row_shows_processing_failures_backlog_and_instances(dashboard):
    _, _, _, _, widgets = dashboard
    graphs = graphs_by_title(rows_under(widgets, "### iris · async · `test-iris-async`"))
    assert list(graphs) == [
        "Requests processed and failed",
        "Backlog",
        "Processing time (milliseconds)",
        "Instances in service",
    ]
    processed = metric_lines(graphs["Requests processed and failed"])
    assert [(m["name"], m["stat"]) for m in processed] == [
        ("InvocationsProcessed", "Sum"),
        ("InvocationFailures", "Sum"),
    ]
    backlog = metric_lines(graphs["Backlog"])
    assert [(m["name"], m["dimensions"], m.get("yAxis", "left")) for m in backlog] == [
        ("ApproximateBacklogSize", {"EndpointName": "test-iris-async"}, "left"),
        ("ApproximateAgeOfOldestRequest", {"EndpointName": "test-iris-async"}, "right"),
    ]
    thresholds = {(a["value"], a["yAxis"]) for a in graphs["Backlog"]["properties"]["annotations"]["horizontal"]}
    assert thresholds == {(40, "left"), (600, "right")}
    processing = metric_lines(graphs["Processing time (milliseconds)"])
    assert [(m["name"], m["stat"]) for m in processing] == [
        ("TotalProcessingTime", "p50"),
        ("TotalProcessingTime", "p90"),
        ("TotalProcessingTime", "p99"),
        ("TimeInBacklog", "p99"),
    ]
    bounds = {a["value"] for a in graphs["Instances in service"]["properties"]["annotations"]["horizontal"]}
    assert bounds == {0, 3}


# Batch ----------------------------------------------------------------------------------------


def test_batch_job_row_shows_execution_outcomes_of_its_state_machine(dashboard):
    _, _, batch, templates, widgets = dashboard
    row = rows_under(widgets, "### iris · batch transform · `test-iris-batch`")
    assert [w["properties"]["title"] for w in row] == ["Executions", "Executions in the time range"]
    graph, single = row
    state_machine_id = Template.from_json(templates["Monitoring"]).find_resources("AWS::StepFunctions::StateMachine")
    (logical_id,) = state_machine_id
    for widget in (graph, single):
        lines = metric_lines(widget)
        assert [(m["namespace"], m["name"], m["stat"]) for m in lines] == [
            ("AWS/States", "ExecutionsSucceeded", "Sum"),
            ("AWS/States", "ExecutionsFailed", "Sum"),
            ("AWS/States", "ExecutionsTimedOut", "Sum"),
        ]
        assert {m["dimensions"]["StateMachineArn"] for m in lines} == {f"${{{logical_id}}}"}
    assert graph["properties"]["stacked"] is True
    assert single["properties"]["setPeriodToTimeRange"] is True
    assert batch.state_machine_name == "test-iris-batch"


# Alarms ---------------------------------------------------------------------------------------


def test_alarm_status_lists_every_alarm_of_every_row_by_name(dashboard):
    board, endpoints, batch, _, widgets = dashboard
    listed = widgets[1]["properties"]["alarms"]
    expected_names = [name for endpoint in endpoints.values() for name in endpoint.alarm_names.values()]
    assert len(expected_names) == 6 + 4 + 3 + 6
    # Endpoint alarms by their stable names, in this stack's account and region.
    for name in expected_names:
        assert f"arn:aws:cloudwatch:eu-west-1:111111111111:alarm:{name}" in listed
    assert len(listed) == len(expected_names) + len(batch.alarm_names) == len(board.alarms)
    assert sorted(endpoints["async"].alarm_names) == ["BacklogSize", "InvocationFailures", "OldestRequestAge"]


def test_the_dashboard_stack_imports_nothing_from_the_model_stack(dashboard):
    _, _, _, templates, _ = dashboard
    # Endpoints and their alarms are addressed by name: no export, no import.
    assert "Outputs" not in templates["Models"]
    assert "Fn::ImportValue" not in json.dumps(templates["Monitoring"])


def test_more_than_a_hundred_alarms_are_split_over_alarm_widgets():
    app = new_app()
    stack = cdk.Stack(app, "Monitoring")
    board = InferenceDashboard(stack, "Dashboard", dashboard_name="many", title="Many")
    board.alarms.extend(cloudwatch.Alarm.from_alarm_name(stack, f"Alarm{i}", f"alarm-{i}") for i in range(150))
    widgets = dashboard_body(Template.from_stack(stack).to_json())["widgets"]
    alarm_widgets = [w for w in widgets if w["type"] == "alarm"]
    assert [len(w["properties"]["alarms"]) for w in alarm_widgets] == [100, 50]
    assert [w["y"] for w in alarm_widgets] == [2, 6]


def test_an_empty_dashboard_says_there_are_no_alarms_yet():
    app = new_app()
    stack = cdk.Stack(app, "Monitoring")
    InferenceDashboard(stack, "Dashboard", dashboard_name="empty", title="Empty")
    widgets = dashboard_body(Template.from_stack(stack).to_json())["widgets"]
    assert [w["type"] for w in widgets] == ["text", "text"]
    assert "no alarms added yet" in widgets[1]["properties"]["markdown"]


# Rendered in Python as CDK renders ------------------------------------------------------------


def _rendered_body(build: Any) -> Any:
    """The raw DashboardBody (an Fn::Join with the region and account tokens) of a dashboard
    whose rows ``build`` adds, in a stack of its own."""
    app = new_app()
    stack = cdk.Stack(app, "Monitoring")
    board = InferenceDashboard(stack, "Dashboard", dashboard_name="same", title="Same")
    build(board, stack)
    (dashboard,) = Template.from_stack(stack).find_resources("AWS::CloudWatch::Dashboard").values()
    return dashboard["Properties"]["DashboardBody"]


def test_python_rows_render_exactly_as_cdk_widgets_would():
    # Dimensions given unsorted, a default (300 s) period, an Average, a math expression sharing
    # a metric with a line and hiding another, a duplicate line, float thresholds, a right axis, a single value:
    # every rule of CDK's rendering the Python rows copy.
    invocations = MetricSpec("AWS/SageMaker", "Invocations", (("VariantName", "A"), ("EndpointName", "e")), "Sum")
    errors = MetricSpec("AWS/SageMaker", "Invocation4XXErrors", (("EndpointName", "e"), ("VariantName", "A")), "Sum")
    cpu = MetricSpec("/aws/sagemaker/Endpoints", "CPUUtilization", (("EndpointName", "e"),), "Average", 300)
    math = ("IF(FILL(v0, 0) > 0, 100 * FILL(v1, 0) / v0, 0)", "error rate")
    annotations = {"left": [threshold_line(1.5, "low")], "right": [threshold_line(1000 * 1000.0, "high")]}

    def python_rows(board: InferenceDashboard, _: cdk.Stack) -> None:
        board.add_widgets(
            Graph(
                title="Graph",
                left=[
                    Line(invocations, "calls"),
                    Expression(math[0], {"v0": invocations, "v1": errors}, label=math[1]),
                ],
                right=[Line(cpu, "cpu"), Line(cpu, "cpu again")],
                left_annotations=annotations["left"],
                right_annotations=annotations["right"],
                left_y_axis={"min": 0, "showUnits": False},
                right_y_axis={"max": 1, "min": 0, "showUnits": False},
                stacked=True,
                width=12,
            ),
            Graph(title="Single", left=[Line(cpu, "cpu")], view="singleValue", set_period_to_time_range=True),
        )
        board.alarms.append(NamedAlarm("some-alarm"))

    def cdk_rows(board: InferenceDashboard, stack: cdk.Stack) -> None:
        calls = invocations.to_metric(label="calls")
        board.add_widgets(
            cloudwatch.GraphWidget(
                title="Graph",
                left=[
                    calls,
                    cloudwatch.MathExpression(
                        expression=math[0],
                        using_metrics={"v0": invocations.to_metric(), "v1": errors.to_metric()},
                        label=math[1],
                        period=cdk.Duration.minutes(1),
                    ),
                ],
                right=[cpu.to_metric(label="cpu"), cpu.to_metric(label="cpu again")],
                left_annotations=annotations["left"],
                right_annotations=annotations["right"],
                left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False),
                right_y_axis=cloudwatch.YAxisProps(min=0, max=1, show_units=False),
                stacked=True,
                width=12,
                height=6,
            ),
            cloudwatch.SingleValueWidget(
                title="Single", metrics=[cpu.to_metric(label="cpu")], set_period_to_time_range=True, height=6
            ),
        )
        board.alarms.append(cloudwatch.Alarm.from_alarm_name(stack, "Imported", "some-alarm"))

    python, cdk_rendered = _rendered_body(python_rows), _rendered_body(cdk_rows)
    assert python == cdk_rendered
    # Not vacuous: both carry the rows, and the alarm's ARN in the stack's partition, region and account.
    assert '"title":"Single"' in json.dumps(python).replace(" ", "").replace('\\"', '"')
    assert {"Ref": "AWS::AccountId"} in python["Fn::Join"][1]


def test_a_graph_of_cdk_metrics_is_rendered_by_cdk_in_its_place():
    def rows(board: InferenceDashboard, _: cdk.Stack) -> None:
        board.add_heading("toy", "toy mode", "toy-endpoint")
        board.add_widgets(board.graph("Toy requests", [cloudwatch.Metric(namespace="Toy", metric_name="Requests")]))
        board.add_heading("toy", "second", "toy-2")

    body = _rendered_body(rows)
    widgets = json.loads("".join(part if isinstance(part, str) else "${}" for part in body["Fn::Join"][1]))["widgets"]
    assert [(w["type"], w["y"]) for w in widgets[2:]] == [("text", 6), ("text", 7), ("metric", 8), ("text", 14)]
    assert widgets[4]["properties"]["metrics"] == [["Toy", "Requests"]]
