"""What each environment serves: models and, per model, its real-time, serverless, async
and batch deployments, read from the synthesized templates alone.

Modes are recognised by CloudFormation resource types and properties, not by construct
names, each by its own recogniser in the registry of modes (inference_core.modes): an endpoint
configuration with ``AsyncInferenceConfig`` is async, one whose variants have a
``ServerlessConfig`` is serverless, any other is real-time; a Step Functions state machine that
calls ``sagemaker:createTransformJob`` is batch transform. The bundle names a mode by its
``label`` and titles it with its ``title``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from inference_core import modes as registry
from inference_core.modes import ENDPOINT_CONFIG, INFERENCE_COMPONENT, STATE_MACHINE, recognise, registered
from review_bundle.assembly import Assembly, Stack
from review_bundle.template import Renderer, as_int, references

# The labels of the modes whose cost, diagram and settings the bundle renders in a way of
# their own (billing and capacity differ by mode); every other use goes through the registry.
REALTIME, SERVERLESS, ASYNC, BATCH, COMPONENT = (
    registry.REALTIME.label,
    registry.SERVERLESS.label,
    registry.ASYNC.label,
    registry.BATCH.label,
    registry.COMPONENT.label,
)

ENDPOINT = "AWS::SageMaker::Endpoint"
MODEL = "AWS::SageMaker::Model"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
SCALING_POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"
ALARM = "AWS::CloudWatch::Alarm"
EVENT_RULE = "AWS::Events::Rule"
SCHEDULE = "AWS::Scheduler::Schedule"

INSTANCE_COUNT = "sagemaker:variant:DesiredInstanceCount"
PROVISIONED_CONCURRENCY = "sagemaker:variant:DesiredProvisionedConcurrency"
COPY_COUNT = "sagemaker:inference-component:DesiredCopyCount"
TRANSFORM_TASK = re.compile(r"sagemaker:createTransformJob")

# Labels for the settings a reviewer looks for first; other keys keep their property path.
LABELS = {
    "OutputConfig.S3OutputPath": "Results written to",
    "OutputConfig.S3FailurePath": "Failures written to",
    "OutputConfig.KmsKeyId": "Results encrypted with",
    "OutputConfig.NotificationConfig.SuccessTopic": "Success notifications (SNS)",
    "OutputConfig.NotificationConfig.ErrorTopic": "Error notifications (SNS)",
    "OutputConfig.NotificationConfig.IncludeInferenceResponseIn": "Result included in",
    "ClientConfig.MaxConcurrentInvocationsPerInstance": "Concurrent requests per instance",
    "TransformResources.InstanceType": "Instance type",
    "TransformResources.InstanceCount": "Instances per job",
    "TransformResources.VolumeKmsKeyId": "Volume encrypted with",
    "MaxPayloadInMB": "Largest payload (MB)",
    "MaxConcurrentTransforms": "Concurrent requests per instance",
    "BatchStrategy": "Batch strategy",
    "TransformInput.DataSource.S3DataSource.S3Uri": "Input",
    "TransformInput.ContentType": "Input content type",
    "TransformInput.SplitType": "Input split",
    "TransformOutput.S3OutputPath": "Output",
    "TransformOutput.KmsKeyId": "Output encrypted with",
    "TransformOutput.AssembleWith": "Output assembled with",
    "TransformOutput.Accept": "Output content type",
    "ModelClientConfig.InvocationsTimeoutInSeconds": "Timeout per request (s)",
    "ModelClientConfig.InvocationsMaxRetries": "Retries per request",
    "TransformJobName": "Job name",
}
_SKIPPED_KEYS = ("Tags", "ModelName", "Environment")


def mode_labels() -> tuple[str, ...]:
    """Every registered mode's label, in the registry's order (the order of the bundle's tables)."""
    return tuple(mode.label for mode in registered())


def mode_of(label: str) -> registry.Mode:
    return next(mode for mode in registered() if mode.label == label)


def mode_title(label: str) -> str:
    """``real-time`` -> ``Real-time endpoint``."""
    return mode_of(label).title


@dataclass
class Scaling:
    """An Application Auto Scaling target on one variant, with its policies and schedules."""

    logical_id: str
    dimension: str
    min_capacity: int | None
    max_capacity: int | None
    policies: list[str] = field(default_factory=list)
    scheduled: list[str] = field(default_factory=list)
    policy_ids: list[str] = field(default_factory=list)

    @property
    def unit(self) -> str:
        units = {PROVISIONED_CONCURRENCY: "provisioned concurrency", COPY_COUNT: "copies"}
        return units.get(self.dimension, "instances")

    @property
    def bounds(self) -> str:
        return f"{_number(self.min_capacity)} to {_number(self.max_capacity)} {self.unit}"


# A production variant's start-up, storage and routing properties, and how the review names them.
VARIANT_SETTINGS = {
    "ContainerStartupHealthCheckTimeoutInSeconds": "Start-up health check timeout (s)",
    "ModelDataDownloadTimeoutInSeconds": "Model download timeout (s)",
    "VolumeSizeInGB": "Storage volume (GB)",
    "RoutingConfig": "Routing",
}


@dataclass
class Variant:
    """One production variant of an endpoint configuration."""

    name: str
    instance_type: str | None
    initial_instance_count: int | None
    weight: Any
    serverless: dict[str, Any] | None
    scaling: list[Scaling] = field(default_factory=list)
    # A shared endpoint's ManagedInstanceScaling: SageMaker, not Application Auto Scaling, sizes it.
    managed_scaling: dict[str, Any] | None = None
    #: Start-up, storage and routing settings as the template gives them (VARIANT_SETTINGS).
    settings: dict[str, Any] = field(default_factory=dict)

    def scaling_of(self, dimension: str) -> Scaling | None:
        return next((scaling for scaling in self.scaling if scaling.dimension == dimension), None)

    @property
    def min_instances(self) -> int | None:
        """The fewest instances this variant runs: the autoscaling minimum, else the initial count."""
        if self.instance_type is None:
            return 0
        if self.managed_scaling is not None:
            return as_int(self.managed_scaling.get("MinInstanceCount"))
        scaling = self.scaling_of(INSTANCE_COUNT)
        if scaling is not None:
            return scaling.min_capacity
        return self.initial_instance_count

    @property
    def max_instances(self) -> int | None:
        if self.instance_type is None:
            return 0
        if self.managed_scaling is not None:
            return as_int(self.managed_scaling.get("MaxInstanceCount"))
        scaling = self.scaling_of(INSTANCE_COUNT)
        return scaling.max_capacity if scaling is not None else self.initial_instance_count

    @property
    def memory_mb(self) -> int | None:
        return as_int((self.serverless or {}).get("MemorySizeInMB"))

    @property
    def max_concurrency(self) -> int | None:
        return as_int((self.serverless or {}).get("MaxConcurrency"))

    @property
    def min_provisioned_concurrency(self) -> int:
        """Concurrency kept warm at all times (0 when none is provisioned)."""
        scaling = self.scaling_of(PROVISIONED_CONCURRENCY)
        if scaling is not None and scaling.min_capacity is not None:
            return scaling.min_capacity
        return as_int((self.serverless or {}).get("ProvisionedConcurrency")) or 0


@dataclass
class Endpoint:
    """A SageMaker endpoint (or an endpoint configuration no endpoint uses yet)."""

    mode: str
    stack: Stack
    logical_id: str | None
    config_id: str
    name: str
    variants: list[Variant]
    async_settings: list[tuple[str, str]]
    data_capture: str | None
    deployment: list[str]
    retain_variant_properties: bool
    resources: list[str]
    # ExcludeRetainedVariantProperties: what follows the configuration even when the rest is retained.
    follow_config: list[str] = field(default_factory=list)

    def keeps_on_update(self, variant_property: str) -> bool:
        """Whether an update keeps the endpoint's current ``variant_property`` (e.g. DesiredWeight)
        instead of the configured one."""
        return self.retain_variant_properties and variant_property not in self.follow_config

    @property
    def traffic_shares(self) -> dict[str, float] | None:
        """Each variant's share of requests (weight over the sum of weights), or None if unknown."""
        weights = {variant.name: variant.weight for variant in self.variants}
        if not all(isinstance(weight, int | float) for weight in weights.values()):
            return None
        total = sum(weights.values())
        return {name: weight / total for name, weight in weights.items()} if total > 0 else None


@dataclass
class Batch:
    """A state machine that runs SageMaker batch transform jobs."""

    stack: Stack
    logical_id: str
    name: str
    settings: list[tuple[str, str]]
    triggers: list[str]
    instance_type: str | None
    instance_count: int | None
    resources: list[str]


@dataclass
class Component:
    """An inference component: one model's share of a shared endpoint."""

    stack: Stack
    logical_id: str
    name: str
    settings: list[tuple[str, str]]
    resources: list[str]
    #: The shared endpoint it runs on, as the template names it.
    endpoint_name: str = ""
    #: The fewest copies it keeps: its autoscaling minimum, else its copy count (None: not a literal).
    min_copies: int | None = None


@dataclass
class ModelDeployment:
    """One model in one environment: its stack, the SageMaker models, endpoints and batch jobs."""

    name: str
    stack: Stack
    models: dict[str, list[tuple[str, str]]]  # construct path -> settings
    endpoints: list[Endpoint]
    batches: list[Batch]
    shared_resources: list[str]
    components: list[Component] = field(default_factory=list)

    @property
    def model_packages(self) -> list[str]:
        """The Model Registry versions this model runs (``<group>/<version>``), if it runs any."""
        arns = {value for settings in self.models.values() for key, value in settings if key == MODEL_PACKAGE_SETTING}
        return sorted(arn.split(":model-package/", 1)[-1] for arn in arns)

    @property
    def modes(self) -> list[str]:
        served = {endpoint.mode for endpoint in self.endpoints} | ({BATCH} if self.batches else set())
        served |= {COMPONENT} if self.components else set()
        return [mode for mode in mode_labels() if mode in served]


def deployments(assembly: Assembly, environment: str) -> list[ModelDeployment]:
    """Every model served in ``environment``, from the stacks that hold SageMaker resources."""
    found = []
    for stack in assembly.stacks_of(environment):
        if not (stack.resources_of_type(MODEL) or stack.resources_of_type(ENDPOINT_CONFIG) or _batch_machines(stack)):
            continue
        found.append(_deployment(assembly, stack))
    return found


def _deployment(assembly: Assembly, stack: Stack) -> ModelDeployment:
    render = Renderer(stack, assembly)
    endpoints = _endpoints(stack, render)
    batches = [_batch(stack, render, logical_id) for logical_id in _batch_machines(stack)]
    components = [
        _component(stack, render, logical_id) for logical_id in sorted(stack.resources_of_type(INFERENCE_COMPONENT))
    ]
    claimed = {resource for item in [*endpoints, *batches, *components] for resource in item.resources}
    return ModelDeployment(
        name=stack.model or stack.short_name,
        stack=stack,
        models={
            stack.path_of(logical_id): _model_settings(render, resource)
            for logical_id, resource in sorted(
                stack.resources_of_type(MODEL).items(), key=lambda i: stack.path_of(i[0])
            )
        },
        endpoints=endpoints,
        batches=batches,
        shared_resources=sorted(set(stack.resources) - claimed, key=stack.path_of),
        components=components,
    )


MODEL_PACKAGE_SETTING = "Model package version"


def _model_settings(render: Renderer, resource: dict[str, Any]) -> list[tuple[str, str]]:
    properties = resource.get("Properties", {})
    containers = (
        [properties["PrimaryContainer"]] if "PrimaryContainer" in properties else properties.get("Containers", [])
    )
    settings = []
    if len(containers) > 1:
        # A serial inference pipeline: each container's answer is the next one's request.
        chain = " → ".join(render.text(c.get("Image", "?")).rsplit("/", 1)[-1] for c in containers)
        settings.append(("Serial pipeline", f"{len(containers)} containers in order: {chain}"))
    for index, container in enumerate(containers, start=1):
        label = f"Container {index} image" if len(containers) > 1 else "Image"
        if "ModelPackageName" in container:  # a Model Registry version: its image and artifact are the package's
            settings.append((MODEL_PACKAGE_SETTING, render.text(container["ModelPackageName"])))
        else:
            settings.append((label, render.text(container.get("Image", "?"))))
        if container.get("Mode") == "MultiModel":
            settings.append(
                (
                    "Models (multi-model endpoint)",
                    f"every .tar.gz under {render.text(container.get('ModelDataUrl', '?'))}, loaded on the first "
                    "request that names it (TargetModel)",
                )
            )
        elif "ModelDataUrl" in container:
            settings.append(("Model artifact", render.text(container["ModelDataUrl"])))
        source = container.get("ModelDataSource", {}).get("S3DataSource")
        if source:
            settings.append(
                (
                    "Model data",
                    f"{render.text(source.get('S3Uri', '?'))} ({source.get('S3DataType')}, compression "
                    f"{source.get('CompressionType')})",
                )
            )
    isolation = properties.get("EnableNetworkIsolation", False)
    settings.append(("Network isolation", "on (the container has no network access)" if isolation is True else "off"))
    vpc = properties.get("VpcConfig")
    if vpc:
        settings.append(("VPC subnets", ", ".join(render.text(subnet) for subnet in vpc.get("Subnets", []))))
        settings.append(("Security groups", ", ".join(render.text(group) for group in vpc.get("SecurityGroupIds", []))))
    else:
        settings.append(("VPC", "none (SageMaker-managed network)"))
    settings.append(("Execution role", render.text(properties.get("ExecutionRoleArn", "?"))))
    return settings


# --- endpoints ---------------------------------------------------------------------------------


def _endpoints(stack: Stack, render: Renderer) -> list[Endpoint]:
    configs = stack.resources_of_type(ENDPOINT_CONFIG)
    endpoints = stack.resources_of_type(ENDPOINT)
    found = []
    used_configs = set()
    for logical_id, endpoint in endpoints.items():
        properties = endpoint.get("Properties", {})
        config_ids = references(properties.get("EndpointConfigName")) & set(configs)
        config_id = next(iter(sorted(config_ids)), None)
        if config_id is None:
            continue
        used_configs.add(config_id)
        found.append(_endpoint(stack, render, logical_id, config_id))
    for config_id in sorted(set(configs) - used_configs):
        found.append(_endpoint(stack, render, None, config_id))
    return sorted(found, key=lambda item: (mode_labels().index(item.mode), item.name))


def endpoint_mode(config: dict[str, Any]) -> str:
    """The label of the mode an endpoint configuration serves (real-time takes what no other mode claims)."""
    mode = recognise(ENDPOINT_CONFIG, config)
    return mode.label if mode is not None else REALTIME


def _endpoint(stack: Stack, render: Renderer, logical_id: str | None, config_id: str) -> Endpoint:
    config = stack.resources[config_id]
    properties = config.get("Properties", {})
    endpoint = stack.resources[logical_id].get("Properties", {}) if logical_id else {}
    name = (
        render.text(endpoint["EndpointName"]) if "EndpointName" in endpoint else stack.path_of(logical_id or config_id)
    )
    variants = [
        Variant(
            name=render.text(variant.get("VariantName", "?")),
            instance_type=render.text(variant["InstanceType"]) if "InstanceType" in variant else None,
            initial_instance_count=as_int(variant.get("InitialInstanceCount")),
            weight=variant.get("InitialVariantWeight"),
            settings={key: variant[key] for key in VARIANT_SETTINGS if key in variant},
            serverless=render.value(variant["ServerlessConfig"]) if "ServerlessConfig" in variant else None,
            managed_scaling=render.value(variant["ManagedInstanceScaling"])
            if "ManagedInstanceScaling" in variant
            else None,
        )
        for variant in properties.get("ProductionVariants", [])
    ]
    linked = {config_id} | ({logical_id} if logical_id else set())
    for target_id, target in stack.resources_of_type(SCALABLE_TARGET).items():
        variant = _scaled_variant(stack, render, target, logical_id, name, variants)
        if variant is not None:
            scaling = _scaling(stack, render, target_id, target)
            variant.scaling.append(scaling)
            linked |= {target_id, *scaling.policy_ids, *_alarms_of(stack, scaling.policy_ids)}
    async_config = properties.get("AsyncInferenceConfig")
    return Endpoint(
        mode=endpoint_mode(config),
        stack=stack,
        logical_id=logical_id,
        config_id=config_id,
        name=name,
        variants=variants,
        async_settings=_flatten(render.value(async_config)) if async_config else [],
        data_capture=_data_capture(render, properties.get("DataCaptureConfig")),
        deployment=_deployment_policy(render, endpoint) if logical_id else ["no endpoint uses this configuration"],
        retain_variant_properties=endpoint.get("RetainAllVariantProperties") is True,
        follow_config=[
            render.text(item.get("VariantPropertyType", "?"))
            for item in endpoint.get("ExcludeRetainedVariantProperties", [])
            if isinstance(item, dict)
        ],
        resources=sorted(_unit_resources(stack, logical_id or config_id) | linked, key=stack.path_of),
    )


def _scaled_variant(
    stack: Stack, render: Renderer, target: dict[str, Any], endpoint_id: str | None, name: str, variants: list[Variant]
) -> Variant | None:
    properties = target.get("Properties", {})
    if properties.get("ServiceNamespace") != "sagemaker":
        return None
    resource_id = render.text(properties.get("ResourceId", ""))
    match = re.fullmatch(r"endpoint/(?P<endpoint>.+)/variant/(?P<variant>.+)", resource_id)
    if match is None:
        return None
    refers_to_endpoint = endpoint_id is not None and endpoint_id in references(properties.get("ResourceId"))
    if match["endpoint"] != name and not refers_to_endpoint:
        return None
    return next((variant for variant in variants if variant.name == match["variant"]), None)


def _scaling(stack: Stack, render: Renderer, target_id: str, target: dict[str, Any]) -> Scaling:
    properties = target.get("Properties", {})
    scaling = Scaling(
        logical_id=target_id,
        dimension=str(properties.get("ScalableDimension")),
        min_capacity=as_int(properties.get("MinCapacity")),
        max_capacity=as_int(properties.get("MaxCapacity")),
    )
    for action in properties.get("ScheduledActions", []):
        bounds = action.get("ScalableTargetAction", {})
        limits = ", ".join(
            f"{label} {bounds[key]}" for key, label in (("MinCapacity", "min"), ("MaxCapacity", "max")) if key in bounds
        )
        zone = f" ({action['Timezone']})" if action.get("Timezone") else ""
        scaling.scheduled.append(
            f"{action.get('ScheduledActionName', '?')}: {action.get('Schedule')}{zone} sets {limits}"
        )
    for policy_id, policy in stack.resources_of_type(SCALING_POLICY).items():
        policy_properties = policy.get("Properties", {})
        if target_id in references(policy_properties.get("ScalingTargetId")):
            scaling.policy_ids.append(policy_id)
            scaling.policies.append(_policy_text(stack, render, policy_id, policy_properties))
    return scaling


def _policy_text(stack: Stack, render: Renderer, policy_id: str, properties: dict[str, Any]) -> str:
    tracking = properties.get("TargetTrackingScalingPolicyConfiguration")
    if tracking:
        predefined = tracking.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
        custom = tracking.get("CustomizedMetricSpecification", {})
        metric = predefined or (
            f"{custom.get('MetricName')} ({custom.get('Namespace')}, {custom.get('Statistic', 'Average')})"
            if custom.get("MetricName")
            else "a metric-math expression"
        )
        text = f"target tracking: keep {metric} at {render.text(tracking.get('TargetValue'))}"
        cooldowns = [
            f"{label} cooldown {tracking[key]} s"
            for key, label in (("ScaleOutCooldown", "scale-out"), ("ScaleInCooldown", "scale-in"))
            if key in tracking
        ]
        if tracking.get("DisableScaleIn") is True:
            cooldowns.append("never scales in")
        return text + (f" ({', '.join(cooldowns)})" if cooldowns else "")
    step = properties.get("StepScalingPolicyConfiguration")
    if step:
        adjustments = "; ".join(
            _step_text(item, step.get("AdjustmentType", "ChangeInCapacity")) for item in step.get("StepAdjustments", [])
        )
        alarms = [_alarm_text(stack, render, alarm_id) for alarm_id in _alarms_of(stack, [policy_id])]
        trigger = f"when {' or '.join(alarms)}" if alarms else "when its alarm fires"
        return f"step scaling {trigger}: {adjustments}"
    return f"{properties.get('PolicyType', 'scaling policy')}"


def _step_text(step: dict[str, Any], adjustment_type: str) -> str:
    adjustment = step.get("ScalingAdjustment")
    if adjustment_type == "ExactCapacity":
        change = f"set capacity to {adjustment}"
    elif adjustment_type == "PercentChangeInCapacity":
        change = f"change capacity by {adjustment}%"
    else:
        change = (
            f"add {adjustment}" if isinstance(adjustment, int | float) and adjustment >= 0 else f"remove {adjustment}"
        )
    return change


def _alarms_of(stack: Stack, policy_ids: list[str]) -> list[str]:
    return sorted(
        alarm_id
        for alarm_id, alarm in stack.resources_of_type(ALARM).items()
        if references(alarm.get("Properties", {}).get("AlarmActions", [])) & set(policy_ids)
    )


def _alarm_text(stack: Stack, render: Renderer, alarm_id: str) -> str:
    properties = stack.resources[alarm_id].get("Properties", {})
    operators = {
        "GreaterThanOrEqualToThreshold": ">=",
        "GreaterThanThreshold": ">",
        "LessThanThreshold": "<",
        "LessThanOrEqualToThreshold": "<=",
    }
    metric = properties.get("MetricName") or "a metric-math expression"
    operator = operators.get(properties.get("ComparisonOperator", ""), properties.get("ComparisonOperator", "?"))
    return f"{metric} {operator} {render.text(properties.get('Threshold', '?'))}"


def _data_capture(render: Renderer, capture: dict[str, Any] | None) -> str | None:
    if not capture or capture.get("EnableCapture") is False:
        return None
    modes = [option.get("CaptureMode") for option in capture.get("CaptureOptions", [])]
    return (
        f"{capture.get('InitialSamplingPercentage', '?')}% of {' and '.join(map(str, modes)) or 'requests'} "
        f"to {render.text(capture.get('DestinationS3Uri', '?'))}"
    )


def _deployment_policy(render: Renderer, endpoint: dict[str, Any]) -> list[str]:
    policy = endpoint.get("DeploymentConfig")
    if not policy:
        return [
            "not set: SageMaker's default update shifts all traffic at once to the new instances, "
            "with no alarm-driven automatic rollback"
        ]
    lines = []
    blue_green = policy.get("BlueGreenUpdatePolicy")
    if blue_green:
        routing = blue_green.get("TrafficRoutingConfiguration", {})
        kind = routing.get("Type", "?")
        wait = routing.get("WaitIntervalInSeconds")
        if kind == "CANARY":
            text = f"blue/green, canary: {_capacity(routing.get('CanarySize'))} first, then the rest after {wait} s"
        elif kind == "LINEAR":
            text = f"blue/green, linear: {_capacity(routing.get('LinearStepSize'))} every {wait} s"
        else:
            text = "blue/green, all traffic at once"
        lines.append(text)
        if "TerminationWaitInSeconds" in blue_green:
            lines.append(f"old instances kept {blue_green['TerminationWaitInSeconds']} s after the shift")
        if "MaximumExecutionTimeoutInSeconds" in blue_green:
            lines.append(f"update times out after {blue_green['MaximumExecutionTimeoutInSeconds']} s")
    rolling = policy.get("RollingUpdatePolicy")
    if rolling:
        batch, wait = _capacity(rolling.get("MaximumBatchSize")), rolling.get("WaitIntervalInSeconds")
        lines.append(f"rolling: {batch} at a time, {wait} s apart")
        if "RollbackMaximumBatchSize" in rolling:
            lines.append(f"rolls back {_capacity(rolling['RollbackMaximumBatchSize'])} at a time")
        if "MaximumExecutionTimeoutInSeconds" in rolling:
            lines.append(f"update times out after {rolling['MaximumExecutionTimeoutInSeconds']} s")
    alarms = policy.get("AutoRollbackConfiguration", {}).get("Alarms", [])
    if alarms:
        names = ", ".join(render.text(alarm.get("AlarmName")) for alarm in alarms)
        lines.append(f"automatic rollback when any of these alarms fires: {names}")
    else:
        lines.append("no automatic rollback alarms")
    return lines


def _capacity(size: dict[str, Any] | None) -> str:
    if not size:
        return "?"
    if size.get("Type") == "CAPACITY_PERCENT":
        return f"{size.get('Value')}% of capacity"
    return f"{size.get('Value')} instance(s)"


# --- batch -------------------------------------------------------------------------------------


def _batch_machines(stack: Stack) -> list[str]:
    return sorted(
        logical_id
        for logical_id, machine in stack.resources_of_type(STATE_MACHINE).items()
        if recognise(STATE_MACHINE, machine) is registry.BATCH
    )


def _batch(stack: Stack, render: Renderer, logical_id: str) -> Batch:
    properties = stack.resources[logical_id].get("Properties", {})
    definition = _definition(render, properties)
    task = _transform_task(definition) if definition is not None else None
    settings: list[tuple[str, str]] = []
    instance_type = instance_count = None
    if task is not None:
        parameters = task.get("Parameters", task.get("Arguments", {}))
        settings = _flatten(parameters)
        resources = parameters.get("TransformResources", {})
        instance_type = resources.get("InstanceType") if isinstance(resources.get("InstanceType"), str) else None
        instance_count = as_int(resources.get("InstanceCount"))
        if "TimeoutSeconds" in task:
            settings.append(("Job timeout (s)", str(task["TimeoutSeconds"])))
        for retry in task.get("Retry", []):
            settings.append(
                ("Retried on", f"{', '.join(retry.get('ErrorEquals', []))} up to {retry.get('MaxAttempts', 3)} times")
            )
    else:
        settings.append(("Definition", "could not be read from the template"))
    if definition is not None and "TimeoutSeconds" in definition:
        settings.append(("Execution timeout (s)", str(definition["TimeoutSeconds"])))
    triggers, trigger_ids = _triggers(stack, render, logical_id)
    name = (
        render.text(properties["StateMachineName"]) if "StateMachineName" in properties else stack.path_of(logical_id)
    )
    linked = {logical_id, *trigger_ids, *references(properties.get("RoleArn"))}
    return Batch(
        stack=stack,
        logical_id=logical_id,
        name=name,
        settings=settings,
        triggers=triggers or ["none: started by hand or by a client (StartExecution)"],
        instance_type=instance_type,
        instance_count=instance_count,
        resources=sorted(_unit_resources(stack, logical_id) | (linked & set(stack.resources)), key=stack.path_of),
    )


def _definition(render: Renderer, properties: dict[str, Any]) -> dict[str, Any] | None:
    if isinstance(properties.get("Definition"), dict):
        return render.value(properties["Definition"])
    if "DefinitionString" not in properties:
        return None
    text = render.text(properties["DefinitionString"])
    for attempt in (text, re.sub(r':(\s*)(\$\{[^}"]*\})', r':\1"\2"', text)):
        try:
            loaded = json.loads(attempt)
        except json.JSONDecodeError:
            continue
        return loaded if isinstance(loaded, dict) else None
    return None


def _transform_task(definition: dict[str, Any]) -> dict[str, Any] | None:
    for state in _states(definition):
        if state.get("Type") == "Task" and TRANSFORM_TASK.search(str(state.get("Resource", ""))):
            return state
    return None


def _states(definition: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for state in definition.get("States", {}).values():
        if not isinstance(state, dict):
            continue
        found.append(state)
        for branch in state.get("Branches", []):
            found.extend(_states(branch))
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                found.extend(_states(state[key]))
    return found


def _triggers(stack: Stack, render: Renderer, machine_id: str) -> tuple[list[str], list[str]]:
    texts, ids = [], []
    for rule_id, rule in stack.resources_of_type(EVENT_RULE).items():
        properties = rule.get("Properties", {})
        if not any(machine_id in references(target.get("Arn")) for target in properties.get("Targets", [])):
            continue
        ids.append(rule_id)
        state = " (disabled)" if properties.get("State") == "DISABLED" else ""
        if "ScheduleExpression" in properties:
            texts.append(f"on schedule {render.text(properties['ScheduleExpression'])}{state}")
        if "EventPattern" in properties:
            texts.append(f"on event {_event_text(render.value(properties['EventPattern']))}{state}")
    for schedule_id, schedule in stack.resources_of_type(SCHEDULE).items():
        properties = schedule.get("Properties", {})
        if machine_id in references(properties.get("Target", {}).get("Arn")):
            ids.append(schedule_id)
            zone = (
                f" ({properties['ScheduleExpressionTimezone']})" if "ScheduleExpressionTimezone" in properties else ""
            )
            state = " (disabled)" if properties.get("State") == "DISABLED" else ""
            texts.append(f"on schedule {render.text(properties.get('ScheduleExpression'))}{zone}{state}")
    return texts, ids


def _event_text(pattern: dict[str, Any]) -> str:
    detail = pattern.get("detail", {}) if isinstance(pattern, dict) else {}
    bucket = detail.get("bucket", {}).get("name") if isinstance(detail.get("bucket"), dict) else None
    key = detail.get("object", {}).get("key") if isinstance(detail.get("object"), dict) else None
    kinds = pattern.get("detail-type") if isinstance(pattern, dict) else None
    if bucket is not None:
        where = ", ".join(map(str, bucket)) if isinstance(bucket, list) else str(bucket)
        prefixes = [item.get("prefix") for item in key if isinstance(item, dict) and "prefix" in item] if key else []
        prefix = f" under {', '.join(map(str, prefixes))}" if prefixes else ""
        return f"{', '.join(map(str, kinds or ['S3 event']))} in bucket {where}{prefix}"
    return json.dumps(pattern, sort_keys=True)


# --- inference components ----------------------------------------------------------------------


def _component(stack: Stack, render: Renderer, logical_id: str) -> Component:
    properties = stack.resources[logical_id].get("Properties", {})
    name = render.text(properties.get("InferenceComponentName", stack.path_of(logical_id)))
    compute = properties.get("Specification", {}).get("ComputeResourceRequirements", {})
    rows = [("Shared endpoint", render.text(properties.get("EndpointName", "?")))]
    rows += [
        (label, render.text(compute[key]))
        for key, label in (
            ("NumberOfCpuCoresRequired", "CPU cores per copy"),
            ("MinMemoryRequiredInMb", "Memory per copy (MiB)"),
            ("MaxMemoryRequiredInMb", "Most memory per copy (MiB)"),
            ("NumberOfAcceleratorDevicesRequired", "Accelerators per copy"),
        )
        if key in compute
    ]
    rows.append(("Copies at creation", render.text(properties.get("RuntimeConfig", {}).get("CopyCount", "?"))))
    linked = {logical_id}
    targets = {
        target_id: target
        for target_id, target in stack.resources_of_type(SCALABLE_TARGET).items()
        if render.text(target.get("Properties", {}).get("ResourceId", "")) == f"inference-component/{name}"
    }
    copy_count = properties.get("RuntimeConfig", {}).get("CopyCount")
    min_copies = as_int(copy_count)
    for target_id, target in targets.items():
        scaling = _scaling(stack, render, target_id, target)
        min_copies = scaling.min_capacity
        rows.append((f"Autoscaling ({scaling.unit})", scaling.bounds))
        rows += [("Scaling policy", policy) for policy in scaling.policies]
        linked |= {target_id, *scaling.policy_ids, *_alarms_of(stack, scaling.policy_ids)}
    if not targets:
        rows.append(("Autoscaling", "none: the copies stay as created"))
    rolling = properties.get("DeploymentConfig", {}).get("RollingUpdatePolicy")
    if rolling:
        rows.append(
            (
                "Deployment policy",
                f"rolling: {_capacity(rolling.get('MaximumBatchSize'))} per batch, "
                f"{rolling.get('WaitIntervalInSeconds', '?')} s baking",
            )
        )
    alarms = properties.get("DeploymentConfig", {}).get("AutoRollbackConfiguration", {}).get("Alarms", [])
    if alarms:
        rows.append(("Rolls back on", ", ".join(render.text(alarm.get("AlarmName")) for alarm in alarms)))
    return Component(
        stack=stack,
        logical_id=logical_id,
        name=name,
        settings=rows,
        resources=sorted(_unit_resources(stack, logical_id) | linked, key=stack.path_of),
        endpoint_name=render.text(properties.get("EndpointName", "")),
        min_copies=min_copies,
    )


# --- shared helpers ----------------------------------------------------------------------------


def _unit_resources(stack: Stack, logical_id: str) -> set[str]:
    """Resources created by the same top-level construct as ``logical_id`` (``Realtime/...``)."""
    path = stack.path_of(logical_id)
    if "/" not in path:
        return {logical_id}
    unit = path.split("/", 1)[0] + "/"
    return {other for other in stack.resources if stack.path_of(other).startswith(unit)}


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested settings as ``(label, text)`` rows; ``Key.$`` (read from the execution input) is said so."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _SKIPPED_KEYS and not prefix:
                continue
            if key.endswith(".$"):
                path = f"{prefix}{key[:-2]}"
                rows.append((LABELS.get(path, path), f"from the execution input: {item}"))
            else:
                rows.extend(_flatten(item, f"{prefix}{key}."))
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for index, item in enumerate(value):
            rows.extend(_flatten(item, f"{prefix[:-1]}[{index}]."))
    else:
        path = prefix[:-1]
        text = value if isinstance(value, str) else json.dumps(value)
        rows.append((LABELS.get(path, path), text))
    return rows


def _number(value: int | None) -> str:
    return "?" if value is None else str(value)
