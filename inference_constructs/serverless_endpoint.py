"""``ServerlessEndpoint``: an endpoint without instances (4 MB payloads, 60 s, cold starts).

SageMaker rejects many combinations for serverless endpoints only at deploy time, minutes
into a CloudFormation update. This module rejects them at synth instead:

- in the props: ``ServerlessSettings`` checks the ranges and names the settings people
  carry over from instance-backed endpoints (``instance_type``, ``accelerator_type``,
  ``data_capture``, extra ``variants``, ...) with the reason each is refused;
- in the constructor: the model must be outside any VPC and not network-isolated;
- at synth: the rendered endpoint config and model are checked again, so a change made
  afterwards through the L1 attributes (``endpoint.endpoint_config.data_capture_config =
  ...``) fails synth too. Raw ``add_property_override`` calls are CloudFormation escape
  hatches and are not inspected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct, IValidation
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from inference_constructs import durations
from inference_constructs.alarms import AlarmEvaluation, AlarmSpec, model_alarm_specs
from inference_constructs.compliance import skip_checkov_check
from inference_constructs.deployment_policy import DeploymentPolicy
from inference_constructs.endpoint import INSTANCE_NAMESPACE, EndpointBase, EndpointLogSettings, check_endpoint_props
from inference_constructs.errors import ProblemCollector, describe_validation_error
from inference_constructs.inference_model import InferenceModel, ModelImage
from inference_constructs.instance_types import Accelerator, Hardware, check_instance_type, hardware_of
from inference_constructs.settings import CapacityRange, Settings
from inference_constructs.variant_settings import VARIANT_SETTING_KEYS
from inference_core.naming import SAGEMAKER_NAME

MEMORY_SIZES_IN_MB = (1024, 2048, 3072, 4096, 5120, 6144)
# The alarms an update's baking periods watch. OverheadLatency stays out on purpose: a
# blue/green shift starts the new variant cold, so its cold starts would roll back every update.
ROLLBACK_ALARMS = ("Invocation5XXErrors", "ModelLatency")
DEPLOYMENT_GUARDRAILS_EXCLUSIONS = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html"
)
MAX_CONCURRENCY_LIMIT = 200
PROVISIONED_CONCURRENCY_DIMENSION = "sagemaker:variant:DesiredProvisionedConcurrency"

# checkov's CloudFormation check for SageMaker models; serverless models cannot pass it.
NETWORK_ISOLATION_CHECK = "CKV_AWS_370"
NETWORK_ISOLATION_SKIP_REASON = (
    "This model exists to back a SageMaker serverless endpoint, and SageMaker refuses network isolation and "
    "VPC config for serverless endpoints; instance-backed modes serve a separate, network-isolated model."
)

_NO_INSTANCES = (
    "serverless endpoints have no instances: SageMaker sizes the compute from memory_size_in_mb and adds "
    "it per concurrent request, up to max_concurrency; remove {field}, or serve the model on instances with "
    "a realtime endpoint"
)
_NO_ACCELERATORS = (
    "serverless endpoints run on CPU only: GPUs, Elastic Inference and Inferentia/Trainium accelerators are not "
    "available; remove {field} and serve the model from a realtime endpoint on a GPU or accelerator instance "
    "type (e.g. ml.g5.xlarge)"
)
_NO_INSTANCE_SETTINGS = (
    "serverless endpoints have no instances to start, store or route to: SageMaker refuses {field} on a "
    "serverless variant (it applies to instance-backed variants only); remove {field}, or serve the model from a "
    "realtime or async endpoint on instances"
)
_NO_DATA_CAPTURE = (
    "SageMaker does not capture requests or responses of serverless endpoints (so no Model Monitor either); "
    "remove {field} and capture from a realtime or async endpoint instead"
)
_ONE_VARIANT = (
    "a serverless endpoint config holds exactly one production variant: SageMaker rejects instance-backed "
    "(or further) variants in the same config; remove {field} and serve instance-backed variants from a "
    "separate realtime endpoint"
)
_NO_VPC = (
    "serverless endpoints cannot run in a VPC: the VPC belongs to the model, and serverless needs a VPC-less "
    "model without network isolation (serverless_model(...) builds one, and environments with `network` give "
    "serverless its own); remove {field}"
)
_NO_ISOLATION = (
    "serverless endpoints cannot use network isolation: serverless needs a VPC-less model without network "
    "isolation (serverless_model(...) builds one); remove {field}"
)

# Settings of instance-backed endpoints that SageMaker refuses on serverless, and why.
# They are not fields: naming them gives a specific reason instead of "unknown field".
UNSUPPORTED_SETTINGS: dict[str, str] = {
    "instance_type": _NO_INSTANCES,
    "initial_instance_count": _NO_INSTANCES,
    **{key: _NO_INSTANCE_SETTINGS for key in VARIANT_SETTING_KEYS},
    "accelerator_type": _NO_ACCELERATORS,
    "data_capture": _NO_DATA_CAPTURE,
    "data_capture_config": _NO_DATA_CAPTURE,
    "variants": _ONE_VARIANT,
    "production_variants": _ONE_VARIANT,
    "network": _NO_VPC,
    "vpc_config": _NO_VPC,
    "network_isolation": _NO_ISOLATION,
    "enable_network_isolation": _NO_ISOLATION,
}


def _unsupported_reason(field: str, value: object) -> str:
    if field == "instance_type" and isinstance(value, str):
        try:
            hardware = hardware_of(check_instance_type(value))
        except ValueError:
            hardware = Hardware.CPU
        if hardware is not Hardware.CPU:
            kind = "a GPU" if hardware is Hardware.GPU else "an Inferentia/Trainium accelerator"
            return f"{value} is {kind} instance type; " + _NO_ACCELERATORS.format(field=field)
    return UNSUPPORTED_SETTINGS[field].format(field=field)


def _check_memory_size(value: int) -> int:
    if value not in MEMORY_SIZES_IN_MB:
        sizes = ", ".join(str(size) for size in MEMORY_SIZES_IN_MB)
        raise ValueError(f"memory_size_in_mb must be one of {sizes} (1 GB steps from 1 to 6 GB)")
    return value


class ProvisionedConcurrencyAutoscaling(CapacityRange):
    """Target tracking of provisioned concurrency on its utilization."""

    min_capacity: int = Field(ge=1, le=MAX_CONCURRENCY_LIMIT, description="Least provisioned concurrency.")
    max_capacity: int = Field(
        ge=1, le=MAX_CONCURRENCY_LIMIT, description="Most provisioned concurrency (at most max_concurrency)."
    )
    target_utilization: float = Field(
        gt=0,
        le=1,
        description="Share of provisioned concurrency in use to hold, as a fraction (0.7 = 70%).",
    )
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600, description="Seconds after a scale-in activity.")
    scale_out_cooldown_seconds: int = Field(
        default=60, ge=0, le=3600, description="Seconds after a scale-out activity."
    )


class ServerlessAlarms(AlarmEvaluation):
    """Alarm thresholds. Every serverless alarm treats missing data as not breaching: an idle
    endpoint scales to zero and publishes nothing, which is healthy."""

    overhead_latency_p99_milliseconds: int = Field(
        default=5000,
        ge=1,
        le=60_000,
        description="p99 of OverheadLatency (SageMaker's time on top of the model, cold starts included). "
        "One cold start after an idle period is expected; the default evaluation (3 of 5 minutes) fires on "
        "repeated ones, when bursts outgrow the warm capacity.",
    )
    invocation_5xx_errors: int = Field(default=5, ge=1, description="5XX errors per minute.")
    model_latency_p99_milliseconds: int = Field(
        default=1000, ge=1, le=60_000, description="p99 model latency (a rollback alarm)."
    )
    concurrent_executions_utilization: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Maximum of ServerlessConcurrentExecutionsUtilization (concurrent executions / "
        "max_concurrency) to alarm at: at 1.0 further requests are throttled.",
    )


class ServerlessSettings(Settings):
    """Props of a serverless endpoint's single variant.

    Provisioned concurrency keeps that many invocations warm (no cold start) and is billed
    while idle; without it the endpoint scales to zero and the first request after an idle
    period pays a cold start.
    """

    memory_size_in_mb: Annotated[int, AfterValidator(_check_memory_size)] = Field(
        description="Memory per concurrent invocation: 1024-6144 MB in 1024 MB steps; vCPUs scale with it."
    )
    max_concurrency: int = Field(
        ge=1, le=MAX_CONCURRENCY_LIMIT, description="Most concurrent invocations; more are throttled."
    )
    provisioned_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=MAX_CONCURRENCY_LIMIT,
        description="Invocations kept warm, 1 to max_concurrency; the starting value when autoscaled.",
    )
    variant_name: str = Field(
        default="AllTraffic", pattern=SAGEMAKER_NAME.pattern, description="Production variant name."
    )
    autoscaling: ProvisionedConcurrencyAutoscaling | None = Field(
        default=None, description="Scale provisioned concurrency between bounds (needs provisioned_concurrency)."
    )
    deployment: DeploymentPolicy = Field(
        default=DeploymentPolicy(),
        description="Blue/green traffic shifting (all_at_once, canary, linear) with auto-rollback; "
        "SageMaker excludes serverless endpoints from rolling deployments.",
    )
    alarms: ServerlessAlarms = Field(
        default=ServerlessAlarms(),
        description="Alarm thresholds; 5XX errors and p99 model latency are the rollback alarms, OverheadLatency "
        "is not (the new variant of every update starts cold).",
    )

    @field_validator("deployment")
    @classmethod
    def _no_rolling_updates(cls, deployment: DeploymentPolicy) -> DeploymentPolicy:
        if deployment.strategy == "rolling":
            raise ValueError(
                "strategy 'rolling' is not supported on serverless endpoints: SageMaker's deployment "
                "guardrails exclude serverless inference endpoints from rolling deployments "
                f"({DEPLOYMENT_GUARDRAILS_EXCLUSIONS}); use all_at_once, canary or linear (blue/green)"
            )
        return deployment

    @model_validator(mode="after")
    def _concurrency_fits(self) -> ServerlessSettings:
        problems = []
        provisioned, scaling = self.provisioned_concurrency, self.autoscaling
        if provisioned is not None and provisioned > self.max_concurrency:
            problems.append(
                f"provisioned_concurrency ({provisioned}) is above max_concurrency ({self.max_concurrency}); "
                f"it must be 1 to {self.max_concurrency}"
            )
        if scaling is not None:
            if provisioned is None:
                problems.append(
                    "autoscaling scales provisioned concurrency: set provisioned_concurrency too "
                    f"(its starting value, within {scaling.min_capacity}..{scaling.max_capacity})"
                )
            elif not scaling.min_capacity <= provisioned <= scaling.max_capacity:
                problems.append(
                    f"provisioned_concurrency ({provisioned}) must lie within autoscaling "
                    f"min_capacity..max_capacity ({scaling.min_capacity}..{scaling.max_capacity})"
                )
            if scaling.max_capacity > self.max_concurrency:
                problems.append(
                    f"autoscaling max_capacity ({scaling.max_capacity}) is above max_concurrency "
                    f"({self.max_concurrency}); provisioned concurrency cannot exceed max_concurrency"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # Defined after the cross-field check so that it wraps it: refused settings are reported
    # together with every other problem, not one synth at a time.
    @model_validator(mode="wrap")
    @classmethod
    def _refuse_instance_settings(cls, data: Any, handler: ModelWrapValidatorHandler[ServerlessSettings]) -> Any:
        """Report settings SageMaker refuses on serverless with their reason, alongside any other problem."""
        if not isinstance(data, Mapping):
            return handler(data)
        refused = [
            InitErrorDetails(
                type="value_error",
                loc=(field,),
                input=data[field],
                ctx={"error": ValueError(_unsupported_reason(field, data[field]))},
            )
            for field in UNSUPPORTED_SETTINGS
            if field in data
        ]
        if not refused:
            return handler(data)
        rest = {key: value for key, value in data.items() if key not in UNSUPPORTED_SETTINGS}
        try:
            handler(rest)
        except ValidationError as error:
            others: list[Any] = error.errors(include_url=False)
            raise ValidationError.from_exception_data(cls.__name__, [*others, *refused]) from None
        raise ValidationError.from_exception_data(cls.__name__, refused)


def serverless_model(
    scope: Construct,
    id: str,
    *,
    name: str,
    name_prefix: str,
    image: ModelImage | Mapping[str, str],
    model_data: str,
    encryption_key: kms.IKey,
    environment: Mapping[str, str] | None = None,
    model_package: str | None = None,
) -> InferenceModel:
    """An :class:`InferenceModel` a serverless endpoint accepts: outside any VPC, without
    network isolation, which SageMaker requires for serverless.

    It takes the same props as ``InferenceModel`` except the network ones, so a model served
    both ways is described once. The model records in its template metadata why checkov's
    network-isolation check does not apply to it, next to the resource it concerns.
    """
    model = InferenceModel(
        scope,
        id,
        name=name,
        name_prefix=name_prefix,
        image=image,
        model_data=model_data,
        encryption_key=encryption_key,
        environment=environment,
        network=None,
        network_isolation=False,
        model_package=model_package,
    )
    skip_checkov_check(model.cfn_model, NETWORK_ISOLATION_CHECK, NETWORK_ISOLATION_SKIP_REASON)
    return model


def _model_problems(model: InferenceModel) -> list[str]:
    problems = []
    if model.network is not None:
        problems.append(
            f"model: {model.node.path} runs in VPC {model.network.vpc_id}, and SageMaker cannot serve a model "
            "in a VPC from a serverless endpoint. Serverless needs a VPC-less model without network isolation: "
            "build one with serverless_model(...) or InferenceModel(network=None, network_isolation=False)"
        )
    if model.network_isolation:
        problems.append(
            f"model: {model.node.path} has network isolation on, which SageMaker rejects for serverless "
            "endpoints. Serverless needs a VPC-less model without network isolation: build one with "
            "serverless_model(...) or InferenceModel(network=None, network_isolation=False)"
        )
    if model.accelerator is not Accelerator.CPU:
        problems.append(
            f"model: {model.node.path}'s image is built for {model.accelerator}; "
            + _NO_ACCELERATORS.format(field="the model")
        )
    return problems


class ServerlessEndpoint(EndpointBase):
    """A serverless SageMaker endpoint for one model, its config encrypted with the platform key.

    Serverless suits traffic with idle periods that tolerates cold starts: payloads up to
    4 MB and 60 s per request; compute scales to zero unless provisioned concurrency keeps
    some warm. The Model and EndpointConfig get CloudFormation-generated names; the endpoint
    keeps ``endpoint_name``. With ``settings.autoscaling``, Application Auto Scaling tracks
    provisioned-concurrency utilization between its bounds.

    ``RetainAllVariantProperties`` stays off: what SageMaker can retain across a config
    change is an instance count, a weight or data capture, none of which a serverless variant
    has. A deploy that replaces the config starts from ``settings.provisioned_concurrency``
    again, which lies within the autoscaling bounds, and autoscaling takes over from there.

    :param model: A VPC-less model without network isolation (see :func:`serverless_model`).
    :param encryption_key: The platform key; ``KmsKeyId`` of the endpoint config.
    :param endpoint_name: Stable endpoint name, e.g. ``prod-iris-serverless``.
    :param settings: Memory, concurrency, provisioned concurrency and its autoscaling, the
        deployment policy and the alarm thresholds.
    :param alarm_topic: Where alarms notify (ALARM and OK).
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
        settings: ServerlessSettings | Mapping[str, Any],
        alarm_topic: sns.ITopic | None = None,
        logs: EndpointLogSettings | Mapping[str, Any] | None = None,
    ) -> None:
        problems = ProblemCollector()
        if isinstance(settings, BaseModel) and not isinstance(settings, ServerlessSettings):
            problems.add(
                f"settings: expected ServerlessSettings or a mapping, got {type(settings).__name__}; "
                + _ONE_VARIANT.format(field="the instance-backed settings")
            )
            checked = None
        else:
            checked = problems.validate(ServerlessSettings, settings, "settings")
        for problem in _model_problems(model):
            problems.add(problem)
        checked_logs = check_endpoint_props(problems, endpoint_name=endpoint_name, logs=logs)
        # The construct's path names it in the error; reading it is a jsii round trip, so only on error.
        if problems.problems:
            problems.raise_if_any(f"{scope.node.path}/{id}")
        assert isinstance(checked, ServerlessSettings) and isinstance(checked_logs, EndpointLogSettings)
        super().__init__(scope, id, endpoint_name=endpoint_name, variant_name=checked.variant_name)
        self.settings = checked
        self.model = model
        self.encryption_key = encryption_key

        config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            # Satisfies the HIPAA/NIST/PCI SageMakerEndpointConfigurationKMSKeyConfigured rule.
            kms_key_id=encryption_key.key_arn,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=checked.variant_name,
                    model_name=model.model_name,
                    serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                        memory_size_in_mb=checked.memory_size_in_mb,
                        max_concurrency=checked.max_concurrency,
                        provisioned_concurrency=checked.provisioned_concurrency,
                    ),
                )
            ],
        )
        self._create_alarms(self._alarm_specs(checked.alarms), evaluation=checked.alarms, topic=alarm_topic)
        self._create_endpoint(
            config,
            retain_variant_properties=False,
            encryption_key=encryption_key,
            logs_settings=checked_logs,
            deployment_config=self._deployment_config(checked.deployment, list(ROLLBACK_ALARMS), model.role),
        )
        self.scalable_target = self._autoscale(checked.autoscaling) if checked.autoscaling else None
        self.node.add_validation(_RenderedServerlessCheck(self))

    def _autoscale(self, scaling: ProvisionedConcurrencyAutoscaling) -> autoscaling.ScalableTarget:
        target = self._scalable_target(PROVISIONED_CONCURRENCY_DIMENSION, scaling.min_capacity, scaling.max_capacity)
        target.scale_to_track_metric(
            "ProvisionedConcurrencyUtilization",
            target_value=scaling.target_utilization,
            predefined_metric=autoscaling.PredefinedMetric.SAGEMAKER_VARIANT_PROVISIONED_CONCURRENCY_UTILIZATION,
            scale_in_cooldown=durations.seconds(scaling.scale_in_cooldown_seconds),
            scale_out_cooldown=durations.seconds(scaling.scale_out_cooldown_seconds),
        )
        return target

    def _alarm_specs(self, thresholds: ServerlessAlarms) -> list[AlarmSpec]:
        # An idle serverless endpoint has no compute and publishes nothing: silence is healthy.
        not_breaching = cloudwatch.TreatMissingData.NOT_BREACHING
        return [
            AlarmSpec(
                "OverheadLatency",
                self.metric_spec("OverheadLatency", statistic="p99"),
                thresholds.overhead_latency_p99_milliseconds * 1000,
                "p99 overhead latency (microseconds, cold starts included) is above the threshold: requests keep "
                "waiting for new compute; consider provisioned concurrency",
                not_breaching,
            ),
            *model_alarm_specs(
                lambda name, statistic: self.metric_spec(name, statistic=statistic),
                invocation_5xx_errors=thresholds.invocation_5xx_errors,
                model_latency_p99_milliseconds=thresholds.model_latency_p99_milliseconds,
            ),
            # Throttling: SageMaker publishes no throttle count for serverless endpoints, and
            # Invocation4XXErrors counts the model's own 4XX answers (throttled requests never
            # reach the model), so the signal is concurrency use against max_concurrency.
            AlarmSpec(
                "ConcurrentExecutionsUtilization",
                self.metric_spec("ServerlessConcurrentExecutionsUtilization", statistic="Maximum"),
                thresholds.concurrent_executions_utilization,
                f"concurrent executions reach {thresholds.concurrent_executions_utilization:.0%} of "
                f"max_concurrency ({self.settings.max_concurrency}); at 100% requests are throttled",
                not_breaching,
            ),
        ]

    def rendered_problems(self) -> list[str]:
        """What SageMaker would reject in the endpoint config and model as they stand now.

        Both resources' properties are read as they are (one jsii call each) and resolved in
        one call: reading them property by property, struct field by struct field, took
        about 30 round trips per endpoint at every synth.
        """
        rendered = cdk.Stack.of(self).resolve(
            {"model": self.model.cfn_model._cfn_properties, "config": self.endpoint_config._cfn_properties}
        )
        model, config = rendered.get("model") or {}, rendered.get("config") or {}
        problems = _model_problems(self.model)
        if model.get("vpcConfig") and self.model.network is None:
            problems.append(f"model: {self.model.node.path} was given a VpcConfig; " + _NO_VPC.format(field="it"))
        if model.get("enableNetworkIsolation") is True and not self.model.network_isolation:
            problems.append(
                f"model: {self.model.node.path} was given network isolation; " + _NO_ISOLATION.format(field="it")
            )
        if not config.get("kmsKeyId"):
            problems.append("endpoint config: KmsKeyId was removed; it must stay encrypted with the platform key")
        if config.get("dataCaptureConfig"):
            problems.append("endpoint config: " + _NO_DATA_CAPTURE.format(field="DataCaptureConfig"))
        if config.get("asyncInferenceConfig"):
            problems.append(
                "endpoint config: asynchronous inference needs instances and cannot use a serverless variant; "
                "use an async endpoint"
            )
        variants = config.get("productionVariants")
        if isinstance(variants, list):
            problems.extend(_variant_problems(variants))
        return problems

    # Metrics -------------------------------------------------------------------------------
    # metric_overhead_latency() (inherited) includes the cold start of new compute.

    def metric_model_setup_time(self, statistic: str = "p99", **props: Any) -> cloudwatch.Metric:
        """Time to launch new compute for a request (the cold start), in microseconds."""
        return self.metric("ModelSetupTime", statistic=statistic, **props)

    def metric_cold_starts(self, **props: Any) -> cloudwatch.Metric:
        """How many times new compute was launched (samples of ModelSetupTime)."""
        return self.metric("ModelSetupTime", statistic="SampleCount", **props)

    def metric_memory_utilization(self, **props: Any) -> cloudwatch.Metric:
        """Memory used by the container, percent of memory_size_in_mb."""
        return self.metric("MemoryUtilization", namespace=INSTANCE_NAMESPACE, **props)

    def metric_concurrent_executions_utilization(self, **props: Any) -> cloudwatch.Metric:
        """Concurrent executions divided by max_concurrency; at 1, further requests are throttled.

        SageMaker publishes no throttle count for serverless endpoints, so this is the metric
        to alarm on for throttling (raise max_concurrency, or the account quota, before it hits 1).
        """
        return self.metric("ServerlessConcurrentExecutionsUtilization", statistic="Maximum", **props)

    def metric_provisioned_concurrency_utilization(self, **props: Any) -> cloudwatch.Metric:
        """Concurrent executions divided by provisioned concurrency (what autoscaling tracks)."""
        return self.metric("ServerlessProvisionedConcurrencyUtilization", **props)

    def metric_provisioned_concurrency_executions(self, **props: Any) -> cloudwatch.Metric:
        """Concurrent executions served by provisioned concurrency."""
        return self.metric("ServerlessProvisionedConcurrencyExecutions", statistic="Maximum", **props)

    def metric_provisioned_concurrency_invocations(self, **props: Any) -> cloudwatch.Metric:
        """Requests served by provisioned (warm) concurrency."""
        return self.metric("ServerlessProvisionedConcurrencyInvocations", statistic="Sum", **props)

    def metric_provisioned_concurrency_spillover_invocations(self, **props: Any) -> cloudwatch.Metric:
        """Requests provisioned concurrency could not take, served on demand (and possibly cold)."""
        return self.metric("ServerlessProvisionedConcurrencySpilloverInvocations", statistic="Sum", **props)


# CloudFormation keys of a production variant that only instance-backed variants have.
_INSTANCE_VARIANT_KEYS = {
    "instanceType": _NO_INSTANCES,
    "initialInstanceCount": _NO_INSTANCES,
    "volumeSizeInGb": _NO_INSTANCES,
    "acceleratorType": _NO_ACCELERATORS,
}


def _variant_problems(variants: list[Any]) -> list[str]:
    problems = []
    if len(variants) != 1:
        problems.append(
            f"endpoint config: has {len(variants)} production variants; " + _ONE_VARIANT.format(field="the others")
        )
    for variant in variants:
        if not isinstance(variant, Mapping):
            continue
        name = variant.get("variantName", "?")
        for key, reason in _INSTANCE_VARIANT_KEYS.items():
            if key in variant:
                problems.append(f"endpoint config: variant {name} sets {key}; " + reason.format(field=key))
        serverless = variant.get("serverlessConfig")
        if not isinstance(serverless, Mapping):
            problems.append(
                f"endpoint config: variant {name} has no ServerlessConfig; " + _ONE_VARIANT.format(field=name)
            )
            continue
        values = {
            "memory_size_in_mb": serverless.get("memorySizeInMb"),
            "max_concurrency": serverless.get("maxConcurrency"),
            "provisioned_concurrency": serverless.get("provisionedConcurrency"),
        }
        if all(value is None or isinstance(value, int) for value in values.values()):
            try:
                ServerlessSettings.model_validate(values)
            except ValidationError as error:
                problems.extend(
                    describe_validation_error(error, ServerlessSettings, prefix=f"endpoint config: variant {name}")
                )
    return problems


@jsii.implements(IValidation)
class _RenderedServerlessCheck:
    """Re-checks the endpoint at synth, after every construct has had its say."""

    def __init__(self, endpoint: ServerlessEndpoint) -> None:
        self._endpoint = endpoint

    def validate(self) -> list[str]:
        return self._endpoint.rendered_problems()
