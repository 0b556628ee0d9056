"""``PlatformKey``: the customer-managed KMS key that encrypts an environment's data."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# CloudWatch alarms publish to KMS-encrypted SNS topics with the key of the topic, as
# cloudwatch.amazonaws.com: the key policy must let that principal use the key. This is AWS's
# published statement, without conditions: a condition key the publishing service does not
# send (aws:SourceAccount on KMS requests, for one) makes every publish fail silently.
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
ALARM_PUBLISHER = "cloudwatch.amazonaws.com"
ALARM_PUBLISHER_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def allow_cloudwatch_logs(key: kms.Key) -> None:
    """Let CloudWatch Logs encrypt this account's log groups with ``key`` (it does so on the
    log group owner's behalf, outside any IAM role's permissions)."""
    stack = cdk.Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogs",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )


class PlatformKey(Construct):
    """A rotating customer-managed key, usable by the account's principals (through IAM)
    and by the AWS services that write encrypted logs and publish alarm notifications.

    :param alias: Alias name without the ``alias/`` prefix, e.g. ``prod/sagemaker-inference``.
    :param removal_policy: ``RETAIN`` outside throwaway environments.
    """

    def __init__(self, scope: Construct, id: str, *, alias: str, removal_policy: cdk.RemovalPolicy) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{alias}",
            description=f"Encrypts SageMaker inference data for {alias}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        allow_cloudwatch_logs(self.key)
        # Log delivery of state machines encrypted with this key (batch transform). The same
        # statement CDK's StateMachine adds from the model stacks, stated here so the platform
        # template does not depend on which models run batch (identical statements merge).
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("delivery.logs.amazonaws.com")],
                actions=["kms:Decrypt*"],
                resources=["*"],
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublishToEncryptedTopics",
                principals=[iam.ServicePrincipal(ALARM_PUBLISHER)],
                actions=list(ALARM_PUBLISHER_KEY_ACTIONS),
                resources=["*"],
            )
        )
        # SNS encrypts what it delivers to a KMS-encrypted SQS queue (e.g. an async endpoint's
        # error queue) with the queue's key; only this account's topics may have it do so.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSnsToDeliverToEncryptedQueues",
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(service="sns", resource="*")},
                },
            )
        )
