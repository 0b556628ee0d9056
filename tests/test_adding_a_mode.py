"""What adding a mode costs: a toy mode, registered in this file alone, is built by the model
stack, published in its outputs, shown on the dashboard, checked by the smoke tests and
recognised by the review bundle; and docs/adding-a-mode.md lists at most 5 files to touch.

Nothing here lists the real modes: the toy joins the registries (inference_core.modes.REGISTRY,
stacks.modes.UNITS) and everything else must pick it up by iterating over them.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker

from inference_config.schema import EnvironmentConfig, ModelConfig
from inference_constructs.dashboard import InferenceDashboard
from inference_constructs.settings import Settings
from inference_core import modes
from inference_core.modes import ENDPOINT_CONFIG, Invocation, Mode
from inference_platform.smoke import Outcome, SmokeTests
from review_bundle.assembly import Assembly
from review_bundle.modes import deployments
from review_bundle.summary import environment_summary
from stacks import modes as units
from stacks.environment_stage import EnvironmentStage
from stacks.modes import ModeContext, ModeUnit
from tests.conftest import REPO_ROOT, new_app, resources_of_type
from tests.inference_constructs.test_dashboard import dashboard_body

TOY_OUTPUT = "ToyEndpointName"
TOY_VARIANT = "ToyVariant"

# The CDK-free half: what inference_core.modes would hold for it.
TOY = Mode(
    name="toy",
    label="toy",
    title="Toy endpoint",
    meaning="a stand-in mode that proves the registry is all a new mode needs",
    outputs=(TOY_OUTPUT,),
    invocation=Invocation.ENDPOINT,
    resource_type=ENDPOINT_CONFIG,
    recognises=lambda config: any(
        variant.get("VariantName") == TOY_VARIANT
        for variant in config.get("Properties", {}).get("ProductionVariants", [])
    ),
    colour="#ffffff",
)


class ToySettings(Settings):
    instance_type: str = "ml.m5.large"


class ToyModelConfig(ModelConfig):
    """The config block (in the real code: one field of ModelConfig)."""

    toy: ToySettings | None = None


class ToyUnit(ModeUnit[ToySettings, sagemaker.CfnEndpoint]):
    """The CDK half: what stacks/modes/toy.py would hold."""

    mode = TOY

    def build(self, context: ModeContext, settings: ToySettings) -> sagemaker.CfnEndpoint:
        config = sagemaker.CfnEndpointConfig(
            context.stack,
            "ToyConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=TOY_VARIANT,
                    model_name="toy-model",
                    initial_instance_count=1,
                    instance_type=settings.instance_type,
                )
            ],
        )
        return sagemaker.CfnEndpoint(
            context.stack,
            "Toy",
            endpoint_config_name=config.attr_endpoint_config_name,
            endpoint_name=context.endpoint_name(self.mode),
        )

    def outputs(self, construct: sagemaker.CfnEndpoint) -> dict[str, str]:
        return {TOY_OUTPUT: str(construct.endpoint_name)}

    def add_to_dashboard(
        self, dashboard: InferenceDashboard, construct: sagemaker.CfnEndpoint, *, model_name: str
    ) -> None:
        dashboard.add_heading(model_name, "toy", str(construct.endpoint_name))
        dashboard.add_widgets(
            dashboard.graph("Toy requests", [cloudwatch.Metric(namespace="Toy", metric_name="Requests")])
        )


def _toy_model() -> ToyModelConfig:
    return ToyModelConfig.model_validate(
        {
            "name": "petals",
            "image": {"framework": "sklearn", "version": "1.4-2"},
            "model_data": "s3://model-artifacts/petals/model.tar.gz",
            "toy": {},
        }
    )


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modes, "REGISTRY", (*modes.REGISTRY, TOY))
    monkeypatch.setattr(units, "UNITS", {**units.UNITS, TOY.name: ToyUnit()})


@pytest.fixture
def toy_app(toy_registered: None, tmp_path: Path) -> tuple[EnvironmentStage, Path]:
    model = _toy_model()
    config = EnvironmentConfig.model_validate(
        {"environment": "dev", "termination_protection": False, "models": [model]}
    )
    app = new_app(tmp_path / "cdk.out")
    stage = EnvironmentStage(app, config=config, base_dir=str(REPO_ROOT))
    app.synth()
    return stage, tmp_path / "cdk.out"


def _template(out: Path, stack: cdk.Stack) -> dict[str, Any]:
    (path,) = out.rglob(f"{stack.artifact_id}.template.json")
    return json.loads(path.read_text())


def test_the_config_knows_the_toy_mode(toy_registered):
    model = _toy_model()
    assert model.modes == ["toy"]
    assert model.settings_of(TOY) == ToySettings()
    # Its instances get the image-architecture check with every other mode's.
    assert model.instance_types() == [("toy.instance_type", "ml.m5.large")]


def test_the_model_stack_builds_the_toy_mode_and_publishes_its_outputs(toy_app):
    stage, out = toy_app
    stack = stage.model_stacks["petals"]
    assert list(stack.units) == ["toy"]
    template = _template(out, stack)
    (endpoint,) = resources_of_type(template, "AWS::SageMaker::Endpoint").values()
    assert endpoint["Properties"]["EndpointName"] == "dev-petals-toy"
    assert template["Outputs"][TOY_OUTPUT]["Value"] == "dev-petals-toy"


def test_the_dashboard_shows_the_toy_row(toy_app):
    stage, out = toy_app
    widgets = dashboard_body(_template(out, stage.monitoring))["widgets"]
    headings = [widget["properties"]["markdown"] for widget in widgets if widget["type"] == "text"]
    assert "### petals · toy · `dev-petals-toy`" in headings
    assert any(widget["properties"].get("title") == "Toy requests" for widget in widgets)


def test_the_review_bundle_recognises_the_toy_mode(toy_app):
    _stage, out = toy_app
    assembly = Assembly.load(out)
    (deployment,) = deployments(assembly, "dev")
    assert deployment.modes == ["toy"]
    assert "### Toy endpoint `dev-petals-toy`" in environment_summary(assembly, "dev")


class _Runtime:
    def __init__(self) -> None:
        self.invoked: list[str] = []

    def invoke_endpoint(self, *, EndpointName: str, **_request: Any) -> dict[str, Any]:
        self.invoked.append(EndpointName)
        return {"ContentType": "text/csv", "Body": io.BytesIO(b"a\nb\nc\n")}


class _Session:
    def __init__(self) -> None:
        self.runtime = _Runtime()

    def client(self, service: str, **_options: Any) -> Any:
        return self.runtime if service == "sagemaker-runtime" else object()


class _Deployed:
    """A deployed environment whose one model publishes only the toy mode's outputs."""

    def __init__(self) -> None:
        self.session = _Session()

    def model_outputs(self, model: str) -> dict[str, str]:
        return {TOY_OUTPUT: f"dev-{model}-toy"}


def test_the_smoke_tests_check_the_toy_mode(toy_registered):
    deployed = _Deployed()
    results = SmokeTests(deployed, run_id="r1").run(["petals"])  # type: ignore[arg-type]
    outcomes = {result.mode: result.outcome for result in results}
    assert outcomes.pop("toy") is Outcome.PASSED, results
    assert set(outcomes.values()) == {Outcome.SKIPPED}  # the real modes have no outputs here
    assert deployed.session.runtime.invoked == ["dev-petals-toy"]


def test_a_unit_whose_outputs_differ_from_its_modes_declaration_fails_synth(toy_registered, monkeypatch):
    monkeypatch.setattr(ToyUnit, "outputs", lambda self, construct: {"SomethingElse": "x"})
    with pytest.raises(ValueError, match=r"mode toy: its unit publishes outputs \['SomethingElse'\]"):
        test_app = new_app()
        model = _toy_model()
        config = EnvironmentConfig.model_validate({"environment": "dev", "models": [model]})
        EnvironmentStage(test_app, config=config, base_dir=str(REPO_ROOT))


def test_the_walkthrough_touches_at_most_five_files():
    text = (REPO_ROOT / "docs" / "adding-a-mode.md").read_text()
    section = text.split("## The files", 1)[1].split("\n## ", 1)[0]
    files = re.findall(r"^\d+\. `([^`]+)`", section, flags=re.MULTILINE)
    assert 0 < len(files) <= 5, files
    for file in files:
        # A new mode's own files name it <mode>; the others exist today.
        assert "<mode>" in file or (REPO_ROOT / file).is_file(), file


def test_every_registered_mode_has_a_unit_a_config_block_and_a_docs_page():
    registered = modes.registered()
    assert set(units.UNITS) == {mode.name for mode in registered}
    for mode in registered:
        assert units.UNITS[mode.name].mode is mode
        assert mode.field in ModelConfig.model_fields, mode.name
        assert ModelConfig.model_fields[mode.field].alias in (None, mode.config_key), mode.name
        assert (REPO_ROOT / "docs" / "modes" / f"{mode.name}.md").is_file(), mode.name
