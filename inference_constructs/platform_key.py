"""``PlatformKey``: the customer-managed KMS key that encrypts an environment's data."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from inference_constructs.stack_values import StackValues, stack_values

# CloudWatch alarms publish to KMS-encrypted SNS topics with the key of the topic, as
# cloudwatch.amazonaws.com: the key policy must let that principal use the key. This is AWS's
# published statement, without conditions: a condition key the publishing service does not
# send (aws:SourceAccount on KMS requests, for one) makes every publish fail silently.
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
ALARM_PUBLISHER = "cloudwatch.amazonaws.com"
ALARM_PUBLISHER_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def _cloudwatch_logs_statement(values: StackValues) -> dict[str, Any]:
    """CloudWatch Logs may encrypt this account's log groups with the key (it does so on the log
    group owner's behalf, outside any IAM role's permissions). IAM's JSON form."""
    return {
        "Sid": "AllowCloudWatchLogs",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{values.region}.amazonaws.com"},
        "Action": ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": values.arn("logs", "log-group", "*", sep=":")}},
    }


def allow_cloudwatch_logs(key: kms.Key) -> None:
    """Let CloudWatch Logs encrypt this account's log groups with ``key`` (it does so on the
    log group owner's behalf, outside any IAM role's permissions)."""
    key.add_to_resource_policy(iam.PolicyStatement.from_json(_cloudwatch_logs_statement(stack_values(key))))


class PlatformKey(Construct):
    """A rotating customer-managed key, usable by the account's principals (through IAM)
    and by the AWS services that write encrypted logs and publish alarm notifications.

    :param alias: Alias name without the ``alias/`` prefix, e.g. ``prod/sagemaker-inference``.
    :param removal_policy: ``RETAIN`` outside throwaway environments.
    """

    def __init__(self, scope: Construct, id: str, *, alias: str, removal_policy: cdk.RemovalPolicy) -> None:
        super().__init__(scope, id)
        values = stack_values(scope, self)
        # The whole key policy in one jsii call (PolicyDocument.fromJson) instead of five per
        # statement (principal, statement, add_to_resource_policy and its result's two fields).
        # Given a policy, Key leaves out the default statement that lets the account's IAM
        # principals use the key (@aws-cdk/aws-kms:defaultKeyPolicies), so it comes first here,
        # as Key adds it (kms:* to the account root, aws-kms Key.addDefaultAdminPolicy).
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{alias}",
            description=f"Encrypts SageMaker inference data for {alias}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            policy=iam.PolicyDocument.from_json(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:{values.partition}:iam::{values.account}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        },
                        _cloudwatch_logs_statement(values),
                        # Log delivery of state machines encrypted with this key (batch transform).
                        # The same statement CDK's StateMachine adds from the model stacks, stated
                        # here so the platform template does not depend on which models run batch
                        # (identical statements merge).
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "delivery.logs.amazonaws.com"},
                            "Action": "kms:Decrypt*",
                            "Resource": "*",
                        },
                        {
                            "Sid": "AllowCloudWatchAlarmsToPublishToEncryptedTopics",
                            "Effect": "Allow",
                            "Principal": {"Service": ALARM_PUBLISHER},
                            "Action": list(ALARM_PUBLISHER_KEY_ACTIONS),
                            "Resource": "*",
                        },
                        # SNS encrypts what it delivers to a KMS-encrypted SQS queue (e.g. an async
                        # endpoint's error queue) with the queue's key; only this account's topics
                        # may have it do so.
                        {
                            "Sid": "AllowSnsToDeliverToEncryptedQueues",
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": values.account},
                                "ArnLike": {"aws:SourceArn": values.arn("sns", "*")},
                            },
                        },
                    ],
                }
            ),
        )
