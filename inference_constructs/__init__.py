"""Reusable CDK constructs for Amazon SageMaker inference.

Named ``inference_constructs`` (not ``constructs``) because a top-level ``constructs``
package would shadow the ``constructs`` library that aws-cdk-lib imports.
"""

from inference_constructs.async_endpoint import (
    AsyncAlarms,
    AsyncAutoscaling,
    AsyncEndpoint,
    AsyncSettings,
    ErrorQueueSettings,
)
from inference_constructs.batch_transform_job import BatchSettings, BatchTransformJob
from inference_constructs.dashboard import BatchJobMetrics, InferenceDashboard
from inference_constructs.encrypted_topic import EncryptedTopic
from inference_constructs.endpoint import EndpointLogSettings
from inference_constructs.errors import InvalidPropsError
from inference_constructs.inference_model import InferenceModel, ModelImage
from inference_constructs.network import NetworkSettings
from inference_constructs.platform_key import PlatformKey
from inference_constructs.realtime_endpoint import (
    InstanceAutoscaling,
    RealtimeEndpoint,
    RealtimeSettings,
    ScheduledCapacity,
)
from inference_constructs.secure_bucket import AccessLogsBucket, SecureBucket
from inference_constructs.serverless_endpoint import (
    ProvisionedConcurrencyAutoscaling,
    ServerlessAlarms,
    ServerlessEndpoint,
    ServerlessSettings,
    serverless_model,
)
from inference_constructs.vpc_endpoints import VpcEndpoints

__all__ = [
    "AccessLogsBucket",
    "AsyncAlarms",
    "AsyncAutoscaling",
    "AsyncEndpoint",
    "AsyncSettings",
    "BatchJobMetrics",
    "BatchSettings",
    "BatchTransformJob",
    "EncryptedTopic",
    "EndpointLogSettings",
    "ErrorQueueSettings",
    "InferenceDashboard",
    "InferenceModel",
    "InstanceAutoscaling",
    "InvalidPropsError",
    "ModelImage",
    "NetworkSettings",
    "PlatformKey",
    "ProvisionedConcurrencyAutoscaling",
    "RealtimeEndpoint",
    "RealtimeSettings",
    "ScheduledCapacity",
    "SecureBucket",
    "ServerlessAlarms",
    "ServerlessEndpoint",
    "ServerlessSettings",
    "VpcEndpoints",
    "serverless_model",
]
