"""Changing one model's config changes only that model's template."""

from __future__ import annotations

import json

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


def test_changing_one_model_changes_only_its_stack(shipped_configs, tmp_path):
    base = shipped_configs["staging"]
    second = base.models[0].model_copy(update={"name": "fraud"})
    two_models = base.model_copy(update={"models": [base.models[0], second]})
    realtime = second.realtime.model_copy(update={"instance_type": "ml.c5.xlarge"})
    changed = two_models.model_copy(
        update={"models": [base.models[0], second.model_copy(update={"realtime": realtime})]}
    )

    before_app, after_app = new_app(tmp_path / "before"), new_app(tmp_path / "after")
    before = _templates(before_app, build_stages(before_app, [two_models], base_dir=str(REPO_ROOT)))
    after = _templates(after_app, build_stages(after_app, [changed], base_dir=str(REPO_ROOT)))

    assert (
        before.keys()
        == after.keys()
        == {
            "Staging/Platform",
            "Staging/ModelIris",
            "Staging/ModelFraud",
            "Staging/Monitoring",
        }
    )
    differing = {stack for stack in before if before[stack] != after[stack]}
    # The dashboard addresses endpoints by name: an instance type change leaves it alone.
    assert differing == {"Staging/ModelFraud"}
    assert "ml.c5.xlarge" in after["Staging/ModelFraud"]
