"""The execution metrics of a ``BatchTransformJob`` and its alarms on failed and timed-out runs."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns

from inference_constructs.alarms import AlarmSpec, HealthAlarm, MetricSpec, create_alarms
from inference_constructs.batch.settings import BatchAlarms

if TYPE_CHECKING:
    from inference_constructs.batch_transform_job import BatchTransformJob


# The period of the execution metrics, unless a caller asks for another.
EXECUTION_METRIC_PERIOD_MINUTES = 5


@functools.cache
def _default_period() -> cdk.Duration:
    # Made once per process: a Duration is immutable, and each one made is a jsii round trip.
    return cdk.Duration.minutes(EXECUTION_METRIC_PERIOD_MINUTES)


def execution_metric(state_machine_arn: str, metric_name: str, props: dict[str, Any]) -> cloudwatch.Metric:
    """A Step Functions execution metric of one state machine, summed over 5 minutes unless ``props`` say otherwise."""
    # Addressed by the state machine's stable ARN (built from its name), not its resource
    # attribute, so dashboards in other stacks need no export of this stack.
    return cloudwatch.Metric(
        namespace="AWS/States",
        metric_name=metric_name,
        dimensions_map={"StateMachineArn": state_machine_arn},
        **{"statistic": "Sum", "period": _default_period(), **props},
    )


def execution_metric_spec(state_machine_arn: str, metric_name: str, period_minutes: int) -> MetricSpec:
    """:func:`execution_metric` described in Python, summed over ``period_minutes`` (what the alarms are built from)."""
    return MetricSpec("AWS/States", metric_name, (("StateMachineArn", state_machine_arn),), "Sum", period_minutes * 60)


def create_execution_alarms(
    job: BatchTransformJob, settings: BatchAlarms, topic: sns.ITopic
) -> dict[str, cloudwatch.Alarm | HealthAlarm]:
    """One alarm on failed and one on timed-out executions, keyed like the endpoints' alarms."""
    specs = [
        AlarmSpec(
            key=key,
            metric=metric,
            threshold=1,
            description=f"a batch transform run {what}; the notifications topic has the job name and reason",
            # No executions means nothing failed.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for key, metric, what in (
            ("FailedExecutions", _spec(job, "ExecutionsFailed", settings), "failed"),
            ("TimedOutExecutions", _spec(job, "ExecutionsTimedOut", settings), "timed out"),
        )
    ]
    # Named like the endpoints' alarms, so the dashboard refers to them without exports.
    return create_alarms(
        job,
        specs,
        name_prefix=job.state_machine_name,
        evaluation=settings.evaluation,
        topic=topic,
    )


def _spec(job: BatchTransformJob, metric_name: str, settings: BatchAlarms) -> MetricSpec:
    return execution_metric_spec(job.state_machine_arn, metric_name, settings.period_minutes)
