"""``SecureBucket``: the only way this project creates S3 buckets."""

from __future__ import annotations

import functools

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from inference_constructs.compliance import REGULATORY_PACKS, acknowledge_rule, skip_checkov_check


# A Duration and BlockPublicAccess.BLOCK_ALL are immutable values CDK only reads: one object
# per value and process serves every bucket (each was a jsii round trip per bucket).
@functools.cache
def _days(amount: int) -> cdk.Duration:
    return cdk.Duration.days(amount)


@functools.cache
def _block_all() -> s3.BlockPublicAccess:
    return s3.BlockPublicAccess.BLOCK_ALL


class SecureBucket(Construct):
    """A versioned, TLS-only, non-public bucket, encrypted with a customer-managed key and
    logging its access to ``access_logs_bucket``.

    :param encryption_key: Default encryption key (SSE-KMS with an S3 bucket key).
    :param access_logs_bucket: Where server access logs go.
    :param removal_policy: ``RETAIN`` keeps the bucket and its objects when the stack goes.
    :param noncurrent_version_expiration_days: How long old object versions are kept.
    :param event_bridge_enabled: Send this bucket's object events to EventBridge (for rules
        that react to uploads).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        removal_policy: cdk.RemovalPolicy,
        noncurrent_version_expiration_days: int = 90,
        event_bridge_enabled: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,  # fewer KMS calls (and cost) for high object counts
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            block_public_access=_block_all(),
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=f"{id}/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=_days(noncurrent_version_expiration_days),
                    abort_incomplete_multipart_upload_after=_days(7),
                )
            ],
            removal_policy=removal_policy,
        )
        if event_bridge_enabled:
            # The bucket's own NotificationConfiguration, not s3.Bucket(event_bridge_enabled=True):
            # that one deploys a Lambda-backed custom resource to set the same flag.
            cfn_bucket = self.bucket.node.default_child
            assert isinstance(cfn_bucket, s3.CfnBucket)
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True)
            )
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        acknowledge_rule(
            self.bucket,
            "S3BucketReplicationEnabled",
            "Cross-region replication is an account-level disaster-recovery decision; the bucket is "
            "versioned and retained, and a replication rule can be added where the DR policy asks for one.",
            packs=REGULATORY_PACKS,
        )


class AccessLogsBucket(Construct):
    """The bucket that receives server access logs of the other buckets.

    S3 server access logging cannot deliver to SSE-KMS buckets, so this one uses SSE-S3.
    """

    def __init__(self, scope: Construct, id: str, *, removal_policy: cdk.RemovalPolicy, retention_days: int) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            block_public_access=_block_all(),
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=_days(retention_days),
                    noncurrent_version_expiration=_days(7),
                )
            ],
            removal_policy=removal_policy,
        )
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        acknowledge_rule(
            self.bucket,
            "S3DefaultEncryptionKMS",
            "S3 server access logging cannot deliver to a bucket encrypted with SSE-KMS; this log bucket "
            "uses SSE-S3 (AES-256) and holds only access logs, never inference data.",
            packs=REGULATORY_PACKS,
        )
        skip_checkov_check(
            self.bucket.node.default_child,  # type: ignore[arg-type]
            "CKV_AWS_18",
            "This bucket is the access-log destination of the other buckets; logging it to itself would loop.",
        )
        acknowledge_rule(
            self.bucket,
            "S3BucketReplicationEnabled",
            "Access logs are an audit trail kept for a limited time in the account; replicating them is an "
            "account-level decision outside this construct.",
            packs=REGULATORY_PACKS,
        )
