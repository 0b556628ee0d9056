"""The platform stack's exports never depend on the models or modes configured.

CloudFormation refuses to delete or change an export another stack imports
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html).
With CDK's automatic references the platform exported a value only while some model stack used
it, so removing a mode or a feature from the last model that used it made the platform update
delete an export the old model stack still imported: the deploy failed. These tests pin the rule
that avoids it: the platform always exports every value a model stack may import.
"""

from __future__ import annotations

import json
import re

import pytest

from inference_config.schema import EnvironmentConfig
from stacks.application import build_stages
from tests.conftest import ENVIRONMENTS, REPO_ROOT, new_app


def exports_of(template: dict) -> dict[str, object]:
    """Export name -> exported value of a template's outputs."""
    return {
        output["Export"]["Name"]: output["Value"]
        for output in template.get("Outputs", {}).values()
        if "Export" in output
    }


def imports_of(template: dict) -> set[str]:
    """Names a template imports with Fn::ImportValue (CDK writes them as literal strings)."""
    text = json.dumps(template)
    names = set(re.findall(r'"Fn::ImportValue": "([^"]+)"', text))
    assert text.count('"Fn::ImportValue"') == len(re.findall(r'"Fn::ImportValue": "', text)), (
        "an Fn::ImportValue whose name is not a literal string: this test cannot check it"
    )
    return names


def _platform_exports(config: EnvironmentConfig, tmp_path) -> dict[str, object]:
    app = new_app(tmp_path)
    (stage,) = build_stages(app, [config], base_dir=str(REPO_ROOT))
    assembly = app.synth().get_nested_assembly(f"assembly-{stage.stage_name}")
    return exports_of(assembly.get_stack_by_name(stage.platform.stack_name).template)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_import_of_every_stack_names_an_export_of_its_platform(synthesized, environment):
    stage = synthesized.stages[environment]
    exported = exports_of(synthesized.template(stage.platform))
    assert exported, "the platform stack exports nothing"
    for stack in [*stage.model_stacks.values(), *stage.monitoring_stacks]:
        missing = imports_of(synthesized.template(stack)) - set(exported)
        assert not missing, f"{stack.stack_name} imports {sorted(missing)}, which the platform does not always export"


def test_platform_exports_do_not_depend_on_the_models_or_modes(shipped_configs, tmp_path):
    """All four modes with every feature (staging) against one serverless-only model: the
    platform exports the same names and values."""
    full = shipped_configs["staging"]
    assert set(full.models[0].modes) == {"realtime", "serverless", "async", "batch"}
    minimal_model = full.models[0].model_copy(update={"realtime": None, "async_": None, "batch": None})
    minimal = full.model_copy(update={"models": [minimal_model]})
    assert _platform_exports(full, tmp_path / "full") == _platform_exports(minimal, tmp_path / "minimal")


def test_platform_exports_every_shared_value_by_cdks_reference_name(synthesized):
    """Each shared value is exported under the name CDK gives an automatic reference, so model
    stacks deployed before this rule keep importing the same names."""
    stage = synthesized.stages["prod"]
    exported = exports_of(synthesized.template(stage.platform))
    values = [json.dumps(value, sort_keys=True) for value in exported.values()]
    assert len(values) == len(set(values)), "a value is exported twice"
    assert len(exported) == len(stage.platform.resources.shared_values())
    assert all(name.startswith("Prod-Platform:ExportsOutput") for name in exported)
