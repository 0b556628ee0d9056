"""Each model stack publishes exactly the outputs its modes declare (inference_core.modes), the
outputs clients read; each mode adds its own to the stack's 200-output quota."""

from __future__ import annotations

import pytest

from inference_core.modes import named
from stacks.limits import MAX_OUTPUTS
from tests.conftest import ENVIRONMENTS


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_model_stack_publishes_exactly_its_modes_outputs(synthesized, environment):
    stage = synthesized.stages[environment]
    for model in synthesized.configs[environment].models:
        stack = stage.model_stacks[model.name]
        expected = [key for mode in model.modes for key in named(mode).outputs]
        optional = {key for mode in model.modes for key in named(mode).optional_outputs}
        published = set(synthesized.template(stack)["Outputs"])
        assert list(stack.units) == model.modes
        assert sorted(published - optional) == sorted(expected)
        assert len(expected) + len(optional) <= MAX_OUTPUTS
        # Text-generation images stream (the streaming client and smoke check look for this output).
        streams = model.image.dlc in ("huggingface-tgi", "djl-lmi", "djl-neuronx") and model.realtime is not None
        assert ("RealtimeResponseStreaming" in published) is streams
