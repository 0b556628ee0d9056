"""The monitoring stack of every environment: one dashboard over every model's endpoints."""

from __future__ import annotations

import json

from tests.conftest import DEPLOYED_ENVIRONMENTS, ENVIRONMENTS, resources_of_type
from tests.inference_constructs.test_dashboard import dashboard_body


def test_every_environment_has_one_dashboard_in_its_own_stack(synthesized):
    for name in ENVIRONMENTS:
        stage = synthesized.stages[name]
        assert stage.monitoring.stack_name == f"{name.capitalize()}-Monitoring"
        template = synthesized.template(stage.monitoring)
        (dashboard,) = resources_of_type(template, "AWS::CloudWatch::Dashboard").values()
        dashboard_name = dashboard["Properties"]["DashboardName"]
        separator, parts = dashboard_name["Fn::Join"] if isinstance(dashboard_name, dict) else ("", [dashboard_name])
        rendered = separator.join(p if isinstance(p, str) else "<region>" for p in parts)
        expected_region = synthesized.configs[name].region or "<region>"
        assert rendered == f"{name}-sagemaker-inference-{expected_region}"
        assert "DashboardName" in template["Outputs"]


def test_every_endpoint_of_every_model_has_a_row_and_its_alarms_are_listed(synthesized):
    for name in ENVIRONMENTS:
        stage = synthesized.stages[name]
        widgets = dashboard_body(synthesized.template(stage.monitoring))["widgets"]
        headings = {w["properties"]["markdown"] for w in widgets if w["type"] == "text"}
        listed = {arn.rsplit(":", 1)[1] for w in widgets if w["type"] == "alarm" for arn in w["properties"]["alarms"]}
        for model_name, stack in stage.model_stacks.items():
            assert f"## Model {model_name}" in headings
            model_template = synthesized.template(stack)
            endpoints = [
                e["Properties"]["EndpointName"]
                for e in resources_of_type(model_template, "AWS::SageMaker::Endpoint").values()
            ]
            for endpoint in endpoints:
                assert any(heading.endswith(f"`{endpoint}`") for heading in headings), endpoint
            # Every alarm that notifies the alarm topic is on the dashboard, by its name.
            notifying = {
                alarm["Properties"]["AlarmName"]
                for alarm in resources_of_type(model_template, "AWS::CloudWatch::Alarm").values()
                if "OKActions" in alarm["Properties"]
            }
            assert notifying and notifying <= listed, notifying - listed


def test_the_dashboard_imports_nothing_and_deploys_after_the_model_stacks(synthesized):
    for name in ENVIRONMENTS:
        stage = synthesized.stages[name]
        template = synthesized.template(stage.monitoring)
        assert "Fn::ImportValue" not in json.dumps(template)
        dependencies = {stack.stack_name for stack in stage.monitoring.dependencies}
        assert dependencies == {stack.stack_name for stack in stage.model_stacks.values()}


def test_alarms_for_every_mode_are_in_every_environment(synthesized):
    expected = {
        "realtime": {
            "Invocation5XXErrors",
            "Invocation4XXErrorRate",
            "ModelLatency",
            "CpuUtilization",
            "MemoryUtilization",
            "DiskUtilization",
        },
        "serverless": {"OverheadLatency", "Invocation5XXErrors", "ModelLatency", "ConcurrentExecutionsUtilization"},
        "async": {"OldestRequestAge", "BacklogSize", "InvocationFailures"},
    }
    for name in DEPLOYED_ENVIRONMENTS:
        template = synthesized.template(synthesized.stages[name].model_stacks["iris"])
        names = {
            alarm["Properties"].get("AlarmName")
            for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        }
        for mode, keys in expected.items():
            assert {f"{name}-iris-{mode}-{key}" for key in keys} <= names, (name, mode)
        for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values():
            # Missing data is always a deliberate choice, never CloudWatch's default.
            assert alarm["Properties"]["TreatMissingData"] in {"notBreaching", "missing"}


def test_realtime_and_serverless_roll_back_on_their_own_alarms_everywhere(synthesized, shipped_configs):
    for name in DEPLOYED_ENVIRONMENTS:
        template = synthesized.template(synthesized.stages[name].model_stacks["iris"])
        alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
        for endpoint in resources_of_type(template, "AWS::SageMaker::Endpoint").values():
            properties = endpoint["Properties"]
            if properties["EndpointName"].endswith("-async"):
                continue
            referenced = {a["AlarmName"] for a in properties["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]}
            # Every production variant's own 5XX and latency alarms (weighted variants: <endpoint>-<variant>-...).
            config = next(m for m in shipped_configs[name].models if m.name == "iris")
            block = config.realtime if properties["EndpointName"].endswith("-realtime") else None
            prefixes = [properties["EndpointName"]] + [
                f"{properties['EndpointName']}-{variant.variant_name}" for variant in (block.variants if block else ())
            ]
            assert referenced == {
                f"{prefix}-{key}" for prefix in prefixes for key in ("Invocation5XXErrors", "ModelLatency")
            }
            # ... and those are alarms of this stack, which the endpoint waits for.
            assert referenced <= {alarm["Properties"].get("AlarmName") for alarm in alarms.values()}


def test_large_environments_are_shown_on_dashboard_pages_of_their_own(shipped_configs, monkeypatch):
    # A dashboard holds at most 500 widgets (about 20 models): bigger environments get pages,
    # each a dashboard in its own stack. Three models on pages of two show the mechanism.
    import stacks.environment_stage as environment_stage
    from stacks.environment_stage import EnvironmentStage
    from tests.conftest import REPO_ROOT, new_app

    monkeypatch.setattr(environment_stage, "MODELS_PER_DASHBOARD", 2)
    base = shipped_configs["prod"]
    models = [base.models[0].model_copy(update={"name": name}) for name in ("iris", "fraud", "churn")]
    stage = EnvironmentStage(new_app(), config=base.model_copy(update={"models": models}), base_dir=str(REPO_ROOT))

    assert [stack.stack_name for stack in stage.monitoring_stacks] == ["Prod-Monitoring", "Prod-Monitoring2"]
    assert stage.monitoring is stage.monitoring_stacks[0]
    shown = [
        {dependency.stack_name for dependency in stack.dependencies} - {"Prod-Platform"}
        for stack in stage.monitoring_stacks
    ]
    assert shown == [{"Prod-ModelIris", "Prod-ModelFraud"}, {"Prod-ModelChurn"}]
    names = [stack.resolve(stack.dashboard.dashboard_name) for stack in stage.monitoring_stacks]
    assert names == ["prod-sagemaker-inference-eu-west-1", "prod-sagemaker-inference-eu-west-1-2"]
