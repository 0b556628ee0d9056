"""The shared endpoint's stack and the model stacks whose inference components run on it.

Components join the endpoint by its fixed name, after it (a stack dependency), with nothing
exported: no export can be stranded when a model stack joins or leaves (the deadlock a platform
export once caused, tests/stacks/test_platform_exports.py).
"""

from __future__ import annotations

import json

from inference_core.naming import shared_endpoint_name
from tests.conftest import ENVIRONMENTS, resources_of_type
from tests.inference_constructs.test_dashboard import dashboard_body


def test_only_environments_declaring_a_shared_endpoint_get_its_stack(synthesized):
    for name in ENVIRONMENTS:
        stage = synthesized.stages[name]
        assert (stage.shared_endpoint is not None) == (synthesized.configs[name].shared_endpoint is not None), name
    assert synthesized.stages["dev"].shared_endpoint is not None


def test_components_join_the_shared_endpoint_by_name_after_it_with_no_export(synthesized):
    stage = synthesized.stages["dev"]
    shared = stage.shared_endpoint
    assert shared is not None and shared.stack_name == "Dev-SharedEndpoint"
    shared_template = synthesized.template(shared)
    (endpoint,) = resources_of_type(shared_template, "AWS::SageMaker::Endpoint").values()
    assert endpoint["Properties"]["EndpointName"] == shared_endpoint_name("dev") == "dev-inference-components"
    assert not [output for output in shared_template.get("Outputs", {}).values() if "Export" in output]
    with_components = [model.name for model in synthesized.configs["dev"].models if model.component is not None]
    assert with_components == ["iris", "iris-v2"]
    for model_name, stack in stage.model_stacks.items():
        template = synthesized.template(stack)
        components = resources_of_type(template, "AWS::SageMaker::InferenceComponent")
        depends = shared in stack.dependencies
        assert depends == (model_name in with_components), model_name
        if not depends:
            assert not components
            continue
        (component,) = components.values()
        assert component["Properties"]["EndpointName"] == "dev-inference-components"
        assert component["Properties"]["InferenceComponentName"] == f"dev-{model_name}-component"
        assert "SharedEndpoint" not in json.dumps(template), "a model stack refers to the shared stack's resources"
        assert template["Outputs"]["InferenceComponentEndpointName"]["Value"] == "dev-inference-components"


def test_the_dashboard_has_a_row_and_alarms_per_component(synthesized):
    body = dashboard_body(synthesized.template(synthesized.stages["dev"].monitoring))
    widgets = body["widgets"]
    headings = [widget["properties"]["markdown"] for widget in widgets if widget["type"] == "text"]
    for model in ("iris", "iris-v2"):
        assert f"### {model} · inference component · `dev-{model}-component`" in headings
    alarms = json.dumps([widget for widget in widgets if widget["type"] == "alarm"])
    assert "dev-iris-v2-component-Invocation5XXErrors" in alarms and "dev-iris-v2-component-ModelLatency" in alarms
    graphs = json.dumps(widgets)
    assert '"InferenceComponentName","dev-iris-v2-component"' in graphs.replace(" ", "")
