"""AWS's constraints read from botocore's service models."""

from __future__ import annotations

import pytest

from inference_constructs import service_models


def test_string_shapes_check_length_and_pattern():
    assert service_models.check_string("sagemaker", "EnvironmentKey", "MY_VAR") == "MY_VAR"
    with pytest.raises(ValueError, match=r"must match \[a-zA-Z_\]"):
        service_models.check_string("sagemaker", "EnvironmentKey", "1VAR")
    with pytest.raises(ValueError, match="must be 0-1024 characters"):
        service_models.check_string("sagemaker", "EnvironmentValue", "x" * 1025)
    # botocore's \p{L} classes: a tag value may hold any letter, not only ASCII ones.
    assert service_models.check_string("sagemaker", "TagValue", "équipe ml") == "équipe ml"
    with pytest.raises(ValueError, match="TagValue"):
        service_models.check_string("sagemaker", "TagValue", "a;b")


def test_enums_lists_and_errors():
    assert "sagemaker:variant:DesiredInstanceCount" in service_models.enum(
        "application-autoscaling", "ScalableDimension"
    )
    assert service_models.max_items("sagemaker", "TagList") == 50
    assert service_models.max_items("sagemaker", "EnvironmentMap") == 100
    assert "ResourceLimitExceeded" in service_models.error_codes("sagemaker", "CreateTransformJob")
    with pytest.raises(KeyError):
        service_models.enum("sagemaker", "TagKey")
