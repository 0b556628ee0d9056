"""Shared fixtures. The shipped app is synthesized once per test session (in process, for tests
that need its construct objects) and once per test run on disk for every worker (for tests that
only read templates: ``tests/shared_assembly.py``).

``--synth-report`` prints, at the end, how many synths each pytest worker ran and which tests
caused the most synth time (``App.synth``, ``Stage.synth`` and ``Template.from_stack``).
"""

from __future__ import annotations

import json
import os
import threading
import time

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # before jsii starts
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests import shared_assembly, shared_service_models

# Under pytest-xdist this file is also loaded by the controller, which only hands out tests:
# what loads CDK (and inference_config.schema, which imports the constructs, and model_code.build,
# which imports scikit-learn) is imported where it is used, so the controller does not spend
# seconds of CPU loading it before it starts the workers (tests/shared_assembly.py likewise).
if TYPE_CHECKING:
    import aws_cdk as cdk

    from inference_config.schema import EnvironmentConfig
    from stacks.environment_stage import EnvironmentStage

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "config"


@cache
def _environments() -> tuple[tuple[str, ...], tuple[str, ...]]:
    from inference_config.loader import PIPELINE_FILE, environment_files, load_pipeline

    return (
        tuple(path.stem for path in environment_files(CONFIG_DIR)),
        tuple(load_pipeline(CONFIG_DIR / PIPELINE_FILE, base_dir=REPO_ROOT).environments),
    )


def __getattr__(name: str) -> Any:
    """``ENVIRONMENTS``: every shipped environment (config/*.yaml but the pipeline's: dev,
    examples, prod, staging). ``DEPLOYED_ENVIRONMENTS``: the environments the pipeline deploys
    (config/pipeline.yaml's stages: dev, staging, prod); each serves the example model in every
    mode, and config/examples.yaml holds the shapes that need artefacts of your own and is in no
    stage. Computed when a test module first imports them (module ``__getattr__``, PEP 562)."""
    if name == "ENVIRONMENTS":
        return _environments()[0]
    if name == "DEPLOYED_ENVIRONMENTS":
        return _environments()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Tests build apps with the same feature flags as `cdk synth` (cdk.json's context).
CDK_CONTEXT = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


def new_app(outdir: Path | str | None = None) -> cdk.App:
    """An app for tests, configured like `cdk synth` (app.py): CloudFormation's built-in validation
    is left to cfn-lint (it triples synth time and only warns), and no construct tree is written."""
    import aws_cdk as cdk

    return cdk.App(
        outdir=str(outdir) if outdir else None,
        builtin_cloud_formation_validation=False,
        tree_metadata=False,
        context=CDK_CONTEXT,
    )


@dataclass
class SynthesizedApp:
    app: cdk.App
    stages: dict[str, EnvironmentStage]
    assembly: cdk.cx_api.CloudAssembly
    configs: dict[str, EnvironmentConfig]

    def template(self, stack: cdk.Stack) -> dict:
        """The synthesized template of ``stack`` as a plain dict."""
        stage_assembly = self.assembly.get_nested_assembly(f"assembly-{stack.node.scope.node.id}")
        return stage_assembly.get_stack_by_name(stack.stack_name).template

    def all_templates(self) -> dict[str, dict]:
        """Every template of every environment, keyed by stack path (``Prod/ModelIris``)."""
        return {
            f"{name.capitalize()}/{stack.node.id}": self.template(stack)
            for name, stage in self.stages.items()
            for stack in [
                stage.platform,
                *([stage.shared_endpoint] if stage.shared_endpoint else []),
                *stage.model_stacks.values(),
                *stage.monitoring_stacks,
            ]
        }

    def template_files(self) -> list[Path]:
        return sorted(Path(self.assembly.directory).rglob("*.template.json"))


@pytest.fixture(scope="session")
def model_artifact() -> Path:
    """The model artifact the shipped configs point at (built once if missing)."""
    from model_code.build import DEFAULT_OUTPUT, build

    if not DEFAULT_OUTPUT.is_file():
        build(DEFAULT_OUTPUT)
    return DEFAULT_OUTPUT


@pytest.fixture(scope="session")
def shipped_configs(model_artifact: Path) -> dict[str, EnvironmentConfig]:
    return load_shipped_configs(CONFIG_DIR, REPO_ROOT)


def load_shipped_configs(config_dir: Path, base_dir: Path) -> dict[str, EnvironmentConfig]:
    """Every environment of ``config_dir`` as the synth loads it: delivered by the pipeline when
    pipeline.yaml enables it, with the model package versions the pipeline's synth step resolved
    (``RESOLVED_MODEL_PACKAGES_FILE`` at ``base_dir``, written before it runs `make test`)."""
    from inference_config.loader import (
        PIPELINE_FILE,
        environment_files,
        load_environments,
        load_pipeline,
    )
    from inference_core.naming import RESOLVED_MODEL_PACKAGES_FILE

    pipeline_file = config_dir / PIPELINE_FILE
    pipeline = load_pipeline(pipeline_file, base_dir=base_dir) if pipeline_file.is_file() else None
    resolved = base_dir / RESOLVED_MODEL_PACKAGES_FILE
    configs = load_environments(
        environment_files(config_dir),
        base_dir=base_dir,
        pipeline=pipeline is not None and pipeline.enabled,
        model_packages=json.loads(resolved.read_text()) if resolved.is_file() else None,
    )
    return {config.environment: config for config in configs}


@pytest.fixture(scope="session")
def synthesized(
    shipped_configs: dict[str, EnvironmentConfig], tmp_path_factory: pytest.TempPathFactory
) -> SynthesizedApp:
    """The shipped three-environment app with its compliance checks, synthesized once."""
    from stacks.application import build_stages, register_compliance_checks

    app = new_app(tmp_path_factory.mktemp("cdk.out"))
    stages = build_stages(app, shipped_configs.values(), base_dir=str(REPO_ROOT))
    register_compliance_checks(app)
    assembly = app.synth()
    return SynthesizedApp(
        app=app,
        stages={stage.config.environment: stage for stage in stages},
        assembly=assembly,
        configs=shipped_configs,
    )


@pytest.fixture(scope="session")
def shipped_cdk_out(model_artifact: Path) -> Path:
    """The shipped app's assembly as `cdk synth` writes it, shared by every worker (read only)."""
    return shared_assembly.shipped_assembly()


# Tests that need the in-process app's construct objects run on one pytest worker
# (`make test` uses --dist loadgroup), so the shipped app is constructed and synthesized in one
# worker, not in each; every other test, and the tests that read the on-disk assembly, go to
# whichever worker is free.
SHIPPED_APP_GROUP = "shipped-app"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "synthesized" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(SHIPPED_APP_GROUP))


# --- the shared assembly starts building as the session starts --------------------------------


def _is_xdist_controller(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if _is_xdist_controller(config) and shared_assembly.MODEL_ARTIFACT.is_file() and not config.option.collectonly:
        # The controller only hands out tests; while the workers start (each loads jsii) it
        # builds the shared assembly, which the workers' fixture then finds ready or waits for.
        _BACKGROUND.append(threading.Thread(target=_build_quietly, daemon=True))
        _BACKGROUND[-1].start()
    if not hasattr(config, "workerinput"):
        for stale in SYNTH_LOG_DIR.glob("*.json"):
            stale.unlink()


_BACKGROUND: list[threading.Thread] = []


def _build_quietly() -> None:
    try:
        shared_assembly.shipped_assembly()
    except Exception:
        pass  # a worker's fixture then builds it again and reports the error in a test


# --- where the suite's synth time goes --------------------------------------------------------

SYNTH_LOG_DIR = REPO_ROOT / ".pytest_cache" / "synth-log"
_SYNTHS: list[tuple[str, str, float]] = []


def _timed(kind: str, function):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            test = os.environ.get("PYTEST_CURRENT_TEST", "(outside a test)").rsplit(" ", 1)[0]
            _SYNTHS.append((test, kind, time.perf_counter() - start))

    return timed


def pytest_configure(config: pytest.Config) -> None:
    if _is_xdist_controller(config):
        return  # runs no test, so no synth to time (and does not load CDK)
    shared_service_models.share_between_sessions()
    import aws_cdk as cdk
    from aws_cdk import assertions

    cdk.App.synth = _timed("App.synth", cdk.App.synth)
    cdk.Stage.synth = _timed("Stage.synth", cdk.Stage.synth)
    assertions.Template.from_stack = classmethod(_timed("Template.from_stack", assertions.Template.from_stack.__func__))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--synth-report", action="store_true", help="synths per worker and the tests that cost most")


def pytest_sessionfinish(session: pytest.Session) -> None:
    for thread in _BACKGROUND:
        thread.join()  # a run that never needed the assembly leaves no app.py process behind
    if session.config.getoption("--synth-report"):
        worker = getattr(session.config, "workerinput", {}).get("workerid", "main")
        SYNTH_LOG_DIR.mkdir(parents=True, exist_ok=True)
        (SYNTH_LOG_DIR / f"{worker}.json").write_text(json.dumps(_SYNTHS))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if not config.getoption("--synth-report"):
        return
    per_test: dict[str, float] = {}
    write = terminalreporter.write_line
    write("synths per worker (App.synth, Stage.synth, Template.from_stack):")
    for log in sorted(SYNTH_LOG_DIR.glob("*.json")):
        synths = json.loads(log.read_text())
        write(f"  {log.stem}: {len(synths)} synths, {sum(seconds for _, _, seconds in synths):.1f} s")
        for test, _, seconds in synths:
            module = test.split("::", 1)[0]
            per_test[f"{log.stem} {module}"] = per_test.get(f"{log.stem} {module}", 0.0) + seconds
    write("synth time by worker and test module (a module on two workers synthesizes twice):")
    for key, seconds in sorted(per_test.items(), key=lambda item: -item[1])[:25]:
        write(f"  {seconds:6.1f} s  {key}")


def resources_of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {key: value for key, value in template.get("Resources", {}).items() if value["Type"] == resource_type}


def dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True)
