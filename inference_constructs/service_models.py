"""AWS's own constraints on the values we send, read from the service models botocore ships.

botocore carries every AWS API's model: the enums, patterns, lengths and ranges the service
enforces when CloudFormation calls it. Validating config against these shapes, instead of
rules typed in by hand, means a value that passes here is one the API accepts (for the
pinned botocore version: a newer instance type needs a newer botocore).

This module never imports CDK: clients and config validation use it too.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
import regex  # botocore's patterns use \p{L}-style classes, which the stdlib re does not know
from botocore.model import Shape


@cache
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def shape(service: str, name: str) -> Shape:
    """The shape ``name`` of ``service``'s model, e.g. ``shape("sagemaker", "TagKey")``."""
    return _service_model(service).shape_for(name)


def enum(service: str, name: str) -> frozenset[str]:
    """The values of an enum shape, e.g. the real-time instance types."""
    values = shape(service, name).enum
    if not values:
        raise KeyError(f"{service} shape {name} has no enum")
    return frozenset(values)


def error_codes(service: str, operation: str) -> tuple[str, ...]:
    """The error codes an operation's model declares, e.g. ``ResourceLimitExceeded``."""
    return tuple(error.name for error in _service_model(service).operation_model(operation).error_shapes)


# Step Functions' optimized SageMaker integration raises "SageMaker." + the Java SDK's exception
# class: the model's error code with "Exception" appended (CreateTransformJob declares
# ResourceInUse, ResourceLimitExceeded and ResourceNotFound), and AmazonSageMakerException for
# every error the model does not declare (throttling, internal errors). AWS's own examples retry
# exactly SageMaker.AmazonSageMakerException and SageMaker.ResourceLimitExceededException:
# https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html
SAGEMAKER_INTEGRATION_GENERIC_ERROR = "SageMaker.AmazonSageMakerException"


def sagemaker_integration_error(error_code: str) -> str:
    """The Step Functions error name of a SageMaker API error code."""
    return f"SageMaker.{error_code if error_code.endswith('Exception') else error_code + 'Exception'}"


def sagemaker_integration_errors(operation: str) -> frozenset[str]:
    """Every error name the integration can raise for ``operation`` (a Retry naming anything else never matches)."""
    declared = error_codes("sagemaker", operation)
    return frozenset({SAGEMAKER_INTEGRATION_GENERIC_ERROR, *(sagemaker_integration_error(code) for code in declared)})


@cache
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def check_string(service: str, name: str, value: str) -> str:
    """``value`` if it fits string shape ``name`` (length and pattern), else ValueError saying
    what the AWS API allows."""
    metadata = shape(service, name).metadata
    low, high = metadata.get("min", 0), metadata.get("max")
    if len(value) < low or (high is not None and len(value) > high):
        bound = f"{low}-{high}" if high is not None else f"at least {low}"
        raise ValueError(f"must be {bound} characters ({service} {name}); got {len(value)}")
    pattern = metadata.get("pattern")
    # The models' patterns are anchored inconsistently; AWS matches the whole value.
    if pattern is not None and not _compiled(pattern).fullmatch(value):
        raise ValueError(f"must match {pattern} ({service} {name})")
    return value


def minimum(service: str, name: str) -> float:
    """The least value a number shape allows (sagemaker NumberOfCpuCores: 0.25)."""
    return float(shape(service, name).metadata["min"])


def max_items(service: str, name: str) -> int:
    """The most entries a list or map shape allows."""
    return int(shape(service, name).metadata["max"])


def max_length(service: str, name: str) -> int:
    """The longest value a string shape allows."""
    return int(shape(service, name).metadata["max"])
