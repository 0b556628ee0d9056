"""Names the stacks create and the clients look up."""

from __future__ import annotations

import pytest

from inference_core.naming import (
    check_endpoint_name,
    endpoint_name,
    model_stack_name,
    model_stack_name_prefix,
    platform_key_alias,
    platform_key_alias_arn_name,
)


def test_model_stack_names_start_with_the_prefix_clients_search_for():
    assert model_stack_name("prod", "fraud-v2") == "Prod-ModelFraudV2"
    assert model_stack_name("prod", "fraud-v2").startswith(model_stack_name_prefix("prod"))
    assert model_stack_name_prefix("prod") == "Prod-Model"


def test_platform_key_alias():
    assert platform_key_alias("prod") == "prod/sagemaker-inference"
    assert platform_key_alias_arn_name("prod") == "alias/prod/sagemaker-inference"


def test_endpoint_names_are_checked():
    assert check_endpoint_name(endpoint_name("prod", "iris", "realtime")) == "prod-iris-realtime"
    for bad in ("-iris", "iris-", "a" * 64, "iris_realtime"):
        with pytest.raises(ValueError, match="must be 1-63 letters, digits and hyphens"):
            check_endpoint_name(bad)
