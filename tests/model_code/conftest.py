"""The packed inference handler and the model it loads, shared by the model-code tests."""

from __future__ import annotations

import importlib.util
import tarfile

import pytest

from model_code.build import HANDLER


@pytest.fixture(scope="session")
def handler():
    """``code/inference.py`` as the serving container imports it."""
    spec = importlib.util.spec_from_file_location("packed_inference", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def model(handler, model_artifact, tmp_path_factory):
    """The model, loaded by the handler's ``model_fn`` from the unpacked artifact."""
    directory = tmp_path_factory.mktemp("model")
    with tarfile.open(model_artifact) as archive:
        archive.extractall(directory, filter="data")
    return handler.model_fn(str(directory))
