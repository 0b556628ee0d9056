"""``EncryptedTopic``: an SNS topic that is KMS-encrypted and refuses plain-HTTP publishing."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class EncryptedTopic(Construct):
    """An SNS topic encrypted with ``encryption_key`` whose policy denies non-TLS requests.

    :param display_name: Shown in e-mail notifications.
    """

    def __init__(self, scope: Construct, id: str, *, encryption_key: kms.IKey, display_name: str) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=display_name,
            master_key=encryption_key,
            enforce_ssl=True,
        )
