"""Reusable CDK constructs for Amazon SageMaker inference.

Named ``inference_constructs`` (not ``constructs``) because a top-level ``constructs``
package would shadow the ``constructs`` library that aws-cdk-lib imports.
"""

from inference_constructs.batch_transform_job import BatchSettings, BatchTransformJob
from inference_constructs.encrypted_topic import EncryptedTopic
from inference_constructs.errors import InvalidPropsError
from inference_constructs.inference_model import InferenceModel, ModelImage
from inference_constructs.platform_key import PlatformKey
from inference_constructs.realtime_endpoint import (
    InstanceAutoscaling,
    RealtimeEndpoint,
    RealtimeSettings,
    ScheduledCapacity,
)
from inference_constructs.secure_bucket import AccessLogsBucket, SecureBucket

__all__ = [
    "AccessLogsBucket",
    "BatchSettings",
    "BatchTransformJob",
    "EncryptedTopic",
    "InferenceModel",
    "InstanceAutoscaling",
    "InvalidPropsError",
    "ModelImage",
    "PlatformKey",
    "RealtimeEndpoint",
    "RealtimeSettings",
    "ScheduledCapacity",
    "SecureBucket",
]
