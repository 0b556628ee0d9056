"""Start AWS's serving stack on a free loopback port, wait until it answers, stop it.

Used by the contract tests and the load benchmark; usable from any test of your own:

    with LocalServer(Path("model_code/dist/model.tar.gz")) as server:
        urllib.request.urlopen(server.url + "/ping")

The server is ``model_code.serving.launcher`` run by ``.venv-serving``'s Python 3.10 (``make``
builds that environment from ``requirements-serving.txt``, the image's pins).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
SERVING_PYTHON = REPOSITORY_ROOT / ".venv-serving" / "bin" / "python"
SERVING_READY = REPOSITORY_ROOT / ".venv-serving" / ".installed"
HOST = "127.0.0.1"


def serving_environment_missing() -> str | None:
    """Why the serving stack cannot run here, or None when it can."""
    if SERVING_READY.is_file() and SERVING_PYTHON.is_file():
        return None
    return (
        f"{SERVING_READY.parent.name} is not set up: `make` builds it with Python 3.10, the image's Python, "
        "which was not found on this machine (install python3.10 or pyenv's 3.10, then run make test)"
    )


def free_port() -> int:
    """A port nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class ServerFailedToStart(RuntimeError):
    """The server exited, or did not answer /ping, before the start-up deadline."""


class LocalServer:
    """The image's serving stack in a child process group, with its log captured to a file.

    :param environment: Container environment variables (what a SageMaker model's
        ``Environment`` sets), e.g. ``SAGEMAKER_MODEL_SERVER_WORKERS``.
    :param process_environment: Replaces this process's environment for the child (e.g. to
        take pip's index away); by default the child inherits it.
    """

    def __init__(
        self,
        artifact: Path,
        *,
        environment: Mapping[str, str] | None = None,
        code_dir: Path | None = None,
        process_environment: Mapping[str, str] | None = None,
        wrapper: list[str] | None = None,
        startup_seconds: float = 120.0,
    ) -> None:
        self.artifact = artifact
        self.environment = dict(environment or {})
        self.code_dir = code_dir
        self.process_environment = dict(process_environment) if process_environment is not None else None
        self.wrapper = list(wrapper or [])
        self.startup_seconds = startup_seconds
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="model-server-", suffix=".log", delete=False)
        self.log_path = Path(self._log.name)
        self._final_log: str | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        command = [*self.wrapper, str(SERVING_PYTHON), "-m", "model_code.serving.launcher"]
        command += ["--artifact", str(self.artifact), "--host", HOST, "--port", str(self.port)]
        if self.code_dir is not None:
            command += ["--code", str(self.code_dir)]
        for key, value in sorted(self.environment.items()):
            command += ["--env", f"{key}={value}"]
        return command

    def log(self) -> str:
        """Everything the server has logged so far (kept after it stopped)."""
        if self._final_log is not None:
            return self._final_log
        return self.log_path.read_text(errors="replace")

    def start(self) -> LocalServer:
        missing = serving_environment_missing()
        if missing is not None:
            raise ServerFailedToStart(missing)
        self.port = free_port()
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            self.command(),
            cwd=REPOSITORY_ROOT,
            env=self.process_environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: stop() reaches gunicorn and its workers
        )
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise ServerFailedToStart(f"server exited with {self.process.returncode}:\n{self.log()}")
            if self.ping() is not None:
                return self
            time.sleep(0.2)
        self.stop()
        raise ServerFailedToStart(f"server did not answer /ping within {self.startup_seconds} s:\n{self.log()}")

    def ping(self) -> int | None:
        """The /ping status, or None while nothing answers."""
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=5) as response:  # noqa: S310 - loopback URL
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return None

    def stop(self) -> None:
        """SIGTERM (the library stops gunicorn), then SIGKILL to the whole group if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process is not None:
            try:  # workers left behind by a launcher that died first
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._final_log is None:
            self._log.close()
            self._final_log = self.log()
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
