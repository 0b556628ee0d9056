"""``AsyncEndpoint``: a queued endpoint (1 GB payloads, 1 hour) that writes results to S3,
notifies SNS topics and scales to zero when idle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from pydantic import Field, model_validator

from inference_constructs import durations
from inference_constructs.alarms import AlarmEvaluation, AlarmSpec, MetricSpec
from inference_constructs.compliance import acknowledge_inline_policy, acknowledge_wildcard_resources
from inference_constructs.data_capture import DataCaptureSettings, data_capture_config, data_capture_statements
from inference_constructs.deployment_policy import DeploymentPolicy, check_policy_fits
from inference_constructs.encrypted_topic import EncryptedTopic
from inference_constructs.endpoint import (
    SAGEMAKER_NAMESPACE,
    EndpointLogSettings,
    InstanceBackedEndpoint,
    check_instance_endpoint_props,
)
from inference_constructs.error_queue import ErrorQueue, ErrorQueueSettings
from inference_constructs.errors import ProblemCollector
from inference_constructs.gpu_alarms import GpuMemoryUtilizationPercent, GpuUtilizationPercent, gpu_alarm_specs
from inference_constructs.inference_model import InferenceModel
from inference_constructs.instance_types import check_autoscalable
from inference_constructs.policy_json import document, statement
from inference_constructs.realtime_endpoint import (
    INSTANCE_COUNT_DIMENSION,
    InstanceType,
)
from inference_constructs.settings import CapacityRange
from inference_constructs.variant_settings import (
    DownloadTimeoutSeconds,
    HealthCheckTimeoutSeconds,
    RoutingStrategy,
    VariantSettings,
    VolumeSizeInGb,
    variant_properties,
)
from inference_constructs.wake_from_zero import WakeFromZero
from inference_core.naming import SAGEMAKER_NAME
from inference_core.s3 import FAILURE_FOLDER, INPUT_FOLDER, KEY_PREFIX, OUTPUT_FOLDER

# Hard limit of InvokeEndpointAsync's InvocationTimeoutSeconds (one hour).
MAX_INVOCATION_TIMEOUT_SECONDS = 3600
# The alarms an update's baking periods watch: a new model version whose requests fail rolls
# back. Backlog and age alarms stay out: a queue that builds while the new fleet warms up says
# nothing about the new version.
ROLLBACK_ALARMS = ("InvocationFailures",)

NotificationTopic = Literal["SUCCESS_NOTIFICATION_TOPIC", "ERROR_NOTIFICATION_TOPIC"]


class AsyncAutoscaling(CapacityRange):
    """Instance bounds and target tracking on the queue's backlog per instance."""

    min_capacity: int = Field(
        default=0, ge=0, le=1000, description="Fewest instances; 0 lets the endpoint scale to zero when idle."
    )
    max_capacity: int = Field(default=1, ge=1, le=1000, description="Most instances.")
    target_backlog_per_instance: float = Field(
        default=5,
        gt=0,
        le=100_000,
        description="Queued requests per instance to hold (target of ApproximateBacklogSizePerInstance).",
    )
    scale_in_cooldown_seconds: int = Field(default=600, ge=0, le=3600, description="Seconds after a scale-in activity.")
    scale_out_cooldown_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="Seconds after a scale-out activity; also the cooldown of the wake-up step policy.",
    )


class AsyncAlarms(AlarmEvaluation):
    """Thresholds of the alarms sent to the platform's alarm topic, tuned in the vocabulary every
    mode shares (``evaluation_periods`` one-minute periods, ``datapoints_to_alarm`` of them
    breaching). By default all five periods must breach: a queue that builds for one minute is
    not yet a problem."""

    evaluation_periods: int = Field(
        default=5,
        ge=1,
        le=60,
        description="One-minute periods the age and backlog alarms look at; also how many failure-free minutes "
        "clear the failures alarm.",
    )
    datapoints_to_alarm: int = Field(
        default=5, ge=1, le=60, description="Of those periods, how many above the age or backlog threshold alarm."
    )
    oldest_request_age_seconds: int = Field(
        default=1800,
        ge=60,
        le=21_600,
        description="Alarm when the oldest queued request is older than this (ApproximateAgeOfOldestRequest).",
    )
    backlog_size: int = Field(
        default=100, ge=1, le=1_000_000, description="Alarm when more requests than this are queued."
    )
    invocation_failures: int = Field(
        default=1,
        ge=1,
        le=1_000_000,
        description="Alarm when at least this many requests fail within a minute (InvocationFailures): each is "
        "a caller's request lost, so the alarm fires on the first such minute.",
    )
    gpu_utilization_percent: GpuUtilizationPercent
    gpu_memory_utilization_percent: GpuMemoryUtilizationPercent

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "evaluation_minutes" in data:
            raise ValueError(
                "evaluation_minutes is now evaluation_periods and datapoints_to_alarm, as for every mode "
                f"(evaluation_minutes: {data['evaluation_minutes']} means both set to {data['evaluation_minutes']})"
            )
        return data

    @property
    def evaluation(self) -> AlarmEvaluation:
        """The age and backlog alarms' evaluation."""
        return AlarmEvaluation(evaluation_periods=self.evaluation_periods, datapoints_to_alarm=self.datapoints_to_alarm)


class AsyncSettings(VariantSettings):
    """Props of an asynchronous endpoint: instances, queue behaviour, scaling and alarms."""

    instance_type: InstanceType = Field(description="e.g. ml.m5.large")
    initial_instance_count: int = Field(
        default=1, ge=1, le=1000, description="Instances at creation (SageMaker needs at least one)."
    )
    variant_name: str = Field(
        default="AllTraffic", pattern=SAGEMAKER_NAME.pattern, description="Production variant name."
    )
    max_concurrent_invocations_per_instance: int = Field(
        default=1,
        ge=1,
        le=1000,
        description="Requests one instance works on at once. Async requests are the large, slow ones, so one "
        "at a time by default; raise it for small, fast models.",
    )
    invocation_timeout_seconds: int = Field(
        default=900,
        ge=1,
        le=MAX_INVOCATION_TIMEOUT_SECONDS,
        description="How long one request may run before it fails (InvokeEndpointAsync's "
        "InvocationTimeoutSeconds; SageMaker's default is 900).",
    )
    include_inference_response_in: tuple[NotificationTopic, ...] = Field(
        default=(),
        description="Topics whose messages carry the inference response itself (otherwise only its location).",
    )
    autoscaling: AsyncAutoscaling = Field(
        default=AsyncAutoscaling(),
        description="Backlog-driven scaling: an async endpoint always autoscales, to zero when idle by default.",
    )
    deployment: DeploymentPolicy = Field(
        default=DeploymentPolicy(),
        description="How an update moves to the new model version and when it rolls back (deployment guardrails).",
    )
    alarms: AsyncAlarms = Field(
        default=AsyncAlarms(), description="Alarm thresholds: oldest request age, backlog size, failed requests."
    )
    error_queue: ErrorQueueSettings | None = Field(
        default=None, description="Keep failure notices in an SQS queue (with its own dead-letter queue)."
    )
    data_capture: DataCaptureSettings | None = Field(
        default=None, description="Capture requests and/or responses to the platform's data-capture bucket."
    )
    container_startup_health_check_timeout_seconds: HealthCheckTimeoutSeconds
    model_data_download_timeout_seconds: DownloadTimeoutSeconds
    volume_size_in_gb: VolumeSizeInGb
    routing_strategy: RoutingStrategy

    @model_validator(mode="after")
    def _consistent(self) -> AsyncSettings:
        if len(set(self.include_inference_response_in)) != len(self.include_inference_response_in):
            raise ValueError(f"include_inference_response_in lists a topic twice: {self.include_inference_response_in}")
        # An async endpoint always autoscales (that is how it scales to zero).
        check_autoscalable(self.instance_type)
        check_policy_fits(self.deployment, [self.instance_type], variants=1)
        if self.initial_instance_count > self.autoscaling.max_capacity:
            raise ValueError(
                f"initial_instance_count ({self.initial_instance_count}) is above autoscaling.max_capacity "
                f"({self.autoscaling.max_capacity})"
            )
        return self


class AsyncEndpoint(InstanceBackedEndpoint):
    """An asynchronous SageMaker endpoint for one model.

    Callers put a request under ``input_path`` and call ``InvokeEndpointAsync``; SageMaker
    queues it, writes the result under ``output_path`` (or the error under ``failure_path``),
    encrypted with the platform key, and notifies ``success_topic`` or ``error_topic``.

    The model's execution role gets exactly what that needs: read the input prefix, write the
    output and failure prefixes, use the key for those objects and publish to these two topics.

    Scaling tracks the backlog per instance and, when ``min_capacity`` is 0, a step policy
    driven by the ``HasBacklogWithoutCapacity`` alarm brings the endpoint from 0 to 1 instance:
    target tracking alone never wakes an endpoint that has no instance to report a backlog.

    :param model: The model to serve.
    :param encryption_key: The platform key: encrypts the instances' volumes, the results, the
        topics and the error queues. With the error queue on, the key's policy must let
        ``sns.amazonaws.com`` use it for this account's topics (``PlatformKey``'s does); the
        construct never edits the key's policy.
    :param async_bucket: The platform's bucket for async requests and results.
    :param path_prefix: Key prefix of this endpoint's objects, e.g. ``prod/iris``; requests go
        to ``<prefix>/input/``, results to ``<prefix>/output/``, errors to ``<prefix>/failure/``.
    :param endpoint_name: Stable endpoint name, e.g. ``prod-iris-async``.
    :param alarm_topic: Where the backlog alarms are sent (the platform's alarm topic).
    :param settings: Instances, queue behaviour, scaling, alarms, the optional error queue and
        the optional data capture.
    :param data_capture_bucket: Where captured data goes; required when ``settings.data_capture`` is set.
    :param data_capture_prefix: Key prefix for this endpoint's captured data, e.g. ``prod/iris/async/``.
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
        async_bucket: s3.IBucket,
        path_prefix: str,
        endpoint_name: str,
        alarm_topic: sns.ITopic,
        settings: AsyncSettings | Mapping[str, Any],
        data_capture_bucket: s3.IBucket | None = None,
        data_capture_prefix: str | None = None,
        logs: EndpointLogSettings | Mapping[str, Any] | None = None,
    ) -> None:
        checked, checked_logs = _checked_props(
            scope,
            id,
            model=model,
            settings=settings,
            logs=logs,
            endpoint_name=endpoint_name,
            path_prefix=path_prefix,
            data_capture_bucket=data_capture_bucket,
            data_capture_prefix=data_capture_prefix,
        )
        super().__init__(
            scope,
            id,
            endpoint_name=endpoint_name,
            variant_name=checked.variant_name,
            capacity_bounds=(checked.autoscaling.min_capacity, checked.autoscaling.max_capacity),
        )
        self.settings = checked
        self.data_capture_bucket = data_capture_bucket if checked.data_capture else None
        self.data_capture_prefix = data_capture_prefix if checked.data_capture else None
        self.model = model
        self.encryption_key = encryption_key
        self.bucket = async_bucket
        # Read once: each is used several times below (a jsii round trip per read).
        self._bucket_name, self._bucket_arn = async_bucket.bucket_name, async_bucket.bucket_arn
        self._key_arn = encryption_key.key_arn
        self.invocation_timeout_seconds = checked.invocation_timeout_seconds
        self._name_paths(path_prefix)

        self.success_topic = self._topic("SuccessTopic", f"{endpoint_name} results")
        self.error_topic = self._topic("ErrorTopic", f"{endpoint_name} failures")
        self._topic_arns = (self.success_topic.topic_arn, self.error_topic.topic_arn)
        self._grant_execution_role()

        config = self._endpoint_config(checked)
        # The model's role must be able to write results before SageMaker accepts the config.
        config.node.add_dependency(self._execution_policy)
        # Before the endpoint: its deployment config rolls back on these alarms.
        self._create_alarms(
            self._alarm_specs(checked.alarms),
            evaluation=checked.alarms.evaluation,
            topic=alarm_topic,
        )
        self._create_endpoint(
            config,
            retain_variant_properties=True,
            encryption_key=encryption_key,
            logs_settings=checked_logs,
            deployment_config=self._deployment_config(checked.deployment, list(ROLLBACK_ALARMS), model.role),
        )
        self.scalable_target = self._autoscale(checked.autoscaling)
        self._retain_scaling_resources(self.scalable_target)
        self.error_queue: sqs.Queue | None = None
        self.error_dead_letter_queue: sqs.Queue | None = None
        if checked.error_queue:
            queues = ErrorQueue(
                self, error_topic=self.error_topic, encryption_key=encryption_key, settings=checked.error_queue
            )
            self.error_queue, self.error_dead_letter_queue = queues.queue, queues.dead_letter_queue
        self._acknowledge_findings()

    def _name_paths(self, path_prefix: str) -> None:
        self.path_prefix = path_prefix
        self.input_prefix = f"{path_prefix}/{INPUT_FOLDER}"
        self.output_prefix = f"{path_prefix}/{OUTPUT_FOLDER}"
        self.failure_prefix = f"{path_prefix}/{FAILURE_FOLDER}"
        self.input_path = self._s3_uri(self.input_prefix)
        self.output_path = self._s3_uri(self.output_prefix)
        self.failure_path = self._s3_uri(self.failure_prefix)

    def _topic(self, id: str, display_name: str) -> sns.ITopic:
        return EncryptedTopic(self, id, encryption_key=self.encryption_key, display_name=display_name).topic

    def _s3_uri(self, prefix: str) -> str:
        return f"s3://{self._bucket_name}/{prefix}"

    def _object_arns(self, *prefixes: str) -> list[str]:
        # What Bucket.arnForObjects returns (``<bucket ARN>/<key pattern>``), without a call each.
        return [f"{self._bucket_arn}/{prefix}*" for prefix in prefixes]

    def _endpoint_config(self, settings: AsyncSettings) -> sagemaker.CfnEndpointConfig:
        """One instance variant, plus where results, failures and notifications go."""
        return sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            kms_key_id=self._volume_key_arn(self.encryption_key, [settings.instance_type]),
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=settings.variant_name,
                    model_name=self.model.model_name,
                    instance_type=settings.instance_type,
                    initial_instance_count=settings.initial_instance_count,
                    initial_variant_weight=1.0,
                    **variant_properties(settings),
                )
            ],
            async_inference_config=sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
                client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                    max_concurrent_invocations_per_instance=settings.max_concurrent_invocations_per_instance
                ),
                output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                    # SageMaker appends "/<inference id>.out" (or "-error.out") to these paths.
                    s3_output_path=self.output_path.rstrip("/"),
                    s3_failure_path=self.failure_path.rstrip("/"),
                    kms_key_id=self._key_arn,
                    notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                        success_topic=self._topic_arns[0],
                        error_topic=self._topic_arns[1],
                        include_inference_response_in=list(settings.include_inference_response_in) or None,
                    ),
                ),
            ),
            data_capture_config=data_capture_config(
                settings.data_capture,
                bucket=self.data_capture_bucket,
                prefix=self.data_capture_prefix,
                encryption_key=self.encryption_key,
            )
            if settings.data_capture and self.data_capture_bucket and self.data_capture_prefix
            else None,
        )

    # Permissions ---------------------------------------------------------------------------

    def _grant_execution_role(self) -> None:
        role = self.model.role
        # One policy of our own on the model's role, so the endpoint config can wait for it.
        # Its own statements go in as one document (one jsii call, policy_json).
        self._execution_policy = iam.Policy(
            self,
            "ExecutionPolicy",
            roles=[role],
            document=document(
                [
                    statement("ReadOwnRequests", ["s3:GetObject"], self._object_arns(self.input_prefix)),
                    statement(
                        "WriteOwnResultsAndFailures",
                        ["s3:PutObject", "s3:AbortMultipartUpload"],
                        self._object_arns(self.output_prefix, self.failure_prefix),
                    ),
                    statement(
                        "EncryptResultsAndNotifications", ["kms:GenerateDataKey", "kms:Decrypt"], [self._key_arn]
                    ),
                    # Written out instead of topic.grant_publish(), which adds kms:GenerateDataKey*.
                    statement("PublishOwnNotifications", ["sns:Publish"], list(self._topic_arns)),
                ]
            ),
            # Added after the document's statements, as they were listed after them before.
            statements=data_capture_statements(
                bucket=self.data_capture_bucket,
                prefix=self.data_capture_prefix,
                encryption_key=self.encryption_key,
            )
            if self.data_capture_bucket and self.data_capture_prefix
            else None,
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` submit requests: write objects under ``input_path`` (encrypting
        them with the platform key) and call ``InvokeEndpointAsync`` on this endpoint only."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:InvokeEndpointAsync"], resource_arns=[self.endpoint_arn]
        )
        grant = grant.combine(
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resource_arns=self._object_arns(self.input_prefix),
            )
        )
        # Decrypt too: S3 needs it to complete a multipart (large) upload under SSE-KMS.
        return grant.combine(self.encryption_key.grant(grantee, "kms:GenerateDataKey", "kms:Decrypt"))

    def grant_read_results(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read results and failures of this endpoint (and decrypt them)."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=self._object_arns(self.output_prefix, self.failure_prefix),
        )
        return grant.combine(self.encryption_key.grant_decrypt(grantee))

    # Scaling -------------------------------------------------------------------------------

    def _autoscale(self, scaling: AsyncAutoscaling) -> autoscaling.ScalableTarget:
        target = self._scalable_target(
            INSTANCE_COUNT_DIMENSION,
            scaling.min_capacity,
            scaling.max_capacity,
            instance_type=self.settings.instance_type,
        )
        scale_out_cooldown = durations.seconds(scaling.scale_out_cooldown_seconds)
        self.backlog_tracking = target.scale_to_track_metric(
            "BacklogPerInstance",
            target_value=scaling.target_backlog_per_instance,
            custom_metric=self.metric_approximate_backlog_size_per_instance(),
            scale_in_cooldown=durations.seconds(scaling.scale_in_cooldown_seconds),
            scale_out_cooldown=scale_out_cooldown,
        )
        self.wake_from_zero: autoscaling.StepScalingAction | None = None
        self.wake_alarm: cloudwatch.Alarm | None = None
        if scaling.min_capacity == 0:
            wake = WakeFromZero(
                self,
                target=target,
                has_backlog_without_capacity=self.metric_has_backlog_without_capacity(),
                endpoint_name=self.endpoint_name,
                cooldown=scale_out_cooldown,
            )
            self.wake_from_zero, self.wake_alarm = wake.action, wake.alarm
        return target

    # Alarms --------------------------------------------------------------------------------

    def _alarm_specs(self, alarms: AsyncAlarms) -> list[AlarmSpec]:
        # An idle endpoint scaled to zero publishes no figures at all; an empty queue and no
        # processing are healthy, so missing data must not raise (or hold) any of these alarms.
        not_breaching = cloudwatch.TreatMissingData.NOT_BREACHING
        return [
            AlarmSpec(
                "OldestRequestAge",
                self.endpoint_metric_spec("ApproximateAgeOfOldestRequest", statistic="Maximum"),
                alarms.oldest_request_age_seconds,
                f"the oldest queued request is older than {alarms.oldest_request_age_seconds} s",
                not_breaching,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
            AlarmSpec(
                "BacklogSize",
                self.endpoint_metric_spec("ApproximateBacklogSize", statistic="Maximum"),
                alarms.backlog_size,
                f"more than {alarms.backlog_size} requests are queued",
                not_breaching,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
            AlarmSpec(
                "InvocationFailures",
                self.metric_spec("InvocationFailures", statistic="Sum"),
                alarms.invocation_failures,
                f"at least {alarms.invocation_failures} request(s) failed within a minute; the failures are under "
                f"{self.failure_prefix} and on the error topic",
                not_breaching,
                # Fires on the first failing minute; clears after evaluation_periods without failures.
                evaluation=AlarmEvaluation(evaluation_periods=alarms.evaluation_periods, datapoints_to_alarm=1),
            ),
            # Busy GPUs keep their state while an instance is replaced or the endpoint sits at zero.
            *gpu_alarm_specs(self, self.settings.instance_type, alarms, cloudwatch.TreatMissingData.MISSING),
        ]

    # Metrics -------------------------------------------------------------------------------

    def metric_endpoint(self, metric_name: str, *, statistic: str = "Average", **props: Any) -> cloudwatch.Metric:
        """A metric SageMaker publishes per async endpoint (dimension ``EndpointName`` only)."""
        return cloudwatch.Metric(
            namespace=SAGEMAKER_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"EndpointName": self.endpoint_name},
            statistic=statistic,
            period=props.pop("period", None) or durations.minutes(1),
            **props,
        )

    def endpoint_metric_spec(self, metric_name: str, *, statistic: str = "Average") -> MetricSpec:
        """:meth:`metric_endpoint` described in Python, per minute (what the alarms are built from)."""
        return MetricSpec(SAGEMAKER_NAMESPACE, metric_name, (("EndpointName", self.endpoint_name),), statistic)

    def metric_approximate_backlog_size(self, **props: Any) -> cloudwatch.Metric:
        """Requests queued or being processed."""
        return self.metric_endpoint("ApproximateBacklogSize", **props)

    def metric_approximate_backlog_size_per_instance(self, **props: Any) -> cloudwatch.Metric:
        """Queued requests divided by running instances (the scaling target)."""
        return self.metric_endpoint("ApproximateBacklogSizePerInstance", **props)

    def metric_approximate_age_of_oldest_request(self, **props: Any) -> cloudwatch.Metric:
        """Seconds the oldest queued request has waited."""
        props.setdefault("statistic", "Maximum")
        return self.metric_endpoint("ApproximateAgeOfOldestRequest", **props)

    def metric_has_backlog_without_capacity(self, **props: Any) -> cloudwatch.Metric:
        """1 while requests are queued and no instance runs, else 0."""
        return self.metric_endpoint("HasBacklogWithoutCapacity", **props)

    def metric_invocations_processed(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("InvocationsProcessed", statistic="Sum", **props)

    def metric_invocation_failures(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("InvocationFailures", statistic="Sum", **props)

    def metric_time_in_backlog(self, statistic: str = "p99", **props: Any) -> cloudwatch.Metric:
        """Milliseconds a request waited in the queue."""
        return self.metric("TimeInBacklog", statistic=statistic, **props)

    def metric_total_processing_time(self, statistic: str = "p99", **props: Any) -> cloudwatch.Metric:
        """Milliseconds from request arrival to result written."""
        return self.metric("TotalProcessingTime", statistic=statistic, **props)

    # Compliance ----------------------------------------------------------------------------

    def _acknowledge_findings(self) -> None:
        """Every cdk-nag exception for this construct, with its reason."""
        acknowledge_inline_policy(
            self._execution_policy,
            "This endpoint's own policy on the model's role, kept apart from the role's default policy so the "
            "endpoint config can wait for it; it names only this endpoint's prefixes, topics and key, and an "
            "inline policy cannot be attached to any other principal.",
        )
        acknowledge_wildcard_resources(
            self._execution_policy,
            self._object_arns(self.input_prefix),
            "Callers choose the name of each request object they upload; SageMaker reads it with this role, "
            f"which may read only under this endpoint's input prefix {self.input_prefix} in the async bucket.",
        )
        acknowledge_wildcard_resources(
            self._execution_policy,
            self._object_arns(self.output_prefix, self.failure_prefix),
            "SageMaker names each result and failure object after the request's inference id at run time; "
            f"writes are confined to this endpoint's prefixes {self.output_prefix} and {self.failure_prefix}.",
        )
        if self.data_capture_bucket is not None and self.data_capture_prefix:
            acknowledge_wildcard_resources(
                self._execution_policy,
                [self.data_capture_bucket.arn_for_objects(f"{self.data_capture_prefix}*")],
                "SageMaker names captured-data objects at run time (date and request ids); writes are confined to "
                f"this endpoint's prefix {self.data_capture_prefix} in the data-capture bucket.",
            )


def _checked_props(
    scope: Construct,
    id: str,
    *,
    model: InferenceModel,
    settings: AsyncSettings | Mapping[str, Any],
    logs: EndpointLogSettings | Mapping[str, Any] | None,
    endpoint_name: str,
    path_prefix: str,
    data_capture_bucket: s3.IBucket | None,
    data_capture_prefix: str | None,
) -> tuple[AsyncSettings, EndpointLogSettings]:
    """The validated settings and log settings; every problem with the props raised together."""
    problems = ProblemCollector()
    checked, checked_logs = check_instance_endpoint_props(
        problems,
        AsyncSettings,
        settings,
        model=model,
        endpoint_name=endpoint_name,
        logs=logs,
        data_capture_bucket=data_capture_bucket,
        data_capture_prefix=data_capture_prefix,
    )
    problems.check(
        bool(KEY_PREFIX.fullmatch(path_prefix)),
        f"path_prefix: {path_prefix!r} must be lowercase path segments of letters, digits and hyphens "
        "separated by single slashes, without a leading or trailing slash, e.g. prod/iris",
    )
    # The construct's path names it in the error; reading it is a jsii round trip, so only on error.
    if problems.problems:
        problems.raise_if_any(f"{scope.node.path}/{id}")
    assert isinstance(checked, AsyncSettings) and isinstance(checked_logs, EndpointLogSettings)
    return checked, checked_logs
