"""Reusable CDK constructs for Amazon SageMaker inference.

Named ``inference_constructs`` (not ``constructs``) because a top-level ``constructs``
package would shadow the ``constructs`` library that aws-cdk-lib imports.

The names below are imported on first use (PEP 562), not with the package: importing one
module of the package (``inference_constructs.errors``, say) runs this file first, and
importing every construct here would load most of aws-cdk-lib's Python bindings for it.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AccessLogsBucket": "inference_constructs.secure_bucket",
    "AsyncAlarms": "inference_constructs.async_endpoint",
    "AsyncAutoscaling": "inference_constructs.async_endpoint",
    "AsyncEndpoint": "inference_constructs.async_endpoint",
    "AsyncSettings": "inference_constructs.async_endpoint",
    "BatchJobMetrics": "inference_constructs.dashboard",
    "BatchSettings": "inference_constructs.batch.settings",
    "BatchTransformJob": "inference_constructs.batch_transform_job",
    "BuildLogGroup": "inference_constructs.pipeline_storage",
    "EncryptedTopic": "inference_constructs.encrypted_topic",
    "EndpointLogSettings": "inference_constructs.endpoint",
    "ErrorQueueSettings": "inference_constructs.error_queue",
    "InferenceDashboard": "inference_constructs.dashboard",
    "InferenceModel": "inference_constructs.inference_model",
    "InstanceAutoscaling": "inference_constructs.realtime_endpoint",
    "InvalidPropsError": "inference_constructs.errors",
    "ModelApprovalTrigger": "inference_constructs.model_approval",
    "ModelImage": "inference_constructs.inference_model",
    "NetworkSettings": "inference_constructs.network",
    "PipelineKey": "inference_constructs.pipeline_storage",
    "PlatformKey": "inference_constructs.platform_key",
    "ProvisionedConcurrencyAutoscaling": "inference_constructs.serverless_endpoint",
    "RealtimeEndpoint": "inference_constructs.realtime_endpoint",
    "RealtimeSettings": "inference_constructs.realtime_endpoint",
    "ScheduledCapacity": "inference_constructs.realtime_endpoint",
    "SecureBucket": "inference_constructs.secure_bucket",
    "ServerlessAlarms": "inference_constructs.serverless_endpoint",
    "ServerlessEndpoint": "inference_constructs.serverless_endpoint",
    "ServerlessSettings": "inference_constructs.serverless_endpoint",
    "VpcEndpoints": "inference_constructs.vpc_endpoints",
    "serverless_model": "inference_constructs.serverless_endpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
