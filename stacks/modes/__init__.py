"""The CDK half of every mode: how its construct is built from config, its stack outputs and
its dashboard row. The CDK-free half (name, output keys, smoke check, review recognition) is
``inference_core.modes``; a unit here is registered under its mode's name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

from inference_core.modes import Mode
from stacks.modes.base import ModeContext, ModeUnit

__all__ = ["UNITS", "ModeContext", "ModeUnit", "unit_of"]


def _discover() -> dict[str, ModeUnit[Any, Any]]:
    """One unit per module of this package (a new mode adds its module, and no line here)."""
    found: dict[str, ModeUnit[Any, Any]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, ModeUnit) and not inspect.isabstract(cls) and cls.__module__ == module.__name__:
                unit = cls()
                if unit.mode.name in found:
                    raise TypeError(f"two units for mode {unit.mode.name!r} in stacks/modes/")
                found[unit.mode.name] = unit
    return found


# Mode name -> its CDK half. A test may patch in a toy mode's unit (with inference_core.modes.REGISTRY).
UNITS: dict[str, ModeUnit[Any, Any]] = _discover()


def unit_of(mode: Mode) -> ModeUnit[Any, Any]:
    try:
        return UNITS[mode.name]
    except KeyError:
        raise KeyError(f"mode {mode.name!r} has no CDK unit in stacks.modes.UNITS") from None
