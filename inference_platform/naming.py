"""CloudFormation stack names, shared by the stacks that create them and the clients that find them."""

from __future__ import annotations


def stage_name(environment: str) -> str:
    """``prod`` -> ``Prod`` (so ``cdk deploy "Prod/*"``)."""
    return environment.capitalize()


def model_stack_id(model: str) -> str:
    """``iris`` -> ``ModelIris``; ``fraud-v2`` -> ``ModelFraudV2``."""
    return "Model" + "".join(part.capitalize() for part in model.split("-"))


PLATFORM_STACK_ID = "Platform"
MONITORING_STACK_ID = "Monitoring"


def platform_stack_name(environment: str) -> str:
    return f"{stage_name(environment)}-{PLATFORM_STACK_ID}"


def model_stack_name(environment: str, model: str) -> str:
    return f"{stage_name(environment)}-{model_stack_id(model)}"


def monitoring_stack_id(page: int = 1) -> str:
    """``Monitoring`` for the first dashboard page, ``Monitoring2``, ``Monitoring3``... after it."""
    return MONITORING_STACK_ID if page == 1 else f"{MONITORING_STACK_ID}{page}"


def monitoring_stack_name(environment: str, page: int = 1) -> str:
    return f"{stage_name(environment)}-{monitoring_stack_id(page)}"


def dashboard_name(environment: str, region: str, page: int = 1) -> str:
    """``prod``, ``eu-west-1`` -> ``prod-sagemaker-inference-eu-west-1`` (``...-eu-west-1-2`` for
    page 2). Dashboard names are unique per account across regions, so the region is part of it."""
    name = f"{environment}-sagemaker-inference-{region}"
    return name if page == 1 else f"{name}-{page}"
