"""Alarm plumbing shared by the mode constructs: every alarm notifies the platform's alarm topic."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct
from pydantic import Field

from inference_constructs.settings import Settings


class AlarmEvaluation(Settings):
    """How many one-minute periods an alarm looks at, and how many must breach."""

    evaluation_periods: int = Field(default=5, ge=1, le=60)
    datapoints_to_alarm: int = Field(default=3, ge=1, le=60)


def create_alarm(
    scope: Construct,
    id: str,
    *,
    metric: cloudwatch.IMetric,
    threshold: float,
    description: str,
    treat_missing_data: cloudwatch.TreatMissingData,
    evaluation: AlarmEvaluation,
    topic: sns.ITopic | None,
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
) -> cloudwatch.Alarm:
    """An alarm whose ALARM and OK transitions are sent to ``topic``."""
    alarm = cloudwatch.Alarm(
        scope,
        id,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison,
        evaluation_periods=evaluation.evaluation_periods,
        datapoints_to_alarm=min(evaluation.datapoints_to_alarm, evaluation.evaluation_periods),
        treat_missing_data=treat_missing_data,
        alarm_description=description,
    )
    if topic is not None:
        alarm.add_alarm_action(actions.SnsAction(topic))
        alarm.add_ok_action(actions.SnsAction(topic))
    return alarm
