"""``EncryptedTopic``: an SNS topic that is KMS-encrypted and refuses plain-HTTP publishing."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from inference_constructs.stack_values import stack_values
from inference_constructs.subscribers import Subscriber


class EncryptedTopic(Construct):
    """An SNS topic encrypted with ``encryption_key`` whose policy denies non-TLS requests.

    A topic policy replaces SNS's default policy, which is what lets the account's services
    publish. Principals of this account still publish through their own IAM permissions, but
    an AWS service publishing on its own behalf (CloudWatch alarms) needs a statement here:
    call :meth:`allow_cloudwatch_alarms` for a topic that alarms notify.

    :param display_name: Shown in e-mail notifications.
    :param subscribers: Who receives what is published (e-mail, HTTPS, SQS or Lambda).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        display_name: str,
        subscribers: Sequence[Subscriber] = (),
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=display_name,
            master_key=encryption_key,
            enforce_ssl=True,
        )
        for index, subscriber in enumerate(subscribers, start=1):
            self._subscribe(f"Subscriber{index}", subscriber)

    def allow_cloudwatch_alarms(self) -> None:
        """Let this account's CloudWatch alarms (in this region) publish to the topic.

        CloudWatch publishes as ``cloudwatch.amazonaws.com`` and sends ``aws:SourceArn`` (the
        alarm) and ``aws:SourceAccount``, which keep other accounts' alarms out (SNS's example
        "Allow CloudWatch alarms to publish to a topic":
        https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
        The topic's key must also let CloudWatch use it (``PlatformKey`` does).
        """
        values = stack_values(self)
        # In IAM's JSON form, one jsii call for the statement and its principal.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement.from_json(
                {
                    "Sid": "AllowThisAccountsCloudWatchAlarmsToPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": self.topic.topic_arn,
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": values.account},
                        "ArnLike": {"aws:SourceArn": values.arn("cloudwatch", "alarm", "*", sep=":")},
                    },
                }
            )
        )

    def _subscribe(self, id: str, subscriber: Subscriber) -> None:
        sns.Subscription(
            self,
            id,
            topic=self.topic,
            protocol=sns.SubscriptionProtocol[subscriber.protocol.upper()],
            endpoint=subscriber.endpoint,
        )
        if subscriber.protocol == "lambda":
            # SNS invokes the function with its own identity: the function's resource policy
            # must allow it, for this topic only.
            lambda_.CfnPermission(
                self,
                f"{id}Invoke",
                action="lambda:InvokeFunction",
                function_name=subscriber.endpoint,
                principal="sns.amazonaws.com",
                source_arn=self.topic.topic_arn,
            )
