"""Physical and logical names the stacks create and the clients look up.

Only endpoints get a fixed physical name among the SageMaker resources: callers invoke them by
name, and CloudFormation updates an endpoint in place. Models and endpoint configs are replaced
on every change, so their names are left to CloudFormation.
"""

from __future__ import annotations

import re

# SageMaker's pattern for endpoint and production variant names (CreateEndpoint's EndpointName,
# ProductionVariant's VariantName in botocore's sagemaker model): 1-63 characters.
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MAX_ENDPOINT_NAME_LENGTH = 63

PLATFORM_STACK_ID = "Platform"
MONITORING_STACK_ID = "Monitoring"
# Every stack carries the environment tag; model stacks also carry the model tag, by which
# clients find the deployed models and IAM conditions select an environment's resources.
ENVIRONMENT_TAG = "environment"
MODEL_TAG = "model"
# Where the pipeline's synth step writes the model package versions it resolved, by group
# (scripts.resolve_model_packages), at the repository root: the config loader, the synth and the
# tests read it (here, so the test controller can hash it without loading the config layer's CDK).
RESOLVED_MODEL_PACKAGES_FILE = "model-packages.json"


def stage_name(environment: str) -> str:
    """``prod`` -> ``Prod`` (so ``cdk deploy "Prod/*"``)."""
    return environment.capitalize()


def model_stack_id(model: str) -> str:
    """``iris`` -> ``ModelIris``; ``fraud-v2`` -> ``ModelFraudV2``."""
    return "Model" + "".join(part.capitalize() for part in model.split("-"))


def platform_stack_name(environment: str) -> str:
    return f"{stage_name(environment)}-{PLATFORM_STACK_ID}"


def model_stack_name(environment: str, model: str) -> str:
    return f"{stage_name(environment)}-{model_stack_id(model)}"


def model_stack_name_prefix(environment: str) -> str:
    """What every model stack name of ``environment`` starts with (``Prod-Model``)."""
    return f"{stage_name(environment)}-{model_stack_id('')}"


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


def endpoint_name(environment: str, model: str, mode: str) -> str:
    """The endpoint name for one model served in one mode, e.g. ``prod-iris-realtime``."""
    return f"{environment}-{model}-{mode}"


# The environment's shared endpoint for inference components, and its stack.
SHARED_ENDPOINT_STACK_ID = "SharedEndpoint"
SHARED_ENDPOINT_SUFFIX = "inference-components"


def shared_endpoint_name(environment: str) -> str:
    """The environment's shared endpoint (``prod-inference-components``). Fixed and derived
    here, so each model stack adds its component to it by name: no export, no import, and so no
    export that a model stack's change could strand (only a stack dependency orders them)."""
    return f"{environment}-{SHARED_ENDPOINT_SUFFIX}"


def shared_endpoint_stack_name(environment: str) -> str:
    return f"{stage_name(environment)}-{SHARED_ENDPOINT_STACK_ID}"


def check_endpoint_name(name: str) -> str:
    if not SAGEMAKER_NAME.fullmatch(name):
        raise ValueError(
            f"endpoint name {name!r} must be 1-{MAX_ENDPOINT_NAME_LENGTH} letters, digits and "
            "hyphens, starting and ending with a letter or digit"
        )
    return name


def platform_key_alias(environment: str) -> str:
    """The platform key's alias name without ``alias/`` (``prod/sagemaker-inference``)."""
    return f"{environment}/sagemaker-inference"


def platform_key_alias_arn_name(environment: str) -> str:
    """The alias as IAM's ``kms:ResourceAliases`` condition key spells it (``alias/prod/...``)."""
    return f"alias/{platform_key_alias(environment)}"
