"""Waking an async endpoint scaled to zero: a step scaling policy that adds one instance, driven
by an alarm on SageMaker's ``HasBacklogWithoutCapacity``.

At zero instances there is no backlog *per instance* for target tracking to act on; SageMaker
reports ``HasBacklogWithoutCapacity`` = 1 instead, and this policy adds one instance.

``WakeFromZero`` builds in the scopes it is given, under the ids its resources have always had
there: it is not a ``Construct`` because a construct level of its own would rename (and so
replace) the deployed policy and alarm.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from constructs import Construct


class WakeFromZero:
    """``action`` adds one instance to ``target`` when ``alarm`` sees ``has_backlog_without_capacity``.

    :param scope: Where the alarm goes (the endpoint).
    :param target: The endpoint's scalable target; the policy goes under it, like its other
        policies, so that an instance type change replaces them together.
    :param has_backlog_without_capacity: SageMaker's metric, 1 while requests queue at zero instances.
    :param endpoint_name: Named in the alarm's description.
    :param cooldown: The policy's cooldown (the endpoint's scale-out cooldown).
    :param alarm_id: The alarm's construct id (the async endpoint's is the default).
    :param description: The alarm's description (the async endpoint's is the default).

    Inference components wake the same way, on ``NoCapacityInvocationFailures`` (requests that
    found no copy), adding one copy (see ``inference_constructs.inference_component``).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        target: autoscaling.ScalableTarget,
        has_backlog_without_capacity: cloudwatch.IMetric,
        endpoint_name: str,
        cooldown: cdk.Duration,
        alarm_id: str = "HasBacklogWithoutCapacityAlarm",
        description: str | None = None,
    ) -> None:
        self.action = autoscaling.StepScalingAction(
            target,
            "WakeFromZero",
            scaling_target=target,
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=autoscaling.MetricAggregationType.MAXIMUM,
            cooldown=cooldown,
        )
        self.action.add_adjustment(adjustment=1, lower_bound=0)
        self.alarm = cloudwatch.Alarm(
            scope,
            alarm_id,
            alarm_description=description
            or f"{endpoint_name}: requests are queued and no instance is running; "
            "this alarm's action starts the first instance.",
            metric=has_backlog_without_capacity,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # Any queued request at zero capacity is real demand: wake on the first datapoint.
            evaluation_periods=1,
            # No datapoint means SageMaker saw no backlog: nothing to wake for.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarm.add_alarm_action(cloudwatch_actions.ApplicationScalingAction(self.action))
