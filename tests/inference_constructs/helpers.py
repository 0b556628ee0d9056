"""Small builders for construct tests."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_kms as kms

from inference_constructs.inference_model import InferenceModel
from tests.conftest import new_app


def new_stack(region: str | None = None) -> cdk.Stack:
    app = new_app()
    return cdk.Stack(app, "Test", env=cdk.Environment(region=region) if region else None)


def new_key(stack: cdk.Stack) -> kms.Key:
    return kms.Key(stack, "Key", enable_key_rotation=True)


def new_model(
    stack: cdk.Stack, key: kms.IKey, artifact: Path, id: str = "Model", **overrides: object
) -> InferenceModel:
    props: dict[str, object] = {
        "name": "iris",
        "name_prefix": "test-iris",
        "image": {"framework": "sklearn", "version": "1.4-2"},
        "model_data": str(artifact),
        "encryption_key": key,
    }
    props.update(overrides)
    return InferenceModel(stack, id, **props)  # type: ignore[arg-type]
