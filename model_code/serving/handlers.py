"""Load the packed ``inference.py`` and resolve its handlers as the framework container does.

The scikit-learn container imports ``$SAGEMAKER_PROGRAM`` (``inference.py``) from the
artifact's ``code/`` directory, with that directory on ``sys.path`` so the handler can import
its neighbours, and then picks, per function:

- ``model_fn(model_dir)``, called once per worker at start-up (no default: see ``defaults``);
- either ``transform_fn(model, body, content_type, accept)`` alone,
- or ``input_fn(body, content_type)`` -> ``predict_fn(data, model)`` -> ``output_fn(prediction, accept)``,
  each falling back to the container's default when absent.

Defining ``transform_fn`` together with any of the three is refused, as the container
refuses it. An optional ``execution_parameters_fn()`` answers ``GET /execution-parameters``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from model_code.serving.defaults import default_input_fn, default_model_fn, default_output_fn, default_predict_fn

DEFAULT_PROGRAM = "inference.py"
PIPELINE_FUNCTIONS = ("input_fn", "predict_fn", "output_fn")

Transform = Callable[[Any, Any, str, str], Any]


class HandlerLoadError(RuntimeError):
    """The handler module cannot be served (missing, or an invalid mix of functions)."""


@dataclass(frozen=True)
class Handlers:
    """The functions the server calls, with a note of which ones came from ``inference.py``."""

    model_fn: Callable[[str], Any]
    transform: Transform
    execution_parameters_fn: Callable[[], Any] | None
    defined: tuple[str, ...]

    def describe(self) -> str:
        names = ", ".join(self.defined) or "none"
        return f"handlers from inference.py: {names}; container defaults for the rest"


def load_module(code_dir: Path, program: str = DEFAULT_PROGRAM) -> ModuleType:
    """Import ``code_dir/program`` under its own name, as the container imports the user module."""
    path = code_dir / program
    if not path.is_file():
        raise HandlerLoadError(
            f"{path} not found: the artifact must hold code/{program} (the framework containers' layout)"
        )
    name = path.stem
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))  # the handler may import modules packed next to it
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered like a normal import, so pickles that reference the handler's classes load.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _pipeline(input_fn: Callable[..., Any], predict_fn: Callable[..., Any], output_fn: Callable[..., Any]) -> Transform:
    def transform(model: Any, body: Any, content_type: str, accept: str) -> Any:
        return output_fn(predict_fn(input_fn(body, content_type), model), accept)

    return transform


def resolve(module: ModuleType) -> Handlers:
    """Pick each handler from ``module`` or fall back to the container's default."""
    found = {name: getattr(module, name, None) for name in ("model_fn", "transform_fn", *PIPELINE_FUNCTIONS)}
    for name, function in found.items():
        if function is not None and not callable(function):
            raise HandlerLoadError(f"{module.__name__}.{name} is not a function")
    transform_fn = found["transform_fn"]
    mixed = [name for name in PIPELINE_FUNCTIONS if found[name] is not None]
    if transform_fn is not None and mixed:
        raise HandlerLoadError(
            f"define either transform_fn or input_fn/predict_fn/output_fn, not both "
            f"({module.__name__} defines transform_fn and {', '.join(mixed)}); the container refuses the mix"
        )
    transform = transform_fn or _pipeline(
        found["input_fn"] or default_input_fn,
        found["predict_fn"] or default_predict_fn,
        found["output_fn"] or default_output_fn,
    )
    execution_parameters_fn = getattr(module, "execution_parameters_fn", None)
    defined = tuple(name for name, function in found.items() if function is not None)
    if execution_parameters_fn is not None:
        defined += ("execution_parameters_fn",)
    return Handlers(
        model_fn=found["model_fn"] or default_model_fn,
        transform=transform,
        execution_parameters_fn=execution_parameters_fn,
        defined=defined,
    )


def load_handlers(code_dir: Path, program: str = DEFAULT_PROGRAM) -> Handlers:
    return resolve(load_module(code_dir, program))
