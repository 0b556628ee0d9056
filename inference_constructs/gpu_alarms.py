"""GPU and GPU memory alarms of an instance variant on a GPU instance type, for every mode that
has instances (real-time, async): the thresholds each mode's ``alarms`` block declares, and the
alarm specs rendered from them.

SageMaker reports ``GPUUtilization`` and ``GPUMemoryUtilization`` per instance in the
``/aws/sagemaker/Endpoints`` namespace as the sum over its GPUs, 100% each ("multiplied by the
number of GPUs": https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html).
The thresholds are shares of all the instance's GPUs, so they are rendered per GPU, like CPU
per vCPU.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from aws_cdk import aws_cloudwatch as cloudwatch
from pydantic import Field

from inference_constructs.alarms import AlarmSpec, MetricSpec
from inference_constructs.endpoint import INSTANCE_NAMESPACE
from inference_constructs.instance_types import gpus_of

GpuUtilizationPercent = Annotated[
    float,
    Field(
        default=90,
        gt=0,
        le=100,
        description="On GPU instance types: average GPU utilization in percent of all the instance's GPUs; rendered "
        "per GPU, as CloudWatch reports it (90 on a 4-GPU instance alarms at 360%).",
    ),
]
GpuMemoryUtilizationPercent = Annotated[
    float,
    Field(
        default=90,
        gt=0,
        le=100,
        description="On GPU instance types: average GPU memory utilization in percent of all the instance's GPUs' "
        "memory; rendered per GPU like gpu_utilization_percent.",
    ),
]


class GpuThresholds(Protocol):
    """An ``alarms`` block declaring both GPU thresholds."""

    @property
    def gpu_utilization_percent(self) -> float: ...

    @property
    def gpu_memory_utilization_percent(self) -> float: ...


class InstanceMetrics(Protocol):
    """An endpoint describing its variant's metrics in Python (``EndpointBase.metric_spec``)."""

    def metric_spec(
        self, metric_name: str, *, namespace: str = ..., statistic: str = ..., variant_name: str | None = ...
    ) -> MetricSpec: ...


def gpu_alarm_specs(
    endpoint: InstanceMetrics,
    instance_type: str,
    thresholds: GpuThresholds,
    treat_missing_data: cloudwatch.TreatMissingData,
    variant_name: str | None = None,
) -> list[AlarmSpec]:
    """The GPU and GPU memory alarms of a variant on ``instance_type`` (none on types without GPUs);
    ``variant_name``: a weighted variant's (default: the endpoint's first)."""
    gpus = gpus_of(instance_type)
    if gpus == 0:
        return []
    return [
        AlarmSpec(
            key,
            metric,
            percent * gpus,
            f"average {what} per instance is above {percent:g}% of its {gpus} GPU(s)",
            treat_missing_data,
        )
        for key, metric, percent, what in (
            (
                "GpuUtilization",
                endpoint.metric_spec("GPUUtilization", namespace=INSTANCE_NAMESPACE, variant_name=variant_name),
                thresholds.gpu_utilization_percent,
                "GPU utilization",
            ),
            (
                "GpuMemoryUtilization",
                endpoint.metric_spec("GPUMemoryUtilization", namespace=INSTANCE_NAMESPACE, variant_name=variant_name),
                thresholds.gpu_memory_utilization_percent,
                "GPU memory utilization",
            ),
        )
    ]
