from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from pydantic import ValidationError

from inference_constructs import service_models
from inference_constructs.alarms import (
    AlarmEvaluation,
    AlarmSpec,
    HealthAlarm,
    MathSpec,
    MetricSpec,
    alarm_name,
    create_alarms,
)
from inference_constructs.async_endpoint import AsyncAlarms
from inference_constructs.batch.settings import BatchAlarms
from inference_constructs.realtime_endpoint import RealtimeAlarms
from inference_constructs.serverless_endpoint import ServerlessAlarms
from tests.inference_constructs.helpers import new_stack

METRIC = cloudwatch.Metric(namespace="Test", metric_name="Errors", statistic="Sum")


def spec(key: str, **overrides: object) -> AlarmSpec:
    props: dict[str, object] = {
        "key": key,
        "metric": METRIC,
        "threshold": 3,
        "description": "errors are high",
        "treat_missing_data": cloudwatch.TreatMissingData.NOT_BREACHING,
    }
    props.update(overrides)
    return AlarmSpec(**props)  # type: ignore[arg-type]


def test_alarms_are_named_described_and_notify_alarm_and_ok():
    stack = new_stack()
    topic = sns.Topic(stack, "Topic")
    alarms = create_alarms(
        stack,
        [
            spec("Errors"),
            spec(
                "Backlog",
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.MISSING,
                evaluation=AlarmEvaluation(evaluation_periods=10, datapoints_to_alarm=1),
            ),
        ],
        name_prefix="test-iris-realtime",
        evaluation=AlarmEvaluation(evaluation_periods=4, datapoints_to_alarm=3),
        topic=topic,
    )
    assert list(alarms) == ["Errors", "Backlog"]
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "test-iris-realtime-Errors",
            "AlarmDescription": "test-iris-realtime: errors are high",
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "EvaluationPeriods": 4,
            "DatapointsToAlarm": 3,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": stack.get_logical_id(topic.node.default_child)}],
            "OKActions": [{"Ref": stack.get_logical_id(topic.node.default_child)}],
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "test-iris-realtime-Backlog",
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 10,
            "DatapointsToAlarm": 1,
            "TreatMissingData": "missing",
        },
    )


def test_more_datapoints_than_periods_are_refused_never_clamped():
    # PutMetricAlarm refuses DatapointsToAlarm above EvaluationPeriods; a silently lowered value
    # would alarm on something the config did not ask for.
    with pytest.raises(ValueError, match=r"datapoints_to_alarm \(9\) must not exceed evaluation_periods \(4\)"):
        AlarmEvaluation(evaluation_periods=4, datapoints_to_alarm=9)


def test_duplicate_keys_and_overlong_names_are_refused():
    with pytest.raises(ValueError, match="two alarms share the key 'Errors'"):
        create_alarms(
            new_stack(),
            [spec("Errors"), spec("Errors")],
            name_prefix="x",
            evaluation=AlarmEvaluation(),
            topic=None,
        )
    with pytest.raises(ValueError, match="longer than 255 characters"):
        alarm_name("x" * 250, "ModelLatency")


def test_every_mode_states_its_alarm_tuning_as_one_alarm_evaluation():
    # docs/observability.md, "One vocabulary for alarm tuning".
    assert issubclass(RealtimeAlarms, AlarmEvaluation) and issubclass(ServerlessAlarms, AlarmEvaluation)
    assert AsyncAlarms(evaluation_periods=7, datapoints_to_alarm=7).evaluation == AlarmEvaluation(
        evaluation_periods=7, datapoints_to_alarm=7
    )
    assert BatchAlarms(period_minutes=15).evaluation == AlarmEvaluation(evaluation_periods=1, datapoints_to_alarm=1)


@pytest.mark.parametrize(
    ("model", "field", "value", "expected"),
    [
        ("async", "evaluation_periods", 61, "less than or equal to 60"),
        ("async", "datapoints_to_alarm", 0, "greater than or equal to 1"),
        ("batch", "period_minutes", 1441, "less than or equal to 1440"),
        ("realtime", "evaluation_periods", 61, "less than or equal to 60"),
        ("serverless", "datapoints_to_alarm", 0, "greater than or equal to 1"),
    ],
)
def test_alarm_tuning_out_of_range_is_refused_never_clamped(model, field, value, expected):
    settings = {"async": AsyncAlarms, "batch": BatchAlarms, "realtime": RealtimeAlarms, "serverless": ServerlessAlarms}
    with pytest.raises(ValidationError, match=expected) as raised:
        settings[model](**{field: value})
    assert raised.value.errors()[0]["loc"] == (field,)


def test_async_takes_the_shared_vocabulary_and_names_the_old_key():
    with pytest.raises(ValidationError, match="evaluation_minutes is now evaluation_periods and datapoints_to_alarm"):
        AsyncAlarms.model_validate({"evaluation_minutes": 10})
    with pytest.raises(ValidationError, match=r"datapoints_to_alarm \(6\) must not exceed evaluation_periods \(5\)"):
        AsyncAlarms(evaluation_periods=5, datapoints_to_alarm=6)


# An alarm on a MetricSpec must be the alarm cloudwatch.Alarm would make, property for property
# and logical id for logical id: a different logical id would replace a named alarm on deploy.
THRESHOLD_COMPARISONS = [c for c in cloudwatch.ComparisonOperator if "UPPER" not in c.value and "LOWER" not in c.value]
BAND_COMPARISONS = [c for c in cloudwatch.ComparisonOperator if c not in THRESHOLD_COMPARISONS]


@pytest.mark.parametrize("comparison", THRESHOLD_COMPARISONS)
@pytest.mark.parametrize(
    ("treat_missing_data", "statistic"),
    [(member, statistic) for member in cloudwatch.TreatMissingData for statistic in ("Maximum", "p99")],
)
def test_an_alarm_on_a_metric_spec_renders_as_cloudwatch_alarm_does(comparison, treat_missing_data, statistic):
    metric_spec = MetricSpec("AWS/SageMaker", "ModelLatency", (("EndpointName", "e"), ("VariantName", "v")), statistic)
    rendered = []
    for metric in (metric_spec, metric_spec.to_metric()):
        stack = new_stack()
        topic = sns.Topic(stack, "Topic")
        create_alarms(
            stack,
            [spec("Latency", metric=metric, comparison=comparison, treat_missing_data=treat_missing_data)],
            name_prefix="e",
            evaluation=AlarmEvaluation(evaluation_periods=3, datapoints_to_alarm=2),
            topic=topic,
        )
        rendered.append(Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm"))
    spec_alarm, l2_alarm = rendered
    assert spec_alarm == l2_alarm
    (properties,) = [resource["Properties"] for resource in spec_alarm.values()]
    assert properties["ComparisonOperator"] in service_models.enum("cloudwatch", "ComparisonOperator")
    assert ("ExtendedStatistic" if statistic == "p99" else "Statistic") in properties


@pytest.mark.parametrize("comparison", BAND_COMPARISONS)
def test_an_alarm_on_a_metric_spec_refuses_the_anomaly_band_comparisons(comparison):
    with pytest.raises(ValueError, match="needs an anomaly detection band"):
        create_alarms(
            new_stack(),
            [spec("Errors", metric=MetricSpec("Test", "Errors", (), "Sum"), comparison=comparison)],
            name_prefix="e",
            evaluation=AlarmEvaluation(),
            topic=None,
        )


def test_a_metric_spec_refuses_a_statistic_cloudwatch_alarms_cannot_take():
    with pytest.raises(ValueError, match=r"statistic 'avg': use one of \['Average', 'Maximum'"):
        MetricSpec("AWS/SageMaker", "ModelLatency", (), "avg")


def test_an_alarm_on_a_metric_spec_exposes_its_name_and_resource():
    stack = new_stack()
    alarms = create_alarms(
        stack,
        [spec("Errors", metric=MetricSpec("Test", "Errors", (), "Sum"))],
        name_prefix="e",
        evaluation=AlarmEvaluation(),
        topic=None,
    )
    alarm = alarms["Errors"]
    assert isinstance(alarm, HealthAlarm)
    assert alarm.alarm_name == "e-Errors"
    assert alarm.node.default_child is not None
    logical_id = stack.get_logical_id(alarm.node.default_child)
    assert stack.resolve(alarm.alarm_arn) == {"Fn::GetAtt": [logical_id, "Arn"]}
    properties = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    (only,) = properties.values()
    assert "AlarmActions" not in only["Properties"] and "OKActions" not in only["Properties"]


def test_an_alarm_on_a_math_spec_renders_as_cloudwatch_alarm_on_a_math_expression_does():
    # Dimensions given unsorted and a percentile: the L2 alarm sorts them and renders Stat as given.
    errors = MetricSpec("AWS/SageMaker", "Invocation4XXErrors", (("VariantName", "v"), ("EndpointName", "e")), "Sum")
    latency = MetricSpec("AWS/SageMaker", "ModelLatency", (("EndpointName", "e"),), "p99")
    math = MathSpec("IF(latency > 0, errors / latency, 0)", (("errors", errors), ("latency", latency)), label="ratio")
    l2 = cloudwatch.MathExpression(
        expression=math.expression,
        using_metrics={id: metric.to_metric() for id, metric in math.using},
        label="ratio",
        period=cdk.Duration.minutes(1),
    )
    rendered = []
    for metric in (math, l2):
        stack = new_stack()
        create_alarms(
            stack,
            [spec("Ratio", metric=metric)],
            name_prefix="e",
            evaluation=AlarmEvaluation(),
            topic=sns.Topic(stack, "Topic"),
        )
        rendered.append(Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm"))
    assert rendered[0] == rendered[1]
    (properties,) = [resource["Properties"] for resource in rendered[0].values()]
    assert [query["Id"] for query in properties["Metrics"]] == ["expr_1", "errors", "latency"]


def test_a_math_spec_refuses_an_id_metric_math_cannot_name():
    with pytest.raises(ValueError, match=r"metric math ids \['Errors'\]"):
        MathSpec("Errors * 2", (("Errors", MetricSpec("Test", "Errors", (), "Sum")),))
