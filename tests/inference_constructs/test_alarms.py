from __future__ import annotations

import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from inference_constructs.alarms import AlarmEvaluation, AlarmSpec, alarm_name, create_alarms
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
