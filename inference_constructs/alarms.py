"""Alarm plumbing shared by the mode constructs: one path creates every alarm, and every
alarm notifies the platform's alarm topic.

A construct describes its alarms as :class:`AlarmSpec` values and hands them to
:func:`create_alarms`; nothing else builds a health alarm. Alarms get stable names,
``<endpoint name>-<alarm>`` (e.g. ``prod-iris-realtime-Invocation5XXErrors``): an operator
finds them by name, and the environment's dashboard (another stack) addresses them by name
instead of importing their generated names through cross-stack exports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct
from pydantic import Field, model_validator

from inference_constructs.settings import Settings

# CloudWatch allows 255 characters in an alarm name.
MAX_ALARM_NAME_LENGTH = 255


class AlarmEvaluation(Settings):
    """How many one-minute periods an alarm looks at, and how many must breach."""

    evaluation_periods: int = Field(default=5, ge=1, le=60, description="One-minute periods looked at.")
    datapoints_to_alarm: int = Field(
        default=3, ge=1, le=60, description="Periods among them that must breach (at most evaluation_periods)."
    )

    @model_validator(mode="after")
    def _datapoints_within_periods(self) -> AlarmEvaluation:
        # PutMetricAlarm refuses more datapoints than periods ("DatapointsToAlarm ... must be
        # less than or equal to EvaluationPeriods"), so CloudFormation would fail the alarm:
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(
                f"datapoints_to_alarm ({self.datapoints_to_alarm}) must not exceed evaluation_periods "
                f"({self.evaluation_periods})"
            )
        return self


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm a construct wants: what it watches, when it fires, and how it reads silence.

    :param key: Short name, e.g. ``Invocation5XXErrors``: the construct id (``<key>Alarm``),
        the key in the construct's ``alarms`` and the suffix of the alarm's name.
    :param treat_missing_data: Chosen per alarm, never left to CloudWatch's default: say why
        in ``description`` or next to the spec.
    :param evaluation: Overrides the evaluation the construct passes to :func:`create_alarms`.
    """

    key: str
    metric: cloudwatch.IMetric
    threshold: float
    description: str
    treat_missing_data: cloudwatch.TreatMissingData
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
    evaluation: AlarmEvaluation | None = None


def alarm_name(name_prefix: str, key: str) -> str:
    """The physical name of alarm ``key`` of the resource named ``name_prefix``."""
    name = f"{name_prefix}-{key}"
    if len(name) > MAX_ALARM_NAME_LENGTH:
        raise ValueError(f"alarm name {name!r} is longer than {MAX_ALARM_NAME_LENGTH} characters")
    return name


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
    name: str | None = None,
) -> cloudwatch.Alarm:
    """An alarm whose ALARM and OK transitions are sent to ``topic``."""
    alarm = cloudwatch.Alarm(
        scope,
        id,
        alarm_name=name,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison,
        evaluation_periods=evaluation.evaluation_periods,
        datapoints_to_alarm=evaluation.datapoints_to_alarm,
        treat_missing_data=treat_missing_data,
        alarm_description=description,
    )
    if topic is not None:
        alarm.add_alarm_action(actions.SnsAction(topic))
        alarm.add_ok_action(actions.SnsAction(topic))
    return alarm


def create_alarms(
    scope: Construct,
    specs: Iterable[AlarmSpec],
    *,
    name_prefix: str,
    evaluation: AlarmEvaluation,
    topic: sns.ITopic | None,
) -> dict[str, cloudwatch.Alarm]:
    """Every alarm of ``specs``, named ``<name_prefix>-<key>``, described as
    ``<name_prefix>: <description>``, keyed by ``key``."""
    alarms: dict[str, cloudwatch.Alarm] = {}
    for spec in specs:
        if spec.key in alarms:
            raise ValueError(f"two alarms share the key {spec.key!r}")
        alarms[spec.key] = create_alarm(
            scope,
            f"{spec.key}Alarm",
            metric=spec.metric,
            threshold=spec.threshold,
            description=f"{name_prefix}: {spec.description}",
            treat_missing_data=spec.treat_missing_data,
            evaluation=spec.evaluation or evaluation,
            topic=topic,
            comparison=spec.comparison,
            name=alarm_name(name_prefix, spec.key),
        )
    return alarms
