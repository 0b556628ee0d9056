"""Plumbing of the deploy round trip: a time budget, process groups, the emulator and the CDK CLI.

Everything here is bounded: one deadline covers the whole module, every subprocess runs in its
own process group with a timeout, and a watchdog kills whatever still runs when the budget is
spent, so a hung CLI or emulator fails the run instead of stalling CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.conftest import REPO_ROOT

# The whole module (emulator start, bootstrap, deploy, checks, update, destroy) must finish in this.
TIME_BUDGET_SECONDS = 900
ACCOUNT = "123456789012"  # moto's default account
# Not moto's default region, so the per-region image mapping is really resolved.
REGION = "eu-west-1"
ENVIRONMENT = "dev"
# Last lines of a failed command's output shown in the failure message.
OUTPUT_TAIL_LINES = 60


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the process and everything it started (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(text: str) -> str:
    return "\n".join(text.splitlines()[-OUTPUT_TAIL_LINES:])


class Deadline:
    """The module's time budget; a watchdog kills registered process groups when it runs out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self._processes: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self.expired = False
        self._watchdog = threading.Timer(seconds, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _expire(self) -> None:
        self.expired = True
        with self._lock:
            for process in self._processes:
                _kill_group(process)

    def register(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._processes.add(process)
        if self.expired:
            _kill_group(process)

    def unregister(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._processes.discard(process)

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            pytest.fail(f"the round trip's time budget of {self.seconds:.0f} s is spent")
        return left

    def timeout(self, limit: float) -> float:
        """``limit`` seconds, or less if the budget runs out first."""
        return min(limit, self.remaining())

    def cancel(self) -> None:
        self._watchdog.cancel()


def run(
    command: list[str], *, deadline: Deadline, limit: float, env: dict[str, str], cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in its own process group; kill the group on timeout and on return."""
    timeout = deadline.timeout(limit)
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline.register(process)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        output, _ = process.communicate()
        pytest.fail(f"`{' '.join(command)}` did not finish within {timeout:.0f} s:\n{_tail(output)}")
    finally:
        _kill_group(process)  # anything it left behind (node, the app's python)
        deadline.unregister(process)
    if deadline.expired:
        pytest.fail(f"the time budget ran out while `{' '.join(command)}` ran:\n{_tail(output)}")
    return subprocess.CompletedProcess(command, process.returncode, output, "")


def check(result: subprocess.CompletedProcess[str], emulator: Emulator) -> str:
    """The output of a command that must have succeeded; else its output and the emulator's log."""
    assert result.returncode == 0, (
        f"`{' '.join(result.args)}` exited {result.returncode}:\n{_tail(result.stdout)}\n"
        f"--- emulator log ---\n{emulator.log_tail()}"
    )
    return result.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Emulator:
    """A moto server on localhost, with the workarounds of ``moto_workarounds`` applied."""

    port: int
    log: Path

    @property
    def url(self) -> str:
        # localhost, not 127.0.0.1: moto reads the bucket from a template URL's path only then.
        return f"http://localhost:{self.port}"

    def environment(self) -> dict[str, str]:
        """Process environment for the CLI and clients: dummy credentials, this endpoint, no
        AWS configuration from the machine, no CDK network calls, no banners."""
        inherited = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CDK_"))}
        missing = str(self.log.parent / "no-aws-config")
        return {
            **inherited,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_CONFIG_FILE": missing,
            "AWS_SHARED_CREDENTIALS_FILE": missing,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DISABLE_VERSION_CHECK": "1",
            "CDK_DISABLE_CLI_TELEMETRY": "1",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "NODE_NO_WARNINGS": "1",
        }

    def client(self, service: str):
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        return session.client(
            service,
            endpoint_url=self.url,
            config=Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2}),
        )

    def moto_api(self, path: str, payload: dict) -> None:
        """POST to moto's own API (e.g. to queue the canned answers of invoked endpoints)."""
        request = urllib.request.Request(
            f"{self.url}/moto-api/{path}",
            data=json.dumps({"account_id": ACCOUNT, "region": REGION, **payload}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status in (200, 201), response.read()

    def log_tail(self) -> str:
        """The end of the emulator's log, without its one-line-per-request access log."""
        if not self.log.exists():
            return ""
        lines = self.log.read_text(errors="replace").splitlines()
        return _tail("\n".join(line for line in lines if not re.search(r'\] "[A-Z]+ \S+ HTTP/', line)))


@pytest.fixture(scope="module")
def deadline() -> Iterator[Deadline]:
    budget = Deadline(TIME_BUDGET_SECONDS)
    yield budget
    budget.cancel()


@pytest.fixture(scope="module")
def emulator(deadline: Deadline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """moto's server on a free localhost port, always stopped (process group) afterwards."""
    workdir = tmp_path_factory.mktemp("emulator")
    log = workdir / "moto.log"
    port = _free_port()
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.moto_workarounds", "--host", "localhost", "--port", str(port)],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline.register(process)
    emulator = Emulator(port=port, log=log)
    try:
        _wait_until_ready(emulator, process, deadline)
        yield emulator
    finally:
        _kill_group(process)
        process.wait(timeout=30)
        deadline.unregister(process)
        for _ in range(50):
            if not _listening(port):
                break
            time.sleep(0.1)
        assert not _listening(port), f"port {port} is still open after the emulator was stopped"


def _wait_until_ready(emulator: Emulator, process: subprocess.Popen, deadline: Deadline) -> None:
    give_up = time.monotonic() + deadline.timeout(60)
    while time.monotonic() < give_up:
        if process.poll() is not None:
            pytest.fail(f"the emulator exited with {process.returncode}:\n{emulator.log_tail()}")
        try:
            with urllib.request.urlopen(f"{emulator.url}/moto-api/", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"the emulator did not answer on {emulator.url} within 60 s:\n{emulator.log_tail()}")


@dataclass
class CdkCli:
    """The project's pinned CDK CLI, pointed at the emulator, writing its assembly to a temp dir."""

    emulator: Emulator
    deadline: Deadline
    outdir: Path

    def __call__(self, *arguments: str, limit: float = 420, **context: str) -> str:
        context_arguments = [part for key, value in context.items() for part in ("-c", f"{key}={value}")]
        command = [
            "npx",
            "--no-install",
            "cdk",
            *arguments,
            "--no-notices",
            "--output",
            str(self.outdir),
            "-c",
            f"environments={ENVIRONMENT}",
            *context_arguments,
        ]
        return check(run(command, deadline=self.deadline, limit=limit, env=self.emulator.environment()), self.emulator)


@pytest.fixture(scope="module")
def cdk(emulator: Emulator, deadline: Deadline, tmp_path_factory: pytest.TempPathFactory) -> CdkCli:
    return CdkCli(emulator=emulator, deadline=deadline, outdir=tmp_path_factory.mktemp("cdk.out"))
