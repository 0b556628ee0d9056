"""Run the application under gunicorn, as the SageMaker framework containers do.

The containers start gunicorn (behind nginx) with one worker per CPU and a worker timeout
of ``SAGEMAKER_MODEL_SERVER_TIMEOUT`` seconds; here the timeout defaults to the mode's
invocation limit. Each worker process calls ``model_fn`` once. A worker stuck in a handler
past the timeout is aborted by gunicorn's arbiter: the client gets a 500 at once, the
stuck stack is logged, and a fresh worker takes its place, so a connection never hangs.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

logger = logging.getLogger("model_code.serving")


def log_stuck_handler(worker: Any) -> None:
    """gunicorn's ``worker_abort`` hook: runs in the aborted worker, on top of the stuck frame."""
    stack = "".join(traceback.format_stack()[:-1])
    logger.error(
        "worker %s exceeded the %s s timeout and was aborted (the client got a 500); where it was stuck:\n%s",
        worker.pid,
        worker.cfg.timeout,  # worker.timeout is half of it: how often the worker checks in
        stack,
    )


class GunicornServer(BaseApplication):
    """gunicorn configured from code: no config file, no command line, no control socket."""

    def __init__(self, app_factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self._app_factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        assert self.cfg is not None
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # Called in each worker after the fork: every worker loads its own model.
        return self._app_factory()


def gunicorn_options(
    *,
    host: str,
    port: int,
    workers: int,
    timeout: int,
    access_log: bool,
    on_ready: Callable[[Any], None],
) -> dict[str, Any]:
    return {
        "bind": [f"{host}:{port}"],
        "workers": workers,
        # One request per worker at a time, as a CPU-bound model wants; the sync worker is
        # also the one whose timeout interrupts a stuck handler.
        "worker_class": "sync",
        "timeout": timeout,
        "graceful_timeout": 10,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "model_code.serve",
        "control_socket_disable": True,  # nothing written under $HOME or $XDG_RUNTIME_DIR
        "worker_abort": log_stuck_handler,
        "when_ready": on_ready,
    }
