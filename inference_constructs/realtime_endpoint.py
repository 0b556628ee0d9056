"""``RealtimeEndpoint``: an instance-backed endpoint (6 MB payloads, 60 s) with autoscaling."""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct
from pydantic import AfterValidator, Field, model_validator

from inference_constructs import durations
from inference_constructs.alarms import AlarmEvaluation, AlarmSpec, MathSpec, model_alarm_specs
from inference_constructs.compliance import acknowledge_wildcard_resources
from inference_constructs.data_capture import DataCaptureSettings, data_capture_config, grant_data_capture
from inference_constructs.deployment_policy import DeploymentPolicy, check_policy_fits
from inference_constructs.endpoint import (
    INSTANCE_NAMESPACE,
    EndpointLogSettings,
    InstanceBackedEndpoint,
    check_instance_endpoint_props,
)
from inference_constructs.errors import ProblemCollector
from inference_constructs.gpu_alarms import GpuMemoryUtilizationPercent, GpuUtilizationPercent, gpu_alarm_specs
from inference_constructs.inference_model import InferenceModel, ModelImage, check_image_runs_on, check_model_data
from inference_constructs.instance_types import check_autoscalable, check_instance_type, vcpus_of
from inference_constructs.service_models import check_string, max_items
from inference_constructs.settings import CapacityRange, Settings
from inference_constructs.variant_settings import (
    DownloadTimeoutSeconds,
    HealthCheckTimeoutSeconds,
    RoutingStrategy,
    VariantSettings,
    VolumeSizeInGb,
    variant_properties,
)
from inference_core.naming import SAGEMAKER_NAME

InstanceType = Annotated[str, AfterValidator(check_instance_type)]

SCHEDULE_EXPRESSION = re.compile(r"^(cron\([^)]+\)|rate\([0-9]+ (minute|minutes|hour|hours|day|days)\)|at\([^)]+\))$")

INSTANCE_COUNT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
# The alarms an update's baking periods watch: a new model version that fails requests or
# answers slowly rolls back. Utilization and 4XX alarms stay out: a new fleet warming up and
# callers' bad requests say nothing about the new version.
ROLLBACK_ALARMS = ("Invocation5XXErrors", "ModelLatency")


def _check_time_zone(value: str) -> str:
    # Application Auto Scaling takes "a time zone ... from the IANA Time Zone Database"
    # (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html).
    if value not in zoneinfo.available_timezones():
        raise ValueError("expected an IANA time zone such as Europe/Dublin or America/New_York")
    return value


def _check_schedule(value: str) -> str:
    if not SCHEDULE_EXPRESSION.fullmatch(value):
        raise ValueError("expected cron(...), rate(N minutes|hours|days) or at(...)")
    return value


class ScheduledCapacity(Settings):
    """Capacity bounds applied on a schedule, e.g. scale dev down at night."""

    name: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$", description="A name for the action.")
    schedule: Annotated[str, AfterValidator(_check_schedule)] = Field(
        description="cron(...), rate(...) or at(...) in Application Auto Scaling syntax."
    )
    time_zone: Annotated[str, AfterValidator(_check_time_zone)] | None = Field(
        default=None, description="IANA time zone of a cron schedule, e.g. Europe/Dublin."
    )
    min_capacity: int | None = Field(
        default=None, ge=0, description="The minimum from this time on (a real-time variant never scales to zero)."
    )
    max_capacity: int | None = Field(default=None, ge=1, description="The maximum from this time on.")

    @model_validator(mode="after")
    def _bounds(self) -> ScheduledCapacity:
        if self.min_capacity is None and self.max_capacity is None:
            raise ValueError("set min_capacity, max_capacity or both")
        if self.min_capacity is not None and self.max_capacity is not None and self.min_capacity > self.max_capacity:
            raise ValueError(f"min_capacity ({self.min_capacity}) is above max_capacity ({self.max_capacity})")
        return self


class InstanceAutoscaling(CapacityRange):
    """Target tracking on invocations per instance, with optional CPU tracking and schedules."""

    min_capacity: int = Field(ge=1, le=1000, description="Fewest instances.")
    max_capacity: int = Field(ge=1, le=1000, description="Most instances.")
    target_invocations_per_instance: int = Field(
        ge=1, le=100_000, description="Invocations per instance per minute to hold (see BENCHMARKS.md)."
    )
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600, description="Seconds after a scale-in activity.")
    scale_out_cooldown_seconds: int = Field(
        default=60, ge=0, le=3600, description="Seconds after a scale-out activity."
    )
    target_cpu_utilization_percent: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="Also track average CPU utilization, in percent of the whole instance (all its vCPUs), if set.",
    )
    scheduled_actions: tuple[ScheduledCapacity, ...] = Field(
        default=(),
        description="Scheduled changes of the bounds; an action that moves a bound needs a partner that restores it.",
    )

    @model_validator(mode="after")
    def _unique_action_names(self) -> InstanceAutoscaling:
        names = [action.name for action in self.scheduled_actions]
        if len(names) != len(set(names)):
            raise ValueError(f"scheduled action names must be unique, got {names}")
        return self

    @model_validator(mode="after")
    def _schedules_restore_what_they_change(self) -> InstanceAutoscaling:
        # A scheduled action sets the scalable target's bounds and they stay so until another
        # action changes them ("Application Auto Scaling ... changes the minimum and maximum
        # capacity ... at the scheduled time"; nothing reverts it:
        # https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html).
        # So a schedule that moves a bound away from its configured value must be paired with
        # one that sets it back, or the endpoint stays capped (or padded) for good.
        problems = []
        for bound in ("min_capacity", "max_capacity"):
            configured = getattr(self, bound)
            changed = [a.name for a in self.scheduled_actions if getattr(a, bound) not in (None, configured)]
            restored = any(getattr(a, bound) == configured for a in self.scheduled_actions)
            if changed and not restored:
                problems.append(
                    f"scheduled actions {changed} change {bound} from {configured}, and no scheduled action sets "
                    f"it back to {configured}; add one (e.g. a morning action with {bound}: {configured})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class RealtimeAlarms(AlarmEvaluation):
    """Alarm thresholds. Invocation alarms treat missing data as not breaching (no traffic is
    not an error); instance utilization alarms keep their state while data is missing
    (instances being replaced during a deployment report nothing for a minute or two)."""

    invocation_5xx_errors: int = Field(default=5, ge=1, description="5XX errors per minute.")
    invocation_4xx_error_rate_percent: float = Field(
        default=10, gt=0, le=100, description="4XX errors as a share of invocations, in percent."
    )
    model_latency_p99_milliseconds: int = Field(
        default=1000, ge=1, le=60_000, description="p99 model latency (a rollback alarm)."
    )
    cpu_utilization_percent: float = Field(
        default=90,
        gt=0,
        le=100,
        description="Average CPU utilization in percent of the whole instance; rendered per vCPU, as CloudWatch "
        "reports it (90 on a 4-vCPU instance alarms at 360%).",
    )
    memory_utilization_percent: float = Field(
        default=90, gt=0, le=100, description="Average memory utilization per instance, in percent."
    )
    disk_utilization_percent: float = Field(
        default=90, gt=0, le=100, description="Average disk utilization per instance, in percent."
    )
    model_loading_wait_p99_milliseconds: int = Field(
        default=5000,
        ge=1,
        le=3_600_000,
        description="Multi-model endpoints only: p99 time a request waits for its model to be downloaded and loaded.",
    )
    model_cache_hit_percent: float = Field(
        default=50,
        gt=0,
        le=100,
        description="Multi-model endpoints only: alarm when fewer requests than this find their model loaded.",
    )
    gpu_utilization_percent: GpuUtilizationPercent
    gpu_memory_utilization_percent: GpuMemoryUtilizationPercent


class ShadowVariantSettings(VariantSettings):
    """A shadow variant: a new model version receiving a copy of production traffic, whose
    answers are logged (with data capture) but never returned to callers."""

    model_data: Annotated[str, AfterValidator(check_model_data)] = Field(
        description="The new model version: a local .tar.gz or s3://bucket/key.tar.gz."
    )
    instance_type: InstanceType = Field(description="Instance type of the shadow variant, e.g. ml.m5.large.")
    initial_instance_count: int = Field(default=1, ge=1, le=1000, description="Instances of the shadow variant.")
    traffic_percent: int = Field(default=100, ge=1, le=100, description="Share of requests mirrored.")
    variant_name: str = Field(default="Shadow", pattern=SAGEMAKER_NAME.pattern, description="Shadow variant name.")
    container_startup_health_check_timeout_seconds: HealthCheckTimeoutSeconds
    model_data_download_timeout_seconds: DownloadTimeoutSeconds
    volume_size_in_gb: VolumeSizeInGb
    routing_strategy: RoutingStrategy


def check_instance_capacity(
    instance_type: str, initial_instance_count: int, scaling: InstanceAutoscaling | None
) -> None:
    """Raise ValueError where a variant's instance count and autoscaling do not fit together or
    fit its instance type (every instance-backed real-time variant, weighted ones included)."""
    if scaling is None:
        return
    if not scaling.min_capacity <= initial_instance_count <= scaling.max_capacity:
        raise ValueError(
            f"initial_instance_count ({initial_instance_count}) must lie within autoscaling "
            f"min_capacity..max_capacity ({scaling.min_capacity}..{scaling.max_capacity})"
        )
    check_autoscalable(instance_type)
    # Only asynchronous endpoints (and inference components) scale an instance variant to zero:
    # https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html
    at_zero = [action.name for action in scaling.scheduled_actions if action.min_capacity == 0]
    if at_zero:
        raise ValueError(
            f"scheduled actions {at_zero} set min_capacity 0, but a real-time endpoint's instance variant cannot "
            "scale to zero instances (only async endpoints and inference components can); use min_capacity: 1 "
            "or serve the model asynchronously"
        )


def _check_variant_name(value: str) -> str:
    return check_string("sagemaker", "VariantName", value)


class WeightedVariantSettings(VariantSettings):
    """A further production variant (A/B, champion/challenger): its own model version, instances,
    autoscaling and alarms, answering a weighted share of requests. Its share is its
    ``initial_variant_weight`` over the sum of every variant's weight, the endpoint's own
    (``realtime.initial_variant_weight``) included."""

    variant_name: Annotated[str, AfterValidator(_check_variant_name)] = Field(
        description="Variant name, unique in the endpoint (AWS's VariantName: letters, digits, hyphens; 63 at most)."
    )
    model_data: Annotated[str, AfterValidator(check_model_data)] | None = Field(
        default=None, description="This variant's model version (.tar.gz, local or s3://); default: the model's."
    )
    image: ModelImage | None = Field(default=None, description="This variant's serving image; default: the model's.")
    instance_type: InstanceType = Field(description="e.g. ml.m5.large")
    initial_instance_count: int = Field(
        default=1, ge=1, le=1000, description="Instances at creation; must lie within the autoscaling bounds."
    )
    initial_variant_weight: float = Field(
        ge=0, le=1, description="Weight: the variant's share of requests is its weight over the sum of all weights."
    )
    autoscaling: InstanceAutoscaling | None = Field(
        default=None, description="This variant's own scalable target and policies (as realtime.autoscaling)."
    )
    alarms: RealtimeAlarms = Field(default=RealtimeAlarms(), description="This variant's alarm thresholds.")
    container_startup_health_check_timeout_seconds: HealthCheckTimeoutSeconds
    model_data_download_timeout_seconds: DownloadTimeoutSeconds
    volume_size_in_gb: VolumeSizeInGb
    routing_strategy: RoutingStrategy

    @model_validator(mode="after")
    def _capacity_fits(self) -> WeightedVariantSettings:
        check_instance_capacity(self.instance_type, self.initial_instance_count, self.autoscaling)
        if self.image is not None:  # the model's own image is checked with the model's instance types
            check_image_runs_on(self.image.runs_on, self.image.architecture, self.instance_type)
        return self


class RealtimeSettings(VariantSettings):
    """Props of a real-time endpoint's production variant (and of any further weighted variants)."""

    instance_type: InstanceType = Field(description="e.g. ml.m5.large")
    initial_instance_count: int = Field(
        default=1, ge=1, le=1000, description="Instances at creation; must lie within the autoscaling bounds."
    )
    variant_name: str = Field(
        default="AllTraffic", pattern=SAGEMAKER_NAME.pattern, description="Production variant name."
    )
    initial_variant_weight: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Weight of this variant: with weighted variants, its share of requests is its weight over the "
        "sum of all weights (alone, it takes every request whatever its weight).",
    )
    autoscaling: InstanceAutoscaling | None = Field(
        default=None,
        description="Scale the instance count: track invocations per instance (and optionally CPU), on schedules.",
    )
    deployment: DeploymentPolicy = Field(
        default=DeploymentPolicy(), description="How an update shifts traffic and when it rolls back."
    )
    alarms: RealtimeAlarms = Field(
        default=RealtimeAlarms(),
        description="Alarm thresholds; 5XX errors and p99 model latency are the rollback alarms.",
    )
    data_capture: DataCaptureSettings | None = Field(
        default=None, description="Capture requests and/or responses to the platform's data-capture bucket."
    )
    shadow: ShadowVariantSettings | None = Field(
        default=None,
        description="A shadow variant: a new model version on mirrored traffic (its answers are not returned).",
    )
    variants: tuple[WeightedVariantSettings, ...] = Field(
        default=(),
        description="Further production variants sharing requests by weight (A/B tests); see docs/modes/realtime.md.",
    )
    retain_variant_weights: bool = Field(
        default=False,
        description="Keep the weights the endpoint has (e.g. shifted with UpdateEndpointWeightsAndCapacities) "
        "through deploys; by default every deploy applies the configured weights.",
    )
    container_startup_health_check_timeout_seconds: HealthCheckTimeoutSeconds
    model_data_download_timeout_seconds: DownloadTimeoutSeconds
    volume_size_in_gb: VolumeSizeInGb
    routing_strategy: RoutingStrategy

    @model_validator(mode="after")
    def _count_within_bounds(self) -> RealtimeSettings:
        check_instance_capacity(self.instance_type, self.initial_instance_count, self.autoscaling)
        return self

    @model_validator(mode="after")
    def _deployment_fits_the_endpoint(self) -> RealtimeSettings:
        # https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html
        check_policy_fits(
            self.deployment,
            [self.instance_type, *([self.shadow.instance_type] if self.shadow else []), *self.variant_instance_types],
            variants=1 + (1 if self.shadow else 0) + len(self.variants),
        )
        if self.shadow is not None and self.shadow.variant_name == self.variant_name:
            raise ValueError("shadow.variant_name must differ from variant_name")
        return self

    @model_validator(mode="after")
    def _weighted_variants_fit(self) -> RealtimeSettings:
        if not self.variants:
            return self
        # "If you use [ShadowProductionVariants], you can only specify one variant for ProductionVariants"
        # (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html).
        if self.shadow is not None:
            raise ValueError(
                "variants and shadow cannot be combined: an endpoint with a shadow variant has exactly one production "
                "variant (CreateEndpointConfig); run the shadow test first, then split traffic by weight"
            )
        limit = max_items("sagemaker", "ProductionVariantList")
        if 1 + len(self.variants) > limit:
            raise ValueError(
                f"at most {limit} production variants per endpoint (sagemaker ProductionVariantList): this one and "
                f"{limit - 1} in variants; got {len(self.variants)} in variants"
            )
        names = [self.variant_name, *(variant.variant_name for variant in self.variants)]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(
                f"variant names must be unique in the endpoint (variant_name and variants); duplicated: {duplicated}"
            )
        # The deployment's rollback alarms: two per variant, and SageMaker takes at most AlarmList's maximum
        # (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AutoRollbackConfig.html).
        alarms = len(names) * len(ROLLBACK_ALARMS)
        alarm_limit = max_items("sagemaker", "AlarmList")
        if self.deployment.auto_rollback and alarms > alarm_limit:
            raise ValueError(
                f"{len(names)} variants have {alarms} rollback alarms ({', '.join(ROLLBACK_ALARMS)} each) and a "
                f"deployment rolls back on at most {alarm_limit} (sagemaker AlarmList); use at most "
                f"{alarm_limit // len(ROLLBACK_ALARMS)} variants or deployment.auto_rollback: false"
            )
        return self

    @property
    def variant_instance_types(self) -> list[str]:
        """The instance types of the weighted variants (``variants``), in order."""
        return [variant.instance_type for variant in self.variants]

    @property
    def autoscaled(self) -> bool:
        """Whether any production variant autoscales."""
        return self.autoscaling is not None or any(variant.autoscaling is not None for variant in self.variants)


class RealtimeEndpoint(InstanceBackedEndpoint):
    """A real-time SageMaker endpoint for one model, encrypted with the platform key.

    The Model and EndpointConfig get CloudFormation-generated names (they are replaced on
    every change); the endpoint keeps ``endpoint_name`` and is updated in place under its
    deployment policy, rolling back automatically when its 5XX or latency alarm fires. When
    autoscaled, the endpoint retains its variant properties so a deploy never resets the
    instance count that autoscaling chose.

    :param model: The model to serve.
    :param encryption_key: Encrypts the instances' storage volumes and captured data.
    :param endpoint_name: Stable endpoint name, e.g. ``prod-iris-realtime``.
    :param settings: Instance type, counts, autoscaling, deployment policy, alarms, data capture, shadow.
    :param alarm_topic: Where alarms notify (ALARM and OK).
    :param data_capture_bucket: Where captured data goes; required when ``settings.data_capture`` is set.
    :param data_capture_prefix: Key prefix for this endpoint's captured data, e.g. ``prod/iris/realtime/``.
    :param shadow_model: The model of the shadow variant; required when ``settings.shadow`` is set.
    :param variant_models: The model of each weighted variant (``settings.variants``), by variant name.
    :param logs: The endpoint's log group: retention and whether it outlives the endpoint (encrypted with
        ``encryption_key`` either way).
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
        alarm_topic: sns.ITopic | None = None,
        data_capture_bucket: s3.IBucket | None = None,
        data_capture_prefix: str | None = None,
        shadow_model: InferenceModel | None = None,
        logs: EndpointLogSettings | Mapping[str, Any] | None = None,
        variant_models: Mapping[str, InferenceModel] | None = None,
    ) -> None:
        checked, checked_logs = _checked_props(
            scope,
            id,
            model=model,
            shadow_model=shadow_model,
            variant_models=variant_models or {},
            settings=settings,
            logs=logs,
            endpoint_name=endpoint_name,
            data_capture_bucket=data_capture_bucket,
            data_capture_prefix=data_capture_prefix,
        )
        scaling = checked.autoscaling
        super().__init__(
            scope,
            id,
            endpoint_name=endpoint_name,
            variant_name=checked.variant_name,
            capacity_bounds=(scaling.min_capacity, scaling.max_capacity)
            if scaling
            else (checked.initial_instance_count, checked.initial_instance_count),
        )
        self.settings = checked
        self.model = model
        self.shadow_model = shadow_model
        #: The weighted variants' models, in the order of ``settings.variants``.
        self.variant_models = {
            variant.variant_name: (variant_models or {})[variant.variant_name] for variant in checked.variants
        }

        capture = (
            self._capture_data(checked.data_capture, data_capture_bucket, data_capture_prefix, encryption_key)
            if checked.data_capture is not None
            else None
        )

        instance_types = [
            checked.instance_type,
            *([checked.shadow.instance_type] if checked.shadow else []),
            *checked.variant_instance_types,
        ]
        config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            kms_key_id=self._volume_key_arn(encryption_key, instance_types),
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=checked.variant_name,
                    model_name=model.model_name,
                    instance_type=checked.instance_type,
                    initial_instance_count=checked.initial_instance_count,
                    initial_variant_weight=checked.initial_variant_weight,
                    **variant_properties(checked),
                ),
                *self._weighted_variants(),
            ],
            shadow_production_variants=self._shadow_variants(checked.shadow, shadow_model),
            data_capture_config=capture,
        )
        self._create_alarms(
            [
                *self._alarm_specs(checked.alarms, checked.instance_type),
                *(
                    dataclasses.replace(spec, key=f"{v.variant_name}-{spec.key}", evaluation=v.alarms)
                    for v in checked.variants
                    for spec in self._alarm_specs(v.alarms, v.instance_type, v.variant_name)
                ),
            ],
            evaluation=checked.alarms,
            topic=alarm_topic,
        )
        self._create_endpoint(
            config,
            **retained_variant_properties(checked),
            encryption_key=encryption_key,
            logs_settings=checked_logs,
            deployment_config=self._deployment_config(
                checked.deployment,
                [*ROLLBACK_ALARMS, *(f"{v.variant_name}-{key}" for v in checked.variants for key in ROLLBACK_ALARMS)],
                model.role,
                [variant_model.role for variant_model in self.variant_models.values()],
            ),
        )
        self.scalable_target = (
            self._autoscale(checked.autoscaling, checked.instance_type) if checked.autoscaling else None
        )
        #: Each autoscaled weighted variant's scalable target, by variant name.
        self.variant_scalable_targets = {
            v.variant_name: self._autoscale(v.autoscaling, v.instance_type, v.variant_name)
            for v in checked.variants
            if v.autoscaling is not None
        }
        for target in [self.scalable_target, *self.variant_scalable_targets.values()]:
            if target is not None:
                self._retain_scaling_resources(target)
        self._acknowledge_findings(data_capture_bucket, data_capture_prefix)

    def _capture_data(
        self,
        settings: DataCaptureSettings,
        bucket: s3.IBucket | None,
        prefix: str | None,
        encryption_key: kms.IKey,
    ) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
        """The variant's data capture config; the model roles (and the shadow's) may write there."""
        assert bucket is not None and prefix is not None
        for role in {model.role for model in self._models}:
            grant_data_capture(role, bucket=bucket, prefix=prefix, encryption_key=encryption_key)
        return data_capture_config(settings, bucket=bucket, prefix=prefix, encryption_key=encryption_key)

    def _acknowledge_findings(self, data_capture_bucket: s3.IBucket | None, data_capture_prefix: str | None) -> None:
        if self.settings.data_capture is not None:
            assert data_capture_bucket is not None
            for model in set(self._models):
                acknowledge_wildcard_resources(
                    model.role,
                    [data_capture_bucket.arn_for_objects(f"{data_capture_prefix}*")],
                    "SageMaker names captured-data objects at run time (date and request ids); writes are "
                    f"confined to this endpoint's prefix {data_capture_prefix}.",
                )

    @property
    def _models(self) -> list[InferenceModel]:
        """Every model the endpoint serves: the production variant's, the shadow's, the weighted variants'."""
        return [self.model, *([self.shadow_model] if self.shadow_model else []), *self.variant_models.values()]

    def _weighted_variants(self) -> list[sagemaker.CfnEndpointConfig.ProductionVariantProperty]:
        return [
            sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=variant.variant_name,
                model_name=self.variant_models[variant.variant_name].model_name,
                instance_type=variant.instance_type,
                initial_instance_count=variant.initial_instance_count,
                initial_variant_weight=variant.initial_variant_weight,
                **variant_properties(variant),
            )
            for variant in self.settings.variants
        ]

    def _shadow_variants(
        self, shadow: ShadowVariantSettings | None, shadow_model: InferenceModel | None
    ) -> list[sagemaker.CfnEndpointConfig.ProductionVariantProperty] | None:
        if shadow is None or shadow_model is None:
            return None
        return [
            sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=shadow.variant_name,
                model_name=shadow_model.model_name,
                instance_type=shadow.instance_type,
                initial_instance_count=shadow.initial_instance_count,
                # Relative to the production variant's weight: the share of requests mirrored.
                initial_variant_weight=self.settings.initial_variant_weight * shadow.traffic_percent / 100,
                **variant_properties(shadow),
            )
        ]

    def _alarm_specs(
        self, thresholds: RealtimeAlarms, instance_type: str, variant_name: str | None = None
    ) -> list[AlarmSpec]:
        """The alarms of one production variant (``None``: the endpoint's first, ``variant_name``)."""
        return [
            *self._common_alarm_specs(thresholds, instance_type, variant_name),
            *self._multi_model_alarm_specs(thresholds, variant_name),
        ]

    def _multi_model_alarm_specs(self, thresholds: RealtimeAlarms, variant_name: str | None) -> list[AlarmSpec]:
        """A multi-model endpoint's own alarms: requests waiting for models to load, and too few
        finding their model loaded (the instances hold too few models for the traffic).
        https://docs.aws.amazon.com/sagemaker/latest/dg/multi-model-endpoint-cloudwatch-metrics.html"""
        if not self.model.multi_model:
            return []
        return [
            AlarmSpec(
                "ModelLoadingWaitTime",
                self.metric_spec("ModelLoadingWaitTime", statistic="p99", variant_name=variant_name),
                thresholds.model_loading_wait_p99_milliseconds * 1000,
                "p99 time requests wait for their model to be downloaded and loaded (microseconds) is above the "
                "threshold",
                # No requests, no waiting: silence is not a problem.
                cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            AlarmSpec(
                "ModelCacheHit",
                self.metric_spec("ModelCacheHit", statistic="Average", variant_name=variant_name),
                thresholds.model_cache_hit_percent / 100,
                "too few requests find their model already loaded (Average of ModelCacheHit is the ratio)",
                cloudwatch.TreatMissingData.NOT_BREACHING,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            ),
        ]

    def _common_alarm_specs(self, thresholds: RealtimeAlarms, instance_type: str, v: str | None) -> list[AlarmSpec]:
        # Invocation alarms: no traffic is not an error, so missing data is not breaching.
        # Utilization alarms keep their state while data is missing: instances being replaced
        # during a deployment report nothing for a minute or two.
        not_breaching = cloudwatch.TreatMissingData.NOT_BREACHING
        keep_state = cloudwatch.TreatMissingData.MISSING
        error_rate = MathSpec(
            "IF(invocations > 0, 100 * errors / invocations, 0)",
            (
                ("errors", self.metric_spec("Invocation4XXErrors", statistic="Sum", variant_name=v)),
                ("invocations", self.metric_spec("Invocations", statistic="Sum", variant_name=v)),
            ),
            label="4XX error rate (%)",
        )
        failed_requests, model_latency = model_alarm_specs(
            lambda name, statistic: self.metric_spec(name, statistic=statistic, variant_name=v),
            invocation_5xx_errors=thresholds.invocation_5xx_errors,
            model_latency_p99_milliseconds=thresholds.model_latency_p99_milliseconds,
        )
        return [
            failed_requests,
            AlarmSpec(
                "Invocation4XXErrorRate",
                error_rate,
                thresholds.invocation_4xx_error_rate_percent,
                "callers send requests the model rejects (HTTP 4XX), in percent of invocations",
                not_breaching,
            ),
            model_latency,
            AlarmSpec(
                "CpuUtilization",
                self.metric_spec("CPUUtilization", namespace=INSTANCE_NAMESPACE, variant_name=v),
                # CloudWatch reports 100% per vCPU; the setting is a share of the whole instance.
                thresholds.cpu_utilization_percent * vcpus_of(instance_type),
                f"average CPU utilization per instance is above {thresholds.cpu_utilization_percent:g}% of its "
                f"{vcpus_of(instance_type)} vCPUs",
                keep_state,
            ),
            AlarmSpec(
                "MemoryUtilization",
                self.metric_spec("MemoryUtilization", namespace=INSTANCE_NAMESPACE, variant_name=v),
                thresholds.memory_utilization_percent,
                "average memory utilization per instance is high",
                keep_state,
            ),
            AlarmSpec(
                "DiskUtilization",
                self.metric_spec("DiskUtilization", namespace=INSTANCE_NAMESPACE, variant_name=v),
                thresholds.disk_utilization_percent,
                "average disk utilization per instance is high",
                keep_state,
            ),
            *gpu_alarm_specs(self, instance_type, thresholds, keep_state, variant_name=v),
        ]

    def _autoscale(
        self, scaling: InstanceAutoscaling, instance_type: str, variant_name: str | None = None
    ) -> autoscaling.ScalableTarget:
        """A variant's scalable target and policies (``None``: the endpoint's first variant)."""
        target = self._scalable_target(
            INSTANCE_COUNT_DIMENSION,
            scaling.min_capacity,
            scaling.max_capacity,
            instance_type=instance_type,
            variant_name=variant_name,
        )
        target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=scaling.target_invocations_per_instance,
            predefined_metric=autoscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=durations.seconds(scaling.scale_in_cooldown_seconds),
            scale_out_cooldown=durations.seconds(scaling.scale_out_cooldown_seconds),
        )
        if scaling.target_cpu_utilization_percent is not None:
            target.scale_to_track_metric(
                "CpuUtilization",
                # CloudWatch reports 100% per vCPU; the setting is a share of the whole instance.
                target_value=scaling.target_cpu_utilization_percent * vcpus_of(instance_type),
                custom_metric=self.metric_cpu_utilization(variant_name=variant_name),
                scale_in_cooldown=durations.seconds(scaling.scale_in_cooldown_seconds),
                scale_out_cooldown=durations.seconds(scaling.scale_out_cooldown_seconds),
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

    # Multi-model endpoint metrics (AWS/SageMaker, per endpoint and variant):
    # https://docs.aws.amazon.com/sagemaker/latest/dg/multi-model-endpoint-cloudwatch-metrics.html

    def metric_loaded_model_count(self, **props: Any) -> cloudwatch.Metric:
        """Models loaded in the variant's containers."""
        return self.metric("LoadedModelCount", statistic="Maximum", **props)

    def metric_model_cache_hit(self, **props: Any) -> cloudwatch.Metric:
        """Average: the share of requests whose model was already loaded (0 to 1)."""
        return self.metric("ModelCacheHit", statistic="Average", **props)

    def metric_model_loading_wait_time(self, statistic: str = "p99", **props: Any) -> cloudwatch.Metric:
        """Time a request waited for its model to be downloaded and loaded, in microseconds."""
        return self.metric("ModelLoadingWaitTime", statistic=statistic, **props)

    @property
    def weighted_variant_names(self) -> list[str]:
        """The weighted variants' names (``settings.variants``), in order."""
        return [variant.variant_name for variant in self.settings.variants]

    @property
    def shadow_variant_name(self) -> str | None:
        """The shadow variant's name, when there is one (its metrics: ``metric(..., variant_name=...)``)."""
        return self.settings.shadow.variant_name if self.settings.shadow else None


def _checked_props(
    scope: Construct,
    id: str,
    *,
    model: InferenceModel,
    shadow_model: InferenceModel | None,
    variant_models: Mapping[str, InferenceModel],
    settings: RealtimeSettings | Mapping[str, Any],
    logs: EndpointLogSettings | Mapping[str, Any] | None,
    endpoint_name: str,
    data_capture_bucket: s3.IBucket | None,
    data_capture_prefix: str | None,
) -> tuple[RealtimeSettings, EndpointLogSettings]:
    """The validated settings and log settings; every problem with the props raised together."""
    problems = ProblemCollector()
    checked, checked_logs = check_instance_endpoint_props(
        problems,
        RealtimeSettings,
        settings,
        model=model,
        endpoint_name=endpoint_name,
        logs=logs,
        data_capture_bucket=data_capture_bucket,
        data_capture_prefix=data_capture_prefix,
    )
    if checked is not None:
        problems.check(
            (checked.shadow is None) == (shadow_model is None),
            "shadow_model: give a shadow model exactly when settings.shadow is set",
        )
        if checked.shadow is not None and shadow_model is not None:
            shadow_type = checked.shadow.instance_type
            problems.attempt(lambda: shadow_model.check_runs_on(shadow_type), "settings.shadow.instance_type")
        check_variant_models(problems, checked.variants, variant_models)
    # The construct's path names it in the error; reading it is a jsii round trip, so only on error.
    if problems.problems:
        problems.raise_if_any(f"{scope.node.path}/{id}")
    assert isinstance(checked, RealtimeSettings) and isinstance(checked_logs, EndpointLogSettings)
    return checked, checked_logs


def check_variant_models(
    problems: ProblemCollector, variants: Sequence[WeightedVariantSettings], models: Mapping[str, InferenceModel]
) -> None:
    """Every weighted variant has a model (and no model is left over), which runs on its instance type."""
    names = [variant.variant_name for variant in variants]
    problems.check(
        sorted(models) == sorted(names),
        f"variant_models: give one model per weighted variant {names}; got models for {sorted(models)}",
    )
    for index, variant in enumerate(variants):
        model = models.get(variant.variant_name)
        if model is not None:
            problems.attempt(
                lambda model=model, variant=variant: model.check_runs_on(variant.instance_type),
                f"settings.variants[{index}].instance_type",
            )


def retained_variant_properties(settings: RealtimeSettings) -> dict[str, Any]:
    """What the endpoint keeps through an update (RetainAllVariantProperties) and what follows the
    new config all the same (ExcludeRetainedVariantProperties), as ``_create_endpoint`` takes them.

    Retention is all or nothing per property type, across every variant
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-sagemaker-endpoint-variantproperty.html):
    retaining instance counts (so that autoscaling's choice survives a deploy) retains weights
    too, unless DesiredWeight is excluded. So weights follow the config unless
    ``retain_variant_weights`` asks for the endpoint's own (shifted with
    UpdateEndpointWeightsAndCapacities); counts are kept exactly when a variant autoscales.
    A lone variant's weight takes all traffic whatever it is: its exclusion is left out.
    """
    retain = settings.autoscaled or settings.retain_variant_weights
    follow_config = ["DataCaptureConfig"]
    if not settings.autoscaled:
        follow_config.append("DesiredInstanceCount")
    if settings.variants and not settings.retain_variant_weights:
        follow_config.append("DesiredWeight")
    return {"retain_variant_properties": retain, "follow_config": tuple(follow_config)}
