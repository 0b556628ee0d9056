"""How AWS's serving stack starts and stops the shipped model: with no network (network
isolation), with the mode's server timeout, and with a model that fails."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from inference_constructs.inference_model import MODEL_SERVER_TIMEOUT, MODEL_SERVER_WORKERS
from model_code.build import HANDLER
from model_code.serving.process import REPOSITORY_ROOT, SERVING_PYTHON, LocalServer, serving_environment_missing
from tests.conftest import resources_of_type
from tests.model_code.serving.helpers import SETOSA, VIRGINICA, artifact_with_handler, deployed_environment, invoke
from tests.shared_assembly import stack_template

pytestmark = pytest.mark.skipif(serving_environment_missing() is not None, reason=str(serving_environment_missing()))


def _can_unshare_network() -> bool:
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def async_model_environment(shipped_cdk_out) -> dict[str, str]:
    """The container environment of dev's async model, as `cdk synth` writes it: what SageMaker
    will set. Read from the shared on-disk assembly, so these tests need no in-process synth and
    are not tied to the shipped-app worker (tests/conftest.py)."""
    template = stack_template(shipped_cdk_out, "Dev", "ModelIris")
    (environment,) = [
        model["Properties"]["PrimaryContainer"]["Environment"]
        for model in resources_of_type(template, "AWS::SageMaker::Model").values()
        if model["Properties"]["PrimaryContainer"]["Environment"].get(MODEL_SERVER_TIMEOUT) == "900"
    ]
    return environment


def start_without_network(artifact, environment: dict[str, str]) -> dict:
    completed = subprocess.run(
        [
            "unshare",
            "-n",
            sys.executable,
            "-m",
            "tests.model_code.serving.offline_start",
            str(artifact),
            json.dumps(environment),
        ],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not _can_unshare_network(), reason="needs `unshare -n` (a new network namespace): run as root")
def test_the_shipped_model_starts_and_answers_with_no_network(model_artifact, async_model_environment):
    """Network isolation: the start-up pip install of code/ must not need an index."""
    assert async_model_environment["PIP_NO_BUILD_ISOLATION"] == "false"
    result = start_without_network(model_artifact, async_model_environment)
    assert result.get("started"), result.get("log")
    assert (result["ping"], result["status"], result["body"]) == (200, 200, "setosa\n")


@pytest.mark.skipif(not _can_unshare_network(), reason="needs `unshare -n` (a new network namespace): run as root")
def test_without_the_pip_setting_the_offline_start_fails(model_artifact, async_model_environment):
    """The control: the image's pip builds code/ in an isolated environment that downloads setuptools."""
    environment = {key: value for key, value in async_model_environment.items() if key != "PIP_NO_BUILD_ISOLATION"}
    result = start_without_network(model_artifact, environment)
    assert result == {"started": False, "log": result["log"]}
    assert "InstallModuleError" in result["log"]


# The test model: a VIRGINICA row is a bug in the model (it raises); any other request blocks its
# worker for 4 s, as a CPU-bound model does. One artifact, so one server answers both questions.
TEST_PREDICT = f"""

def predict_rows(model, rows):
    from gevent import monkey

    if rows[0].tolist() == [{VIRGINICA}]:
        raise RuntimeError("model bug")
    # The worker patches time.sleep into gevent's cooperative sleep; the original blocks the
    # worker's event loop (no yield, no heartbeat) as a CPU-bound model does, without using CPU.
    monkey.get_original("time", "sleep")(4)
    return model.predict(rows)
"""


@pytest.fixture(scope="module")
def blocking_or_broken_artifact(model_artifact, tmp_path_factory):
    """The shipped handler calling TEST_PREDICT instead of the model's predict."""
    source = HANDLER.read_text().replace("serialize(model.predict(rows)", "serialize(predict_rows(model, rows)")
    assert "predict_rows(model, rows)" in source
    return artifact_with_handler(tmp_path_factory.mktemp("test"), model_artifact, "test", source + TEST_PREDICT)


def _server(artifact, timeout: int) -> LocalServer:
    return LocalServer(
        artifact, environment=deployed_environment(**{MODEL_SERVER_TIMEOUT: str(timeout), MODEL_SERVER_WORKERS: "1"})
    )


@pytest.fixture(scope="module")
def patient_server(blocking_or_broken_artifact):
    """SAGEMAKER_MODEL_SERVER_TIMEOUT 30 s: longer than the test model's 4 s."""
    with _server(blocking_or_broken_artifact, 30) as server:
        yield server


def _timed_invocation(server: LocalServer) -> tuple[int | None, float]:
    started = time.monotonic()
    try:
        status = invoke(server.url, SETOSA + "\n", "text/csv", "text/csv").status
    except ConnectionError:
        status = None  # the worker was killed mid-request
    return status, time.monotonic() - started


def test_an_invocation_within_the_model_server_timeout_runs_to_the_end(patient_server):
    """SAGEMAKER_MODEL_SERVER_TIMEOUT, scaled down: a 4 s invocation runs to the end under 30 s,
    as an async model's 900 s runs past the 60 s default."""
    status, elapsed = _timed_invocation(patient_server)
    assert status == 200 and elapsed >= 4


def test_the_model_server_timeout_is_what_cuts_an_invocation(blocking_or_broken_artifact):
    """...and is cut at 2 s: the timeout, not the caller, ends it."""
    with _server(blocking_or_broken_artifact, 2) as server:
        status, _ = _timed_invocation(server)
    assert status is None or status >= 500
    assert "WORKER TIMEOUT" in server.log()


def test_a_model_error_stays_a_500(patient_server):
    assert invoke(patient_server.url, VIRGINICA + "\n", "text/csv", "text/csv").status == 500
    # ...while the caller's mistakes are still the caller's.
    assert invoke(patient_server.url, "x", "text/csv", "text/csv").status == 400


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--artifact", "missing.tar.gz"], "artifact missing.tar.gz not found; build it first (make model)"),
        (["--env", "NO_EQUALS_SIGN"], "--env expects KEY=VALUE, got 'NO_EQUALS_SIGN'"),
    ],
)
def test_the_launcher_refuses_what_it_cannot_serve(arguments, message):
    completed = subprocess.run(
        [str(SERVING_PYTHON), "-m", "model_code.serving.launcher", *arguments],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert message in completed.stderr
