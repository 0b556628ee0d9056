"""``InferenceComponent``: one model's share of an environment's shared endpoint
(``AWS::SageMaker::InferenceComponent``): CPU cores, memory and accelerators per copy, a copy
count scaled on its own, a rolling update policy with rollback alarms, and, when its copies
may fall to zero, the alarm and step policy that bring one back.

AWS's rules, each from an AWS artefact:
- ranges of the compute requirements and copy count: botocore's sagemaker model
  (``InferenceComponentComputeResourceRequirements``, ``InferenceComponentRuntimeConfig``);
- the rolling update policy: "MaximumBatchSize ... must be between 5% to 50% of the copy count",
  WaitIntervalInSeconds 0-3600, MaximumExecutionTimeoutInSeconds 600-28800
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_InferenceComponentRollingUpdatePolicy.html;
  the same ranges are in CloudFormation's AWS::SageMaker::InferenceComponent schema); inference
  components have no blue/green policy, only ``RollingUpdatePolicy``;
- copies scale through Application Auto Scaling on ``sagemaker:inference-component:DesiredCopyCount``
  with resource id ``inference-component/<name>`` and the predefined metric
  ``SageMakerInferenceComponentInvocationsPerCopy`` (both enums of botocore's
  application-autoscaling model);
- scaling to zero: copies with minimum 0 on an endpoint whose ``MinInstanceCount`` is 0, and a
  step scaling policy, driven by an alarm on ``NoCapacityInvocationFailures``, that adds a copy
  when a request finds none (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct
from pydantic import Field, model_validator

from inference_constructs import durations
from inference_constructs.alarms import (
    AlarmEvaluation,
    AlarmSpec,
    MetricSpec,
    alarm_name,
    create_alarms,
    model_alarm_specs,
)
from inference_constructs.deployment_policy import DeploymentPolicy
from inference_constructs.endpoint import SAGEMAKER_NAMESPACE, autoscaling_service_linked_role, grant_describe_alarms
from inference_constructs.inference_model import InferenceModel
from inference_constructs.instance_resources import resources_of
from inference_constructs.service_models import minimum
from inference_constructs.settings import CapacityRange, Settings
from inference_constructs.shared_endpoint import SharedEndpointSettings
from inference_constructs.wake_from_zero import WakeFromZero

COPY_COUNT_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
# A new model version that fails requests or answers slowly rolls back (as real-time endpoints do).
ROLLBACK_ALARMS = ("Invocation5XXErrors", "ModelLatency")
# What the scale-to-zero page requires of the endpoint and of each component.
SCALE_TO_ZERO_PAGE = "https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html"


class ComputeRequirements(Settings):
    """What each copy reserves on an instance (InferenceComponentComputeResourceRequirements)."""

    cpu_cores: float | None = Field(
        default=None, ge=minimum("sagemaker", "NumberOfCpuCores"), description="CPU cores per copy (at least 0.25)."
    )
    memory_mib: int = Field(
        ge=int(minimum("sagemaker", "MemoryInMb")), description="Memory reserved per copy, in MiB (at least 128)."
    )
    max_memory_mib: int | None = Field(
        default=None, ge=int(minimum("sagemaker", "MemoryInMb")), description="Most memory a copy may use, in MiB."
    )
    accelerators: int | None = Field(
        default=None,
        ge=int(minimum("sagemaker", "NumberOfAcceleratorDevices")),
        description="Accelerator devices (GPUs, Inferentia chips) per copy.",
    )

    @model_validator(mode="after")
    def _max_not_below_min(self) -> ComputeRequirements:
        if self.max_memory_mib is not None and self.max_memory_mib < self.memory_mib:
            raise ValueError(f"max_memory_mib ({self.max_memory_mib}) is below memory_mib ({self.memory_mib})")
        return self

    def to_props(self) -> dict[str, Any]:
        """The L1 struct as a plain dict (jsii's camelCase keys): built in Python, one jsii call."""
        return _without_none(
            {
                "numberOfCpuCoresRequired": self.cpu_cores,
                "minMemoryRequiredInMb": self.memory_mib,
                "maxMemoryRequiredInMb": self.max_memory_mib,
                "numberOfAcceleratorDevicesRequired": self.accelerators,
            }
        )


class CopyAutoscaling(CapacityRange):
    """Target tracking on invocations per copy; a minimum of 0 lets the copies (and, when every
    component does, the endpoint's instances) scale to zero."""

    min_capacity: int = Field(ge=0, le=1000, description="Fewest copies (0: scale to zero when idle).")
    max_capacity: int = Field(ge=1, le=1000, description="Most copies.")
    target_invocations_per_copy: int = Field(
        ge=1,
        le=100_000,
        description="Invocations per copy per minute to hold (SageMakerInferenceComponentInvocationsPerCopy).",
    )
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600, description="Seconds after a scale-in activity.")
    scale_out_cooldown_seconds: int = Field(
        default=60, ge=0, le=3600, description="Seconds after a scale-out activity (and after a wake from zero)."
    )


class ComponentAlarms(AlarmEvaluation):
    """Alarm thresholds; both are rollback alarms of the component's rolling updates."""

    invocation_5xx_errors: int = Field(default=5, ge=1, description="5XX errors per minute.")
    model_latency_p99_milliseconds: int = Field(default=1000, ge=1, le=60_000, description="p99 model latency.")


def _rolling(policy: DeploymentPolicy) -> DeploymentPolicy:
    # Inference components update in rolling batches only (InferenceComponentDeploymentConfig has
    # no blue/green policy): any other strategy is refused rather than silently changed.
    if policy.strategy != "rolling":
        raise ValueError(
            f"deployment.strategy {policy.strategy!r}: inference components update only with strategy 'rolling' "
            "(InferenceComponentDeploymentConfig has a RollingUpdatePolicy and nothing else)"
        )
    return policy


class ComponentSettings(Settings):
    """A model served as an inference component of the environment's shared endpoint."""

    compute: ComputeRequirements = Field(description="CPU cores, memory and accelerators each copy reserves.")
    copy_count: int = Field(
        default=1,
        ge=int(minimum("sagemaker", "InferenceComponentCopyCount")),
        le=1000,
        description="Copies at creation; must lie within the autoscaling bounds.",
    )
    autoscaling: CopyAutoscaling | None = Field(
        default=None, description="Scale the copies on invocations per copy; min_capacity 0 scales to zero."
    )
    deployment: DeploymentPolicy = Field(
        default=DeploymentPolicy(strategy="rolling", rolling_batch_percent=50, wait_interval_seconds=300),
        description="A rolling update: rolling_batch_percent (5-50) of the copies at a time, rollback_batch_percent, "
        "wait_interval_seconds, auto_rollback on the component's alarms.",
    )
    alarms: ComponentAlarms = Field(
        default=ComponentAlarms(), description="Alarm thresholds; both alarms roll an update back."
    )

    @model_validator(mode="after")
    def _fits(self) -> ComponentSettings:
        _rolling(self.deployment)
        scaling = self.autoscaling
        if scaling and not scaling.min_capacity <= self.copy_count <= scaling.max_capacity:
            raise ValueError(
                f"copy_count ({self.copy_count}) must lie within autoscaling min_capacity..max_capacity "
                f"({scaling.min_capacity}..{scaling.max_capacity})"
            )
        return self

    @property
    def scales_to_zero(self) -> bool:
        return self.autoscaling is not None and self.autoscaling.min_capacity == 0


def check_fits_endpoint(settings: ComponentSettings, endpoint: SharedEndpointSettings) -> list[str]:
    """What SageMaker would refuse (or never place) of ``settings`` on ``endpoint``: each copy must
    fit one instance, and scaling to zero needs an endpoint whose minimum is 0 instances."""
    problems = []
    have = resources_of(endpoint.instance_type)
    asked = settings.compute
    where = f"one {endpoint.instance_type} (shared_endpoint.instance_type)"
    if asked.cpu_cores is not None and asked.cpu_cores > have.vcpus:
        problems.append(f"compute.cpu_cores {asked.cpu_cores:g} is more than the {have.vcpus} vCPUs of {where}")
    # The reservation must fit an instance; max_memory_mib only caps a copy's use.
    if asked.memory_mib is not None and have.memory_mib is not None and asked.memory_mib > have.memory_mib:
        problems.append(f"compute.memory_mib {asked.memory_mib} is more than the {have.memory_mib} MiB of {where}")
    if asked.accelerators is not None and have.accelerators is not None and asked.accelerators > have.accelerators:
        problems.append(
            f"compute.accelerators {asked.accelerators} is more than the {have.accelerators} accelerator devices of "
            f"{where}"
        )
    if settings.scales_to_zero and not endpoint.scales_to_zero:
        problems.append(
            "autoscaling.min_capacity 0 (scale to zero) needs shared_endpoint.managed_instance_scaling."
            f"min_instance_count 0, but it is {endpoint.managed_instance_scaling.min_instance_count} "
            f"({SCALE_TO_ZERO_PAGE})"
        )
    return problems


class InferenceComponent(Construct):
    """One model on the shared endpoint, with its scaling, alarms and rolling update policy.

    :param component_name: Its fixed name (``prod-iris-component``): callers pass it as
        ``InferenceComponentName``, scaling addresses it by it. Every property of the resource
        updates in place (CloudFormation's schema has no create-only property), so the name never
        blocks an update.
    :param endpoint_name: The shared endpoint's name (a fixed name: no cross-stack reference).
    :param variant_name: The shared endpoint's production variant.
    :param model: The model it serves (its role reads the rollback alarms).
    :param settings: Compute, copies, autoscaling, rolling update policy, alarm thresholds.
    :param alarm_topic: Where alarms notify (ALARM and OK).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        component_name: str,
        endpoint_name: str,
        variant_name: str,
        model: InferenceModel,
        settings: ComponentSettings,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.component_name = component_name
        self.endpoint_name = endpoint_name
        self.settings = settings
        self.model = model
        self.alarms = create_alarms(
            self,
            self._alarm_specs(settings.alarms),
            name_prefix=component_name,
            evaluation=settings.alarms,
            topic=alarm_topic,
        )
        self.alarm_names = {key: alarm_name(component_name, key) for key in self.alarms}
        policy = settings.deployment
        rollback_names = [self.alarm_names[key] for key in ROLLBACK_ALARMS] if policy.auto_rollback else []
        grant_describe_alarms(model.role, rollback_names)
        self.component = sagemaker.CfnInferenceComponent(
            self,
            "Component",
            inference_component_name=component_name,
            endpoint_name=endpoint_name,
            variant_name=variant_name,
            specification={
                "modelName": model.model_name,
                "computeResourceRequirements": settings.compute.to_props(),
            },
            runtime_config={"copyCount": settings.copy_count},
            deployment_config=component_deployment_config(policy, rollback_names),
        )
        # SageMaker checks that the rollback alarms exist when it takes the deployment config.
        for key in ROLLBACK_ALARMS if policy.auto_rollback else ():
            self.component.node.add_dependency(self.alarms[key])
        self.scalable_target = self._autoscale(settings.autoscaling) if settings.autoscaling else None

    def _autoscale(self, scaling: CopyAutoscaling) -> autoscaling.ScalableTarget:
        target = autoscaling.ScalableTarget(
            self,
            "ScalableTarget",
            role=autoscaling_service_linked_role(self),
            service_namespace=autoscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"inference-component/{self.component_name}",
            scalable_dimension=COPY_COUNT_DIMENSION,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
        )
        target.node.add_dependency(self.component)
        target.scale_to_track_metric(
            "InvocationsPerCopy",
            target_value=scaling.target_invocations_per_copy,
            predefined_metric=autoscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY,
            scale_in_cooldown=durations.seconds(scaling.scale_in_cooldown_seconds),
            scale_out_cooldown=durations.seconds(scaling.scale_out_cooldown_seconds),
        )
        if scaling.min_capacity == 0:
            # At zero copies there is nothing per copy to track; SageMaker counts the requests
            # that found no copy instead, and this policy adds the first copy back.
            self.wake_from_zero: WakeFromZero | None = WakeFromZero(
                self,
                target=target,
                has_backlog_without_capacity=self.metric("NoCapacityInvocationFailures", statistic="Maximum"),
                endpoint_name=self.component_name,
                cooldown=durations.seconds(scaling.scale_out_cooldown_seconds),
                alarm_id="NoCapacityInvocationFailuresAlarm",
                description=f"{self.component_name}: a request found no copy of the model; this alarm's action "
                "adds a copy (and SageMaker an instance if the endpoint has none).",
            )
        else:
            self.wake_from_zero = None
        return target

    def _alarm_specs(self, thresholds: ComponentAlarms) -> list[AlarmSpec]:
        return list(
            model_alarm_specs(
                lambda name, statistic: self.metric_spec(name, statistic=statistic),
                invocation_5xx_errors=thresholds.invocation_5xx_errors,
                model_latency_p99_milliseconds=thresholds.model_latency_p99_milliseconds,
            )
        )

    def metric_spec(self, metric_name: str, *, statistic: str = "Average") -> MetricSpec:
        """:meth:`metric` described in Python, per minute: what the component's alarms are built
        from (an alarm on it costs one jsii call, see ``inference_constructs.alarms``)."""
        dimensions = (("InferenceComponentName", self.component_name),)
        return MetricSpec(SAGEMAKER_NAMESPACE, metric_name, dimensions, statistic)

    def metric(self, metric_name: str, *, statistic: str = "Average", **props: Any) -> cloudwatch.Metric:
        """A metric SageMaker publishes per inference component (dimension ``InferenceComponentName``)."""
        return cloudwatch.Metric(
            namespace=SAGEMAKER_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"InferenceComponentName": self.component_name},
            statistic=statistic,
            period=props.pop("period", durations.minutes(1)),
            **props,
        )


def component_deployment_config(policy: DeploymentPolicy, rollback_alarm_names: list[str]) -> dict[str, Any]:
    """``policy`` (strategy 'rolling') as the L1's InferenceComponentDeploymentConfig (jsii's
    camelCase keys): batches in percent of the copies, rolling back on the named alarms."""
    policy = _rolling(policy)
    assert policy.rolling_batch_percent is not None
    rolling: dict[str, Any] = {
        "maximumBatchSize": {"type": "CAPACITY_PERCENT", "value": policy.rolling_batch_percent},
        "waitIntervalInSeconds": policy.wait_interval_seconds,
        "maximumExecutionTimeoutInSeconds": policy.maximum_execution_timeout_seconds,
    }
    if policy.rollback_batch_percent is not None:
        rolling["rollbackMaximumBatchSize"] = {"type": "CAPACITY_PERCENT", "value": policy.rollback_batch_percent}
    config: dict[str, Any] = {"rollingUpdatePolicy": rolling}
    if rollback_alarm_names:
        config["autoRollbackConfiguration"] = {"alarms": [{"alarmName": name} for name in rollback_alarm_names]}
    return config


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
