"""The scikit-learn 1.4-2 image's serving module, rebuilt for local runs (Python 3.10 only).

The image starts ``serve`` -> ``sagemaker_sklearn_container.serving:serving_entrypoint``, which
hands the real work to ``sagemaker_containers`` (2.8.6.post2): nginx, the start-up
``pip install`` of the handler's directory, gunicorn with gevent workers, and per request its
``Transformer`` and ``Worker`` (a Flask app). All of that runs here unchanged, from PyPI.

Only the image's own glue module is not on PyPI: ``sagemaker_sklearn_container/serving.py``
(aws/sagemaker-scikit-learn-container, branch v1.4-2, commit 6c5704d, about 60 lines of
logic). This module does what that file does, no more: it picks the handler's
``model_fn``/``input_fn``/``predict_fn``/``output_fn`` or ``transform_fn`` where present,
fills the gaps with the image's defaults, refuses ``transform_fn`` combined with the other
three, and builds one ``Worker`` per gunicorn worker on its first request. The image's
multi-model path (``SAGEMAKER_MULTI_MODEL``, multi-model-server) is left out: our models are
single-model. ``SAGEMAKER_SERVING_MODULE`` points gunicorn at :func:`main` here instead of at
the image's module; nothing else differs.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import numpy as np
from sagemaker_containers.beta.framework import content_types, encoders, env, modules, server, transformer, worker

logger = logging.getLogger(__name__)


class UserError(Exception):
    """The handler module defines functions that cannot be combined (the image's exceptions.UserError)."""


def default_model_fn(model_dir: str) -> Any:
    # The image gives no default loader for scikit-learn: the library's default raises.
    return transformer.default_model_fn(model_dir)


def default_input_fn(input_data: str | bytes, content_type: str) -> np.ndarray:
    array = encoders.decode(input_data, content_type)
    return array.astype(np.float32) if content_type in content_types.UTF8_TYPES else array


def default_predict_fn(input_data: Any, model: Any) -> Any:
    return model.predict(input_data)


def default_output_fn(prediction: Any, accept: str) -> worker.Response:
    return worker.Response(encoders.encode(prediction, accept), accept, mimetype=accept)


def user_module_transformer(user_module: ModuleType) -> transformer.Transformer:
    model_fn = getattr(user_module, "model_fn", default_model_fn)
    input_fn = getattr(user_module, "input_fn", None)
    predict_fn = getattr(user_module, "predict_fn", None)
    output_fn = getattr(user_module, "output_fn", None)
    transform_fn = getattr(user_module, "transform_fn", None)
    if transform_fn and (input_fn or predict_fn or output_fn):
        raise UserError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")
    if transform_fn is not None:
        return transformer.Transformer(model_fn=model_fn, transform_fn=transform_fn)
    return transformer.Transformer(
        model_fn=model_fn,
        input_fn=input_fn or default_input_fn,
        predict_fn=predict_fn or default_predict_fn,
        output_fn=output_fn or default_output_fn,
    )


def import_user_module(module_name: str, module_dir: str) -> tuple[transformer.Transformer, Callable | None]:
    try:  # installed by the start-up `pip install .`
        user_module = importlib.import_module(module_name)
    except ImportError:  # not installed yet: the library copies, installs and imports it
        user_module = modules.import_module(module_dir, module_name)
    handlers = user_module_transformer(user_module)
    handlers.initialize()  # model_fn(model_dir), once per worker
    return handlers, getattr(user_module, "execution_parameters_fn", None)


app: worker.Worker | None = None


def main(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI entry point gunicorn serves: built on the worker's first request (``/ping`` too)."""
    global app
    if app is None:
        serving_env = env.ServingEnv()
        handlers, execution_parameters_fn = import_user_module(serving_env.module_name, serving_env.module_dir)
        app = worker.Worker(
            transform_fn=handlers.transform,
            module_name=serving_env.module_name,
            execution_parameters_fn=execution_parameters_fn,
        )
    return app(environ, start_response)


def serving_entrypoint() -> None:
    """What the image's ``serve`` runs for a single-model endpoint."""
    if os.environ.get("SAGEMAKER_MULTI_MODEL"):
        raise UserError("multi-model serving (SAGEMAKER_MULTI_MODEL) is not reproduced locally")
    server.start(env.ServingEnv().framework_module)
