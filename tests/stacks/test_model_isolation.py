"""Changing one model's config changes only that model's template, for two models and for a fleet.

That is what lets CloudFormation (and ``cdk deploy --concurrency``) leave every other stack alone.
"""

from __future__ import annotations

import json

import pytest

from inference_core.naming import model_stack_id
from stacks.application import build_stages
from tests.conftest import REPO_ROOT, new_app


def _templates(app, stages) -> dict[str, str]:
    assembly = app.synth()
    result = {}
    for stage in stages:
        nested = assembly.get_nested_assembly(f"assembly-{stage.stage_name}")
        for stack in nested.stacks:
            result[stack.hierarchical_id] = json.dumps(stack.template, sort_keys=True)
    return result


# Five models are a fleet (the middle one changes, with neighbours on both sides); 100 are
# synthesized by bench/synth_benchmark.py, which measures what a fleet costs.
@pytest.mark.parametrize("fleet_size", [2, 5])
def test_changing_one_model_changes_only_its_stack(shipped_configs, tmp_path, fleet_size):
    base = shipped_configs["staging"]
    fleet = [base.models[0].model_copy(update={"name": f"model{index:02d}"}) for index in range(fleet_size)]
    target = fleet[fleet_size // 2]
    realtime = target.realtime.model_copy(update={"instance_type": "ml.c5.xlarge"})
    changed_fleet = [
        model if model is not target else model.model_copy(update={"realtime": realtime}) for model in fleet
    ]

    before_app, after_app = new_app(tmp_path / "before"), new_app(tmp_path / "after")
    before_config = base.model_copy(update={"models": fleet})
    after_config = base.model_copy(update={"models": changed_fleet})
    before = _templates(before_app, build_stages(before_app, [before_config], base_dir=str(REPO_ROOT)))
    after = _templates(after_app, build_stages(after_app, [after_config], base_dir=str(REPO_ROOT)))

    expected_stacks = {"Staging/Platform", "Staging/Monitoring"} | {
        f"Staging/{model_stack_id(model.name)}" for model in fleet
    }
    assert before.keys() == after.keys() == expected_stacks
    differing = {stack for stack in before if before[stack] != after[stack]}
    # The dashboard addresses endpoints by name: an instance type change leaves it alone.
    changed_stack = f"Staging/{model_stack_id(target.name)}"
    assert differing == {changed_stack}
    assert "ml.c5.xlarge" in after[changed_stack]
