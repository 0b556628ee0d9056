"""``RealtimeEndpoint``: an instance-backed endpoint (6 MB payloads, 60 s) with autoscaling."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct
from pydantic import AfterValidator, Field, model_validator

from inference_constructs.endpoint import INSTANCE_NAMESPACE, EndpointBase
from inference_constructs.errors import ProblemCollector
from inference_constructs.inference_model import InferenceModel
from inference_constructs.instance_types import check_instance_type
from inference_constructs.naming import check_endpoint_name
from inference_constructs.settings import Settings

InstanceType = Annotated[str, AfterValidator(check_instance_type)]

SCHEDULE_EXPRESSION = re.compile(r"^(cron\([^)]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|at\([^)]+\))$")
VARIANT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")

INSTANCE_COUNT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def _check_schedule(value: str) -> str:
    if not SCHEDULE_EXPRESSION.match(value):
        raise ValueError("expected cron(...), rate(N minutes|hours|days) or at(...)")
    return value


class ScheduledCapacity(Settings):
    """Capacity bounds applied on a schedule, e.g. scale dev down at night."""

    name: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$", description="A name for the action.")
    schedule: Annotated[str, AfterValidator(_check_schedule)] = Field(
        description="cron(...), rate(...) or at(...) in Application Auto Scaling syntax."
    )
    time_zone: str | None = Field(default=None, description="IANA time zone of a cron schedule, e.g. Europe/Dublin.")
    min_capacity: int | None = Field(default=None, ge=0)
    max_capacity: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> ScheduledCapacity:
        if self.min_capacity is None and self.max_capacity is None:
            raise ValueError("set min_capacity, max_capacity or both")
        if self.min_capacity is not None and self.max_capacity is not None and self.min_capacity > self.max_capacity:
            raise ValueError(f"min_capacity ({self.min_capacity}) is above max_capacity ({self.max_capacity})")
        return self


class InstanceAutoscaling(Settings):
    """Target tracking on invocations per instance, with optional CPU tracking and schedules."""

    min_capacity: int = Field(ge=1, le=1000, description="Fewest instances.")
    max_capacity: int = Field(ge=1, le=1000, description="Most instances.")
    target_invocations_per_instance: int = Field(
        ge=1, le=100_000, description="Invocations per instance per minute to hold (see BENCHMARKS.md)."
    )
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600)
    scale_out_cooldown_seconds: int = Field(default=60, ge=0, le=3600)
    target_cpu_utilization_percent: float | None = Field(
        default=None, gt=0, le=100, description="Also track average CPU utilization, if set."
    )
    scheduled_actions: tuple[ScheduledCapacity, ...] = ()

    @model_validator(mode="after")
    def _bounds(self) -> InstanceAutoscaling:
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"min_capacity ({self.min_capacity}) is above max_capacity ({self.max_capacity})")
        names = [action.name for action in self.scheduled_actions]
        if len(names) != len(set(names)):
            raise ValueError(f"scheduled action names must be unique, got {names}")
        return self


class RealtimeSettings(Settings):
    """Props of a real-time endpoint's single production variant."""

    instance_type: InstanceType = Field(description="e.g. ml.m5.large")
    initial_instance_count: int = Field(default=1, ge=1, le=1000)
    variant_name: str = Field(default="AllTraffic", pattern=VARIANT_NAME.pattern)
    initial_variant_weight: float = Field(default=1.0, gt=0, le=1)
    autoscaling: InstanceAutoscaling | None = None

    @model_validator(mode="after")
    def _count_within_bounds(self) -> RealtimeSettings:
        scaling = self.autoscaling
        if scaling and not scaling.min_capacity <= self.initial_instance_count <= scaling.max_capacity:
            raise ValueError(
                f"initial_instance_count ({self.initial_instance_count}) must lie within autoscaling "
                f"min_capacity..max_capacity ({scaling.min_capacity}..{scaling.max_capacity})"
            )
        return self


class RealtimeEndpoint(EndpointBase):
    """A real-time SageMaker endpoint for one model, encrypted with the platform key.

    The Model and EndpointConfig get CloudFormation-generated names (they are replaced on
    every change); the endpoint keeps ``endpoint_name`` and is updated in place. When
    autoscaled, the endpoint retains its variant properties so a deploy never resets the
    instance count that autoscaling chose.

    :param model: The model to serve.
    :param encryption_key: Encrypts the instances' storage volumes.
    :param endpoint_name: Stable endpoint name, e.g. ``prod-iris-realtime``.
    :param settings: Instance type, counts and autoscaling.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: InferenceModel,
        encryption_key: kms.IKey,
        endpoint_name: str,
        settings: RealtimeSettings | Mapping[str, Any],
    ) -> None:
        problems = ProblemCollector()
        checked = problems.validate(RealtimeSettings, settings, "settings")
        try:
            check_endpoint_name(endpoint_name)
        except ValueError as error:
            problems.add(f"endpoint_name: {error}")
        problems.raise_if_any(f"{scope.node.path}/{id}")
        assert isinstance(checked, RealtimeSettings)
        super().__init__(scope, id, endpoint_name=endpoint_name, variant_name=checked.variant_name)
        self.settings = checked
        self.model = model

        config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            kms_key_id=encryption_key.key_arn,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=checked.variant_name,
                    model_name=model.model_name,
                    instance_type=checked.instance_type,
                    initial_instance_count=checked.initial_instance_count,
                    initial_variant_weight=checked.initial_variant_weight,
                )
            ],
        )
        self._create_endpoint(config, retain_variant_properties=checked.autoscaling is not None)
        self.scalable_target = self._autoscale(checked.autoscaling) if checked.autoscaling else None

    def _autoscale(self, scaling: InstanceAutoscaling) -> autoscaling.ScalableTarget:
        target = self._scalable_target(INSTANCE_COUNT_DIMENSION, scaling.min_capacity, scaling.max_capacity)
        target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=scaling.target_invocations_per_instance,
            predefined_metric=autoscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=cdk.Duration.seconds(scaling.scale_in_cooldown_seconds),
            scale_out_cooldown=cdk.Duration.seconds(scaling.scale_out_cooldown_seconds),
        )
        if scaling.target_cpu_utilization_percent is not None:
            target.scale_to_track_metric(
                "CpuUtilization",
                target_value=scaling.target_cpu_utilization_percent,
                custom_metric=self.metric_cpu_utilization(),
                scale_in_cooldown=cdk.Duration.seconds(scaling.scale_in_cooldown_seconds),
                scale_out_cooldown=cdk.Duration.seconds(scaling.scale_out_cooldown_seconds),
            )
        for action in scaling.scheduled_actions:
            target.scale_on_schedule(
                action.name,
                schedule=autoscaling.Schedule.expression(action.schedule),
                min_capacity=action.min_capacity,
                max_capacity=action.max_capacity,
                time_zone=cdk.TimeZone.of(action.time_zone) if action.time_zone else None,
            )
        return target

    def metric_cpu_utilization(self, **props: Any) -> cloudwatch.Metric:
        """Average CPU utilization across instances (100% per vCPU)."""
        return self.metric("CPUUtilization", namespace=INSTANCE_NAMESPACE, **props)

    def metric_memory_utilization(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("MemoryUtilization", namespace=INSTANCE_NAMESPACE, **props)

    def metric_disk_utilization(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("DiskUtilization", namespace=INSTANCE_NAMESPACE, **props)
