"""Start ``python -m model_code.serve`` on a free loopback port, wait until it answers, stop it.

Used by the contract tests and the load benchmark; usable from any test of your own:

    with LocalServer(Path("model_code/dist/model.tar.gz"), mode="serverless") as server:
        urllib.request.urlopen(server.url + "/ping")
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from model_code.serving.modes import MODES

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class ServerFailedToStart(RuntimeError):
    """The server exited, or did not answer /ping, before the start-up deadline."""


class LocalServer:
    """A local model server in a child process, with its log captured to a file."""

    def __init__(
        self,
        artifact: Path,
        *,
        mode: str = "realtime",
        workers: int = 1,
        timeout: int | None = None,
        code_dir: Path | None = None,
        access_log: bool = False,
        startup_seconds: float = 60.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; allowed: {', '.join(MODES)}")
        self.artifact = artifact
        self.mode = mode
        self.workers = workers
        self.timeout = timeout
        self.code_dir = code_dir
        self.access_log = access_log
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
        command = [sys.executable, "-m", "model_code.serve", "--artifact", str(self.artifact)]
        command += ["--host", HOST, "--port", str(self.port), "--mode", self.mode, "--workers", str(self.workers)]
        if self.timeout is not None:
            command += ["--timeout", str(self.timeout)]
        if self.code_dir is not None:
            command += ["--code", str(self.code_dir)]
        if self.access_log:
            command.append("--access-log")
        return command

    def log(self) -> str:
        """Everything the server has logged so far (kept after it stopped)."""
        if self._final_log is not None:
            return self._final_log
        return self.log_path.read_text(errors="replace")

    def start(self) -> LocalServer:
        self.port = free_port()
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            self.command(), cwd=REPOSITORY_ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailedToStart(f"server exited with {self.process.returncode}:\n{self.log()}")
            if self.ping() is not None:
                return self
            time.sleep(0.1)
        self.stop()
        raise ServerFailedToStart(f"server did not answer /ping within {self.startup_seconds} s:\n{self.log()}")

    def ping(self) -> int | None:
        """The /ping status, or None while nothing answers."""
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as response:  # noqa: S310 - loopback URL
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return None

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful shutdown), then SIGKILL if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
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
