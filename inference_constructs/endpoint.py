"""What every SageMaker endpoint construct shares: its name, metrics, invoke grant and scaling."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar, cast

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct
from pydantic import AfterValidator, Field

from inference_constructs.alarms import AlarmEvaluation, AlarmSpec, HealthAlarm, MetricSpec, alarm_name, create_alarms
from inference_constructs.compliance import REGULATORY_PACKS, acknowledge_rule
from inference_constructs.deployment_policy import DeploymentPolicy
from inference_constructs.errors import ProblemCollector
from inference_constructs.instance_types import has_local_storage
from inference_constructs.log_retention import check_log_retention_days, log_retention
from inference_constructs.scaling_guard import ScalingRegistrationGuard
from inference_constructs.settings import Settings
from inference_constructs.stack_values import stack_values
from inference_core.naming import check_endpoint_name

if TYPE_CHECKING:
    from inference_constructs.inference_model import InferenceModel

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
# Instance metrics (CPU, memory, disk) are published under a different namespace.
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
# SageMaker writes an endpoint's container logs to this group (one stream per variant and instance).
LOG_GROUP_PREFIX = "/aws/sagemaker/Endpoints/"
# The retention periods CloudWatch Logs accepts, in days (CDK names them).


@functools.cache
def one_minute() -> cdk.Duration:
    """``Duration.minutes(1)``, made once per process: a Duration is immutable, and each one
    made is a jsii round trip (one per metric before)."""
    return cdk.Duration.minutes(1)


class EndpointLogSettings(Settings):
    """The endpoint's log group, created before the endpoint so SageMaker never creates an
    unencrypted one that keeps logs forever."""

    retention_days: Annotated[int, AfterValidator(check_log_retention_days)] = Field(
        default=365, description="How long container logs are kept (a CloudWatch Logs retention period)."
    )
    retain_on_delete: bool = Field(
        default=True, description="Keep the log group (and its logs) when the stack or endpoint is deleted."
    )


def check_endpoint_props(
    problems: ProblemCollector,
    *,
    endpoint_name: str,
    logs: EndpointLogSettings | Mapping[str, Any] | None,
    captures_data: bool = False,
    data_capture_bucket: object | None = None,
    data_capture_prefix: str | None = None,
) -> EndpointLogSettings | None:
    """The props every endpoint checks, whatever its mode: its log settings, its name, and
    where captured data goes when the settings capture data. Problems go to ``problems``;
    returns the validated log settings (``None`` if they are invalid)."""
    checked_logs = problems.validate(EndpointLogSettings, logs or {}, "logs")
    try:
        check_endpoint_name(endpoint_name)
    except ValueError as error:
        problems.add(f"endpoint_name: {error}")
    if captures_data:
        problems.check(
            data_capture_bucket is not None and bool(data_capture_prefix),
            "data_capture_bucket and data_capture_prefix: required when settings.data_capture is set",
        )
    return checked_logs if isinstance(checked_logs, EndpointLogSettings) else None


class _InstanceEndpointSettings(Protocol):
    """What realtime and async settings both have."""

    @property
    def instance_type(self) -> str: ...

    @property
    def data_capture(self) -> object | None: ...


_Settings = TypeVar("_Settings", bound=Settings)


def check_instance_endpoint_props(
    problems: ProblemCollector,
    settings_type: type[_Settings],
    settings: _Settings | Mapping[str, Any],
    *,
    model: InferenceModel,
    endpoint_name: str,
    logs: EndpointLogSettings | Mapping[str, Any] | None,
    data_capture_bucket: object | None,
    data_capture_prefix: str | None,
) -> tuple[_Settings | None, EndpointLogSettings | None]:
    """:func:`check_endpoint_props` for an endpoint on instances (realtime, async): its settings
    too, where captured data goes if they capture data, and that the model runs on the instance type."""
    checked = problems.validate(settings_type, settings, "settings")
    # Realtime and async settings types share no base class; both have these two fields.
    instance_settings = cast("_InstanceEndpointSettings | None", checked)
    checked_logs = check_endpoint_props(
        problems,
        endpoint_name=endpoint_name,
        logs=logs,
        captures_data=instance_settings is not None and instance_settings.data_capture is not None,
        data_capture_bucket=data_capture_bucket,
        data_capture_prefix=data_capture_prefix,
    )
    if instance_settings is not None:
        instance_type = instance_settings.instance_type
        problems.attempt(lambda: model.check_runs_on(instance_type), "settings.instance_type")
    return checked if isinstance(checked, settings_type) else None, checked_logs


class EndpointBase(Construct):
    """Base for endpoint constructs. Subclasses build the endpoint config, then call
    :meth:`_create_endpoint`.

    :param endpoint_name: The stable physical endpoint name callers invoke.
    :param variant_name: The production variant's name.
    """

    def __init__(self, scope: Construct, id: str, *, endpoint_name: str, variant_name: str) -> None:
        super().__init__(scope, id)
        self.endpoint_name = endpoint_name
        self.variant_name = variant_name
        #: The endpoint's stack (its ARN's region and account).
        values = stack_values(scope)
        self.stack = values.stack
        self.endpoint_arn = values.arn("sagemaker", "endpoint", endpoint_name.lower())
        # Health alarms by key (see inference_constructs.alarms); every mode fills them.
        self.alarms: dict[str, cloudwatch.Alarm | HealthAlarm] = {}
        self.alarm_names: dict[str, str] = {}
        # The alarms SageMaker watches while it bakes a deployment (empty: no guardrail).
        self.rollback_alarms: list[cloudwatch.Alarm | HealthAlarm] = []
        # Application Auto Scaling's service-linked role, referenced once when a variant autoscales.
        self._service_linked_role: iam.IRole | None = None

    def _create_endpoint(
        self,
        config: sagemaker.CfnEndpointConfig,
        *,
        retain_variant_properties: bool,
        encryption_key: kms.IKey,
        logs_settings: EndpointLogSettings,
        follow_config: tuple[str, ...] = ("DataCaptureConfig",),
        **extra: Any,
    ) -> sagemaker.CfnEndpoint:
        """The endpoint (after its log group). With ``retain_variant_properties`` an update keeps
        the variants' current properties, except the VariantPropertyTypes in ``follow_config``."""
        self.endpoint_config = config
        # SageMaker logs to /aws/sagemaker/Endpoints/<name> and creates that group itself if it
        # is missing: unencrypted, kept forever. Creating it first, with the platform key and a
        # retention period, is what makes the endpoint's logs encrypted and expiring.
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=f"{LOG_GROUP_PREFIX}{self.endpoint_name}",
            encryption_key=encryption_key,
            retention=log_retention(logs_settings.retention_days),
            removal_policy=cdk.RemovalPolicy.RETAIN if logs_settings.retain_on_delete else cdk.RemovalPolicy.DESTROY,
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=config.attr_endpoint_config_name,
            # Without this a config change resets an autoscaled variant to its initial count.
            retain_all_variant_properties=retain_variant_properties or None,
            # Retaining would also keep the old data capture settings and silently ignore the
            # new config's: instance counts are retained, data capture always follows config.
            exclude_retained_variant_properties=[
                sagemaker.CfnEndpoint.VariantPropertyProperty(variant_property_type=kind) for kind in follow_config
            ]
            if retain_variant_properties
            else None,
            **extra,
        )
        after = self._created_after_endpoint(encryption_key, logs_settings)
        # SageMaker checks that the rollback alarms exist when it takes the deployment config.
        # One jsii call for every dependency (CDK renders DependsOn sorted, whatever the order).
        self.endpoint.node.add_dependency(self.log_group, *self.rollback_alarms, *after)
        return self.endpoint

    def _created_after_endpoint(
        self, encryption_key: kms.IKey, logs_settings: EndpointLogSettings
    ) -> tuple[Construct, ...]:
        """Constructs a subclass creates right after the endpoint (their place in the template)
        and that the endpoint waits for; none here."""
        return ()

    def _create_alarms(
        self, specs: list[AlarmSpec], *, evaluation: AlarmEvaluation, topic: sns.ITopic | None
    ) -> dict[str, cloudwatch.Alarm | HealthAlarm]:
        """The endpoint's health alarms, through the one shared path, named after the endpoint."""
        self.alarms = create_alarms(self, specs, name_prefix=self.endpoint_name, evaluation=evaluation, topic=topic)
        self.alarm_names = {key: alarm_name(self.endpoint_name, key) for key in self.alarms}
        return self.alarms

    def _volume_key_arn(self, encryption_key: kms.IKey, instance_types: Iterable[str]) -> str | None:
        """The key for the instances' storage volumes, or ``None`` where SageMaker refuses one.

        Instance types with local NVMe storage (``ml.g4dn``, ``ml.m5d``...) are encrypted by
        their hardware, and CreateEndpointConfig fails if a KmsKeyId is given for them.
        """
        local = sorted({t for t in instance_types if has_local_storage(t)})
        if not local:
            return encryption_key.key_arn
        acknowledge_rule(
            self,
            "SageMakerEndpointConfigurationKMSKeyConfigured",
            f"{', '.join(local)} store data on local NVMe volumes that the hardware encrypts, and SageMaker "
            "refuses a KmsKeyId for endpoint configs using them; captured and async data keep the platform key.",
            packs=REGULATORY_PACKS,
        )
        return None

    def _deployment_config(
        self,
        policy: DeploymentPolicy,
        rollback_alarm_keys: list[str],
        role: iam.IRole,
        other_roles: Iterable[iam.IRole] = (),
    ) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        """``policy`` rendered for the endpoint, rolling back on this endpoint's own alarms.

        SageMaker reads the rollback alarms' state as the execution role while it bakes a
        deployment, so the role may describe exactly those alarms and no others. Which role that
        is when the variants run models with different roles is not documented: ``other_roles``
        (the other variants' models') get the same permission.
        """
        keys = rollback_alarm_keys if policy.auto_rollback else []
        self.rollback_alarms = [self.alarms[key] for key in keys]
        # By their stable names, so the policy and the config need no attribute of the alarms.
        names = [self.alarm_names[key] for key in keys]
        for reader in (role, *other_roles):
            grant_describe_alarms(reader, names)
        return policy.to_cloudformation(names)

    def _scalable_target(
        self, dimension: str, min_capacity: int, max_capacity: int, *, variant_name: str | None = None
    ) -> autoscaling.ScalableTarget:
        """The variant's scalable target (instance-backed endpoints key theirs by instance type)."""
        return self._create_scalable_target("ScalableTarget", dimension, min_capacity, max_capacity, variant_name)

    def _create_scalable_target(
        self, construct_id: str, dimension: str, min_capacity: int, max_capacity: int, variant_name: str | None = None
    ) -> autoscaling.ScalableTarget:
        """The scalable target of ``variant_name`` (``None``: the endpoint's first variant)."""
        # One reference to the service-linked role, whatever the number of autoscaled variants.
        if self._service_linked_role is None:
            self._service_linked_role = autoscaling_service_linked_role(self, self.stack)
        target = autoscaling.ScalableTarget(
            self,
            construct_id,
            role=self._service_linked_role,
            service_namespace=autoscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{self.endpoint_name}/variant/{variant_name or self.variant_name}",
            scalable_dimension=dimension,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
        )
        target.node.add_dependency(self.endpoint)
        return target

    # Metrics -------------------------------------------------------------------------------

    def metric(
        self,
        metric_name: str,
        *,
        namespace: str = SAGEMAKER_NAMESPACE,
        statistic: str = "Average",
        period: cdk.Duration | None = None,
        variant_name: str | None = None,
        **props: Any,
    ) -> cloudwatch.Metric:
        """Any metric of this endpoint's production variant (or of ``variant_name``, e.g. a shadow)."""
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=metric_name,
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": variant_name or self.variant_name},
            statistic=statistic,
            period=period or one_minute(),
            **props,
        )

    def metric_spec(
        self,
        metric_name: str,
        *,
        namespace: str = SAGEMAKER_NAMESPACE,
        statistic: str = "Average",
        variant_name: str | None = None,
    ) -> MetricSpec:
        """:meth:`metric` described in Python, per minute: what the endpoint's own alarms are built
        from (an alarm on it costs one jsii call, see ``inference_constructs.alarms``)."""
        return MetricSpec(
            namespace,
            metric_name,
            (("EndpointName", self.endpoint_name), ("VariantName", variant_name or self.variant_name)),
            statistic,
        )

    def metric_invocations(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("Invocations", statistic="Sum", **props)

    def metric_invocation_5xx_errors(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("Invocation5XXErrors", statistic="Sum", **props)

    def metric_invocation_4xx_errors(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("Invocation4XXErrors", statistic="Sum", **props)

    def metric_model_latency(self, statistic: str = "p99", **props: Any) -> cloudwatch.Metric:
        """Time the model container took to answer, in microseconds."""
        return self.metric("ModelLatency", statistic=statistic, **props)

    def metric_overhead_latency(self, statistic: str = "p99", **props: Any) -> cloudwatch.Metric:
        """Time SageMaker added on top of the model, in microseconds."""
        return self.metric("OverheadLatency", statistic=statistic, **props)

    # Grants --------------------------------------------------------------------------------

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke this endpoint (and only this endpoint), with its answer whole or
        streamed (``InvokeEndpointWithResponseStream``, which text-generation containers serve)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[self.endpoint_arn],
        )


def grant_describe_alarms(role: iam.IRole, names: list[str]) -> None:
    """Let ``role`` describe exactly the alarms named ``names`` (the rollback alarms SageMaker
    reads as the role while it bakes a deployment); nothing when there are none."""
    if not names:
        return
    stack = cdk.Stack.of(role)
    # Grant.add_to_principal makes the same statement (actions, resources, no Sid) as
    # PolicyStatement + add_to_principal_policy, in one jsii call instead of five.
    iam.Grant.add_to_principal(
        grantee=role,
        actions=["cloudwatch:DescribeAlarms"],
        resource_arns=[alarm_arn(stack, name) for name in names],
    )


def alarm_arn(stack: cdk.Stack, name: str) -> str:
    """The ARN of the alarm named ``name`` in ``stack``'s account and region (what
    ``cloudwatch.Alarm.from_alarm_name`` gives, without a construct)."""
    return stack_values(stack).arn("cloudwatch", "alarm", name, sep=":")


def autoscaling_service_linked_role(scope: Construct, stack: cdk.Stack | None = None) -> iam.IRole:
    """Application Auto Scaling's service-linked role for SageMaker (endpoint variants and
    inference components alike), instead of a role of ours. ``stack``: ``scope``'s, when known."""
    return iam.Role.from_role_arn(
        scope,
        "AutoScalingServiceLinkedRole",
        stack_values(stack or scope).arn(
            "iam",
            "role",
            "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
            region="",
        ),
    )


def scalable_target_id(instance_type: str) -> str:
    """The construct id of a variant's scalable target on ``instance_type`` (``ml.m5.large`` ->
    ``ScalableTargetMlM5Large``): a new instance type is a new logical resource."""
    return "ScalableTarget" + "".join(part.capitalize() for part in instance_type.replace("-", ".").split("."))


class InstanceBackedEndpoint(EndpointBase):
    """Base for endpoints served by instances (real-time and async): instance metrics and the
    capacity bounds the dashboard draws the instance count against."""

    def __init__(
        self, scope: Construct, id: str, *, endpoint_name: str, variant_name: str, capacity_bounds: tuple[int, int]
    ) -> None:
        super().__init__(scope, id, endpoint_name=endpoint_name, variant_name=variant_name)
        #: Fewest and most instances of the production variant (autoscaling bounds, or the fixed count).
        self.capacity_bounds = capacity_bounds

    def _created_after_endpoint(
        self, encryption_key: kms.IKey, logs_settings: EndpointLogSettings
    ) -> tuple[Construct, ...]:
        """The scaling guard the endpoint waits for (see :meth:`EndpointBase._created_after_endpoint`)."""
        # Present whether or not the endpoint autoscales now: an update that drops autoscaling
        # must deregister the variant too, or the retained registration would keep scaling it.
        self.scaling_guard = ScalingRegistrationGuard(
            self,
            "ScalingGuard",
            endpoint_name=self.endpoint_name,
            encryption_key=encryption_key,
            log_retention_days=logs_settings.retention_days,
            retain_logs=logs_settings.retain_on_delete,
        )
        return (self.scaling_guard,)

    def _scalable_target(
        self,
        dimension: str,
        min_capacity: int,
        max_capacity: int,
        *,
        instance_type: str,
        variant_name: str | None = None,
    ) -> autoscaling.ScalableTarget:
        """The scalable target of production variant ``variant_name`` (``None``: the endpoint's
        first) on ``instance_type``; scaling policies go under it. Each variant has its own,
        registered with the guard.

        SageMaker refuses an endpoint update that changes the instance type of (or removes) a
        registered variant (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html).
        So that such a change deploys in one update:

        - the scaling guard (which the endpoint depends on) deregisters the variant first;
        - the target's logical id carries the instance type, so a new type is a new resource,
          registered after the endpoint update (it depends on the endpoint), with its policies
          and scheduled actions, which are its children;
        - every Application Auto Scaling resource of the endpoint is retained on removal and
          replacement: cleanup of the old logical resources would otherwise deregister (or delete
          the policies of) the same resource id the new ones just registered. Nothing is left
          behind: the guard deregistered them, and deleting an endpoint deregisters its variants
          (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-delete-with-scaling.html).
        """
        name = variant_name or self.variant_name
        self.scaling_guard.register(name, instance_type=instance_type, scalable_dimension=dimension)
        # The first variant keeps the ids it always had; a further variant's carry its name too.
        construct_id = (
            scalable_target_id(instance_type)
            if variant_name is None
            else f"{variant_name}{scalable_target_id(instance_type)}"
        )
        return self._create_scalable_target(construct_id, dimension, min_capacity, max_capacity, variant_name)

    @staticmethod
    def _retain_scaling_resources(target: autoscaling.ScalableTarget) -> None:
        """Retain the scalable target and every policy under it (see :meth:`_scalable_target`).

        ``RemovalPolicies`` is an aspect that runs in Node at synth (two jsii calls, whatever the
        number of resources under the target; a walk of the subtree from Python cost one call per
        resource). A Python aspect would instead call back from Node into Python for every
        construct of the endpoint at synth (about 140 jsii round trips per synth of the shipped app)."""
        cdk.RemovalPolicies.of(target).retain()

    def metric_cpu_utilization(self, **props: Any) -> cloudwatch.Metric:
        """Average CPU utilization across instances (100% per vCPU)."""
        return self.metric("CPUUtilization", namespace=INSTANCE_NAMESPACE, **props)

    def metric_memory_utilization(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("MemoryUtilization", namespace=INSTANCE_NAMESPACE, **props)

    def metric_disk_utilization(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("DiskUtilization", namespace=INSTANCE_NAMESPACE, **props)

    def metric_gpu_utilization(self, **props: Any) -> cloudwatch.Metric:
        """Average GPU utilization across instances (100% per GPU, summed over an instance's GPUs)."""
        return self.metric("GPUUtilization", namespace=INSTANCE_NAMESPACE, **props)

    def metric_gpu_memory_utilization(self, **props: Any) -> cloudwatch.Metric:
        """Average GPU memory utilization across instances (100% per GPU, summed over an instance's GPUs)."""
        return self.metric("GPUMemoryUtilization", namespace=INSTANCE_NAMESPACE, **props)

    def metric_instances_reporting(self, **props: Any) -> cloudwatch.Metric:
        """Instances in service: every instance reports CPUUtilization once a minute, so the
        one-minute sample count is the instance count (SageMaker's own advice)."""
        props.setdefault("label", "instances reporting")
        return self.metric("CPUUtilization", namespace=INSTANCE_NAMESPACE, statistic="SampleCount", **props)
