"""Alarm plumbing shared by the mode constructs: one path creates every alarm, and every
alarm notifies the platform's alarm topic.

A construct describes its alarms as :class:`AlarmSpec` values and hands them to
:func:`create_alarms`; nothing else builds a health alarm. Alarms get stable names,
``<endpoint name>-<alarm>`` (e.g. ``prod-iris-realtime-Invocation5XXErrors``): an operator
finds them by name, and the environment's dashboard (another stack) addresses them by name
instead of importing their generated names through cross-stack exports.

An alarm on a single metric is best described by a :class:`MetricSpec`: the alarm is then an
``AWS::CloudWatch::Alarm`` whose properties are built here in Python and passed to CDK in one
call, instead of a ``cloudwatch.Metric``, a ``cloudwatch.Alarm`` and two SNS actions made call by
call (seven jsii round trips per alarm, a tenth of the shipped synth's). Its construct path and
logical id are the ones ``cloudwatch.Alarm`` gives, so the template is the same either way.
A metric math alarm is likewise described by a :class:`MathSpec`.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
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


# CloudWatch's simple statistics (the PutMetricAlarm ``Statistic`` enum); percentiles such as
# ``p99`` go in ``ExtendedStatistic`` instead:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
SIMPLE_STATISTICS = frozenset({"SampleCount", "Average", "Sum", "Minimum", "Maximum"})
# The comparisons with a static threshold (the others compare with an anomaly detection band).
THRESHOLD_COMPARISONS = frozenset(
    member.value
    for member in (
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
    )
)
_PERCENTILE = re.compile(r"p\d{1,2}(\.\d+)?")

# Per topic, read or made once (a jsii call each): its ARN, and the SNS alarm action, which
# keeps no state (its bind only returns the topic's ARN) and so serves every alarm.
_topic_arns: weakref.WeakKeyDictionary[sns.ITopic, str] = weakref.WeakKeyDictionary()
_sns_actions: weakref.WeakKeyDictionary[sns.ITopic, actions.SnsAction] = weakref.WeakKeyDictionary()


def topic_arn_of(topic: sns.ITopic) -> str:
    """``topic.topic_arn``, read from jsii once per topic."""
    arn = _topic_arns.get(topic)
    if arn is None:
        arn = _topic_arns[topic] = topic.topic_arn
    return arn


def _sns_action(topic: sns.ITopic) -> actions.SnsAction:
    action = _sns_actions.get(topic)
    if action is None:
        action = _sns_actions[topic] = actions.SnsAction(topic)
    return action


@dataclass(frozen=True)
class MetricSpec:
    """One CloudWatch metric, described in Python: an alarm on it costs one jsii call.

    :param dimensions: ``(name, value)`` pairs, in the order CloudWatch lists them.
    :param statistic: A simple statistic (``Sum``) or a percentile (``p99``).
    """

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str = "Average"
    period_seconds: int = 60

    def __post_init__(self) -> None:
        if self.statistic not in SIMPLE_STATISTICS and not _PERCENTILE.fullmatch(self.statistic):
            raise ValueError(
                f"statistic {self.statistic!r}: use one of {sorted(SIMPLE_STATISTICS)} or a percentile such as p99"
            )

    def to_metric(self, **props: Any) -> cloudwatch.Metric:
        """The same metric as a ``cloudwatch.Metric``, for graphs and for callers."""
        return cloudwatch.Metric(
            namespace=self.namespace,
            metric_name=self.metric_name,
            dimensions_map=dict(self.dimensions),
            statistic=self.statistic,
            period=cdk.Duration.seconds(self.period_seconds),
            **props,
        )

    def alarm_properties(self) -> dict[str, Any]:
        """The metric's properties of an ``AWS::CloudWatch::Alarm``, as ``cloudwatch.Alarm`` renders them."""
        statistic_key = "statistic" if self.statistic in SIMPLE_STATISTICS else "extended_statistic"
        return {
            "namespace": self.namespace,
            "metric_name": self.metric_name,
            "dimensions": [
                cloudwatch.CfnAlarm.DimensionProperty(name=name, value=value) for name, value in self.dimensions
            ],
            "period": self.period_seconds,
            statistic_key: self.statistic,
        }


# A metric math id: CDK's rule for the ids an expression names its metrics by.
_MATH_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")


@dataclass(frozen=True)
class MathSpec:
    """A metric math expression over :class:`MetricSpec` s, described in Python: an alarm on it
    costs one jsii call, where a ``cloudwatch.MathExpression`` alarm (its metrics, the
    expression, the alarm and its actions) cost about a dozen.

    :param using: ``(id, metric)`` pairs, in the order the alarm lists them.
    """

    expression: str
    using: tuple[tuple[str, MetricSpec], ...]
    label: str | None = None
    period_seconds: int = 60

    def __post_init__(self) -> None:
        bad = [id for id, _ in self.using if not _MATH_ID.fullmatch(id)]
        if bad:
            raise ValueError(f"metric math ids {bad}: start with a lowercase letter, then letters, digits or _")

    def alarm_properties(self) -> dict[str, Any]:
        """The ``Metrics`` of an ``AWS::CloudWatch::Alarm``, as ``cloudwatch.Alarm`` renders a
        ``MathExpression``: the expression (id ``expr_1``) returning data, then each metric, its
        dimensions sorted by name, at the expression's period."""
        alarm = cloudwatch.CfnAlarm
        return {
            "metrics": [
                alarm.MetricDataQueryProperty(
                    id="expr_1", expression=self.expression, label=self.label, return_data=True
                ),
                *(
                    alarm.MetricDataQueryProperty(
                        id=id,
                        metric_stat=alarm.MetricStatProperty(
                            metric=alarm.MetricProperty(
                                namespace=metric.namespace,
                                metric_name=metric.metric_name,
                                dimensions=[
                                    alarm.DimensionProperty(name=name, value=value)
                                    for name, value in sorted(metric.dimensions)
                                ],
                            ),
                            period=self.period_seconds,
                            stat=metric.statistic,
                        ),
                        return_data=False,
                    )
                    for id, metric in self.using
                ),
            ]
        }


def _camel_case(member_name: str, *, upper_first: bool) -> str:
    """A CDK enum member's CloudFormation value: jsii names members ``NOT_BREACHING`` for the
    value ``notBreaching`` (TreatMissingData) and ``GREATER_THAN_THRESHOLD`` for
    ``GreaterThanThreshold`` (ComparisonOperator); tests check both against CDK's own rendering."""
    first, *rest = member_name.lower().split("_")
    return (first.capitalize() if upper_first else first) + "".join(part.capitalize() for part in rest)


class HealthAlarm(Construct):
    """An alarm built from a :class:`MetricSpec` or :class:`MathSpec`, in the place
    ``cloudwatch.Alarm`` would have it (its ``Resource`` child), so its logical id is the one the
    L2 alarm had."""

    def __init__(self, scope: Construct, id: str, *, alarm_name: str | None, properties: dict[str, Any]) -> None:
        super().__init__(scope, id)
        self.resource = cloudwatch.CfnAlarm(self, "Resource", alarm_name=alarm_name, **properties)
        #: The alarm's name when it was given one (every alarm made by :func:`create_alarms` is).
        self.alarm_name = alarm_name

    @property
    def alarm_arn(self) -> str:
        return self.resource.attr_arn


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
    metric: cloudwatch.IMetric | MetricSpec | MathSpec
    threshold: float
    description: str
    treat_missing_data: cloudwatch.TreatMissingData
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
    evaluation: AlarmEvaluation | None = None


def model_alarm_specs(
    metric: Callable[[str, str], MetricSpec], *, invocation_5xx_errors: float, model_latency_p99_milliseconds: float
) -> tuple[AlarmSpec, AlarmSpec]:
    """The model's own health, alike wherever it is hosted: failed requests (HTTP 5XX) and p99
    model latency. ``metric(name, statistic)`` gives the host's metric (its dimensions and
    namespace). No traffic is not an error, so missing data is not breaching."""
    not_breaching = cloudwatch.TreatMissingData.NOT_BREACHING
    return (
        AlarmSpec(
            "Invocation5XXErrors",
            metric("Invocation5XXErrors", "Sum"),
            invocation_5xx_errors,
            "the model or its container failed requests (HTTP 5XX)",
            not_breaching,
        ),
        AlarmSpec(
            "ModelLatency",
            metric("ModelLatency", "p99"),
            # ModelLatency is reported in microseconds.
            model_latency_p99_milliseconds * 1000,
            "p99 model latency (microseconds) is above the threshold",
            not_breaching,
        ),
    )


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
    metric: cloudwatch.IMetric | MetricSpec | MathSpec,
    threshold: float,
    description: str,
    treat_missing_data: cloudwatch.TreatMissingData,
    evaluation: AlarmEvaluation,
    topic: sns.ITopic | None,
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    name: str | None = None,
    topic_arn: str | None = None,
) -> cloudwatch.Alarm | HealthAlarm:
    """An alarm whose ALARM and OK transitions are sent to ``topic``.

    :param topic_arn: ``topic``'s ARN when the caller has read it already (one jsii call saved per alarm).
    """
    if isinstance(metric, MetricSpec | MathSpec):
        if comparison.value not in THRESHOLD_COMPARISONS:
            # The band operators compare with an anomaly detection band (ThresholdMetricId), which
            # a single metric has not: PutMetricAlarm refuses them without one.
            raise ValueError(
                f"{comparison.value} needs an anomaly detection band; "
                f"an alarm on a {type(metric).__name__} cannot use it"
            )
        actions_arns = [topic_arn or topic_arn_of(topic)] if topic is not None else None
        return HealthAlarm(
            scope,
            id,
            alarm_name=name,
            properties={
                **metric.alarm_properties(),
                "threshold": threshold,
                "comparison_operator": _camel_case(comparison.value, upper_first=True),
                "evaluation_periods": evaluation.evaluation_periods,
                "datapoints_to_alarm": evaluation.datapoints_to_alarm,
                "treat_missing_data": _camel_case(treat_missing_data.value, upper_first=False),
                "alarm_description": description,
                "alarm_actions": actions_arns,
                "ok_actions": actions_arns,
            },
        )
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
        action = _sns_action(topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
    return alarm


def create_alarms(
    scope: Construct,
    specs: Iterable[AlarmSpec],
    *,
    name_prefix: str,
    evaluation: AlarmEvaluation,
    topic: sns.ITopic | None,
) -> dict[str, cloudwatch.Alarm | HealthAlarm]:
    """Every alarm of ``specs``, named ``<name_prefix>-<key>``, described as
    ``<name_prefix>: <description>``, keyed by ``key``."""
    alarms: dict[str, cloudwatch.Alarm | HealthAlarm] = {}
    topic_arn = topic_arn_of(topic) if topic is not None else None
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
            topic_arn=topic_arn,
        )
    return alarms
