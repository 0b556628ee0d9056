"""Multi-model endpoints: one container serving many models from an S3 prefix, chosen per request
with ``TargetModel`` (https://docs.aws.amazon.com/sagemaker/latest/dg/multi-model-endpoints.html).

What AWS allows, from "Supported algorithms, frameworks, and instances for multi-model endpoints"
(https://docs.aws.amazon.com/sagemaker/latest/dg/multi-model-support.html): on CPU instances the
containers of listed algorithms and frameworks (scikit-learn and XGBoost among them) and any
container built with the SageMaker inference toolkit; on GPU instances only the SageMaker Triton
Inference Server, and only on the single-GPU instance types the page lists. Serverless endpoints
do not host them (the feature exclusions of
https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html list multi-model
endpoints), so the config offers them on real-time endpoints only.

The model data is a prefix: ``Mode: MultiModel`` with ``ModelDataUrl`` an S3 prefix under which
each ``.tar.gz`` is one model, loaded on its first request
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html).

This module never imports CDK: the config validates with it too.
"""

from __future__ import annotations

import re

from inference_constructs.instance_types import Hardware, hardware_of

# The shape of an S3 key prefix that "always ends with a forward slash", as an uncompressed
# model's (https://docs.aws.amazon.com/sagemaker/latest/dg/large-model-inference-uncompressed.html);
# inference_model reads both kinds of prefix with it.
S3_MODEL_PREFIX = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>([^\s/]+/)+)$")
# The framework images on AWS's list of containers that support multi-model endpoints (CPU).
MULTI_MODEL_FRAMEWORKS = frozenset({"sklearn", "xgboost"})
# The SageMaker Triton Inference Server images live in repositories named so
# (https://docs.aws.amazon.com/sagemaker/latest/dg/triton.html).
TRITON_REPOSITORY = re.compile(r"/sagemaker-tritonserver[:@]")
# The GPU instance types that host multi-model endpoints: the whole table of "Multi-model
# endpoints support the following GPU instance types" (multi-model-support.html above). Every
# one has a single GPU; multi-GPU types (ml.g5.12xlarge, ml.p4d.24xlarge, ...) are not on it.
MULTI_MODEL_GPU_INSTANCE_TYPES = frozenset(
    {
        "ml.p2.xlarge",
        "ml.p3.2xlarge",
        *(f"ml.g5.{size}" for size in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")),
        *(f"ml.g4dn.{size}" for size in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")),
    }
)
# What the framework images read to serve several models (their serving.is_multi_model:
# aws/sagemaker-scikit-learn-container, src/sagemaker_sklearn_container/serving.py).
MULTI_MODEL_ENVIRONMENT = {"SAGEMAKER_MULTI_MODEL": "true"}


def check_model_prefix(value: str) -> str:
    """A multi-model endpoint's model data: ``s3://bucket/prefix/`` (ending in ``/``)."""
    if not S3_MODEL_PREFIX.fullmatch(value):
        raise ValueError(
            "a multi-model endpoint's model_data is an S3 prefix ending in '/', e.g. s3://models/tenants/, "
            "under which each .tar.gz is one model"
        )
    return value


def is_model_prefix(value: str) -> bool:
    """Whether checked model data names an S3 prefix (a multi-model endpoint's, or an uncompressed model's)."""
    return S3_MODEL_PREFIX.fullmatch(value) is not None


def check_multi_model_image(*, framework: str | None, uri: str | None, instance_type: str) -> None:
    """Raise ValueError unless the image can serve several models on ``instance_type``.

    ``framework``: a prebuilt framework image's name; ``uri``: an ECR image's URI (``None`` for
    both: an image built from a Dockerfile, taken to be built with the inference toolkit).
    """
    if hardware_of(instance_type) is Hardware.GPU:
        problems = []  # both at once: a user fixing one should not meet the other at the next synth
        if instance_type not in MULTI_MODEL_GPU_INSTANCE_TYPES:
            problems.append(
                f"multi-model endpoints on GPU instances run on {', '.join(sorted(MULTI_MODEL_GPU_INSTANCE_TYPES))} "
                f"only, not on {instance_type}"
            )
        if uri is None or not TRITON_REPOSITORY.search(uri):
            problems.append(
                f"multi-model endpoints on GPU instances ({instance_type}) need the SageMaker Triton Inference "
                "Server image (image.uri .../sagemaker-tritonserver:<tag>)"
            )
        if problems:
            raise ValueError(
                "; ".join([*problems, "https://docs.aws.amazon.com/sagemaker/latest/dg/multi-model-support.html"])
            )
        return
    if hardware_of(instance_type) is not Hardware.CPU:
        raise ValueError(
            f"multi-model endpoints run on CPU or GPU instances, not on {instance_type}; "
            "https://docs.aws.amazon.com/sagemaker/latest/dg/multi-model-support.html"
        )
    if framework is not None and framework not in MULTI_MODEL_FRAMEWORKS:
        raise ValueError(
            f"the {framework} framework image is not on AWS's list of containers that serve multi-model "
            f"endpoints ({', '.join(sorted(MULTI_MODEL_FRAMEWORKS))} are); "
            "https://docs.aws.amazon.com/sagemaker/latest/dg/multi-model-support.html"
        )
