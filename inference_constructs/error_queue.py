"""An async endpoint's error queue: an SQS queue (with its dead-letter queue) subscribed to the
error topic, so failure notices wait for a reader.

``ErrorQueue`` builds its queues in the scope it is given, under the ids they have always had
there: it is not a ``Construct`` because a construct level of its own would rename (and so
replace) the deployed queues.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from pydantic import Field

from inference_constructs.settings import Settings


class ErrorQueueSettings(Settings):
    """An SQS queue subscribed to the error topic, so failure notices wait for a reader."""

    retention_days: int = Field(default=14, ge=1, le=14, description="How long failure notices are kept (max 14).")
    max_receive_count: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Receives before a notice that a consumer keeps failing on moves to the dead-letter queue.",
    )


class ErrorQueue:
    """The queue ``queue`` receives ``error_topic``'s notices raw; ``dead_letter_queue`` keeps those
    a consumer kept failing on. Both are encrypted with ``encryption_key``, whose policy must let
    ``sns.amazonaws.com`` use it for this account's topics (``PlatformKey``'s does)."""

    def __init__(
        self,
        scope: Construct,
        *,
        error_topic: sns.ITopic,
        encryption_key: kms.IKey,
        settings: ErrorQueueSettings,
    ) -> None:
        # SqsSubscription would add a statement naming the error topic to the queue key's
        # policy. The topic is encrypted with that same key (a dependency cycle), and the
        # platform key belongs to another stack (the stacks would reference each other). So the
        # queues reference the key by ARN, which leaves its policy alone; that policy must let
        # SNS use the key for this account's topics, as PlatformKey's does.
        queue_key = kms.Key.from_key_arn(scope, "QueueKey", encryption_key.key_arn)
        # Kept as long as SQS allows: these are notices a consumer repeatedly failed on.
        self.dead_letter_queue = _encrypted_queue(scope, "ErrorDeadLetterQueue", queue_key, retention_days=14)
        self.queue = _encrypted_queue(
            scope,
            "ErrorQueue",
            queue_key,
            retention_days=settings.retention_days,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=settings.max_receive_count
            ),
        )
        # Raw delivery: each message is SageMaker's own failure notice, not wrapped in an SNS envelope.
        error_topic.add_subscription(subscriptions.SqsSubscription(self.queue, raw_message_delivery=True))


def _encrypted_queue(
    scope: Construct,
    id: str,
    key: kms.IKey,
    *,
    retention_days: int,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    """A queue encrypted with ``key`` that refuses requests without TLS."""
    return sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(retention_days),
        dead_letter_queue=dead_letter_queue,
    )
