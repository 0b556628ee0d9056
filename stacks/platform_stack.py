"""The stateful half of an environment: key, buckets and topics, shared by every model."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from inference_config.schema import EnvironmentConfig
from inference_constructs.encrypted_topic import EncryptedTopic
from inference_constructs.platform_key import PlatformKey
from inference_constructs.secure_bucket import AccessLogsBucket, SecureBucket
from inference_constructs.vpc_endpoints import VpcEndpoints
from inference_core import outputs
from inference_core.naming import platform_key_alias


@dataclass(frozen=True)
class PlatformResources:
    """What stateless model stacks receive from the platform stack."""

    encryption_key: kms.IKey
    model_artifacts_bucket: s3.IBucket
    async_bucket: s3.IBucket
    batch_bucket: s3.IBucket
    data_capture_bucket: s3.IBucket
    notifications_topic: sns.ITopic
    alarms_topic: sns.ITopic

    def shared_values(self) -> list[str]:
        """Every value of these resources a model stack may use: each bucket's name and ARN,
        each topic's ARN and the key's ARN.

        CDK turns each one a model stack uses into an export of the platform stack and an
        ``Fn::ImportValue`` in the model stack. The platform exports them all, always (see
        :class:`PlatformStack`), so the exports never depend on which models or modes exist.
        """
        return list(self.named_values().values())

    def named_values(self) -> dict[str, str]:
        """The values of :meth:`shared_values`, in its order, by attribute and property name
        (e.g. ``async_bucket.bucket_name``): each read from jsii once."""
        values = {"encryption_key.key_arn": self.encryption_key.key_arn}
        for name in ("model_artifacts_bucket", "async_bucket", "batch_bucket", "data_capture_bucket"):
            bucket: s3.IBucket = getattr(self, name)
            values[f"{name}.bucket_name"] = bucket.bucket_name
            values[f"{name}.bucket_arn"] = bucket.bucket_arn
        values["notifications_topic.topic_arn"] = self.notifications_topic.topic_arn
        values["alarms_topic.topic_arn"] = self.alarms_topic.topic_arn
        return values


class PlatformStack(cdk.Stack):
    """Keys, buckets and topics for one environment. Retained on delete unless the
    environment opts out with ``retain_stateful_resources: false``."""

    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig, **kwargs: object) -> None:
        super().__init__(
            scope,
            id,
            description=f"SageMaker inference platform ({config.environment}): KMS key, buckets, topics",
            **kwargs,
        )  # type: ignore[arg-type]
        removal = cdk.RemovalPolicy.RETAIN if config.retain_stateful_resources else cdk.RemovalPolicy.DESTROY
        key = PlatformKey(self, "PlatformKey", alias=platform_key_alias(config.environment), removal_policy=removal).key
        access_logs = AccessLogsBucket(
            self, "AccessLogs", removal_policy=removal, retention_days=config.access_log_retention_days
        ).bucket

        def bucket(id: str, *, event_bridge_enabled: bool = False) -> s3.IBucket:
            return SecureBucket(
                self,
                id,
                encryption_key=key,
                access_logs_bucket=access_logs,
                removal_policy=removal,
                event_bridge_enabled=event_bridge_enabled,
            ).bucket

        notifications = config.notifications
        alarms_topic = EncryptedTopic(
            self,
            "Alarms",
            encryption_key=key,
            display_name=f"{config.environment} inference alarms",
            subscribers=notifications.alarm_subscribers,
        )
        # Every alarm of the environment notifies this topic.
        alarms_topic.allow_cloudwatch_alarms()
        # Batch runs publish their outcome here through their state machine's role.
        notifications_topic = EncryptedTopic(
            self,
            "Notifications",
            encryption_key=key,
            display_name=f"{config.environment} inference notifications",
            subscribers=notifications.notification_subscribers,
        )

        self.resources = PlatformResources(
            encryption_key=key,
            model_artifacts_bucket=bucket("ModelArtifacts"),
            async_bucket=bucket("AsyncInference"),
            # Batch transform runs can start when an object lands under a model's input path.
            batch_bucket=bucket("BatchTransform", event_bridge_enabled=True),
            data_capture_bucket=bucket("DataCapture"),
            notifications_topic=notifications_topic.topic,
            alarms_topic=alarms_topic.topic,
        )
        # CloudFormation refuses to delete or change an export that another stack imports
        # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html).
        # Exported only while some model uses them, a value would vanish from this stack's update
        # when its last user goes away, while the old model stack still imports it: the update
        # fails. Exporting every shared value always, under the name CDK gives the automatic
        # reference, keeps the exports independent of the models and modes configured.
        # Each value read once (a jsii round trip per read), for its export and its output.
        values = self.resources.named_values()
        for value in values.values():
            self.export_value(value)
        for name, value_name in (
            (outputs.MODEL_ARTIFACTS_BUCKET_NAME, "model_artifacts_bucket.bucket_name"),
            (outputs.ASYNC_BUCKET_NAME, "async_bucket.bucket_name"),
            (outputs.BATCH_BUCKET_NAME, "batch_bucket.bucket_name"),
            (outputs.DATA_CAPTURE_BUCKET_NAME, "data_capture_bucket.bucket_name"),
            (outputs.NOTIFICATIONS_TOPIC_ARN, "notifications_topic.topic_arn"),
            (outputs.ALARMS_TOPIC_ARN, "alarms_topic.topic_arn"),
            (outputs.KEY_ARN, "encryption_key.key_arn"),
        ):
            cdk.CfnOutput(self, name, value=values[value_name])
        self.vpc_endpoints = None
        if config.network is not None and config.network.create_vpc_endpoints:
            # Shared by every model of the environment, so they live here, not in a model stack.
            self.vpc_endpoints = VpcEndpoints(
                self,
                "VpcEndpoints",
                network=config.network,
                notifications=any(model.async_ is not None for model in config.models),
            )
            # Callers inside the VPC that invoke endpoints need a rule in this group (or one of the
            # model security groups it already admits).
            cdk.CfnOutput(
                self, outputs.VPC_ENDPOINT_SECURITY_GROUP_ID, value=self.vpc_endpoints.security_group.security_group_id
            )
