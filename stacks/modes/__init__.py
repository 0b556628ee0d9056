"""The CDK half of every mode: how its construct is built from config, its stack outputs and
its dashboard row. The CDK-free half (name, output keys, smoke check, review recognition) is
``inference_core.modes``; a unit here is registered under its mode's name.
"""

from __future__ import annotations

from typing import Any

from inference_core.modes import Mode
from stacks.modes.async_ import AsyncUnit
from stacks.modes.base import ModeContext, ModeUnit
from stacks.modes.batch import BatchUnit
from stacks.modes.realtime import RealtimeUnit
from stacks.modes.serverless import ServerlessUnit

__all__ = ["UNITS", "ModeContext", "ModeUnit", "unit_of"]

# Mode name -> its CDK half. A test may patch in a toy mode's unit (with inference_core.modes.REGISTRY).
UNITS: dict[str, ModeUnit[Any, Any]] = {
    unit.mode.name: unit for unit in (RealtimeUnit(), ServerlessUnit(), AsyncUnit(), BatchUnit())
}


def unit_of(mode: Mode) -> ModeUnit[Any, Any]:
    try:
        return UNITS[mode.name]
    except KeyError:
        raise KeyError(f"mode {mode.name!r} has no CDK unit in stacks.modes.UNITS") from None
