"""Serve a packaged model locally with the SageMaker serving-container contract.

    python -m model_code.serve [--artifact model_code/dist/model.tar.gz] [--host 127.0.0.1]
                               [--port 8080] [--mode realtime|serverless|batch|async]
                               [--workers N] [--timeout S] [--code DIR] [--access-log]

Unpacks the artifact into a temporary directory (removed on exit), loads ``code/inference.py``
with the framework container's handler rules and answers ``GET /ping``,
``POST /invocations`` and ``GET /execution-parameters`` under the chosen mode's payload and
time limits. Stop it with Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from model_code.build import DEFAULT_OUTPUT
from model_code.serving.app import create_app, load_model, settings_from_environment
from model_code.serving.artifact import ArtifactError, unpack
from model_code.serving.handlers import DEFAULT_PROGRAM
from model_code.serving.modes import MODES
from model_code.serving.server import GunicornServer, gunicorn_options

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model_code.serve",
        description="Serve model.tar.gz locally the way a SageMaker framework container does.",
    )
    parser.add_argument("--artifact", type=Path, default=DEFAULT_OUTPUT, help="the model.tar.gz to serve")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (the containers listen on 8080)")
    parser.add_argument(
        "--mode",
        choices=sorted(MODES),
        default="realtime",
        help="whose limits to enforce: " + "; ".join(mode.description for mode in MODES.values()),
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes, each with its own model (default: one per CPU, as the containers do)",
    )
    parser.add_argument("--timeout", type=int, help="seconds an invocation may take (default: the mode's limit)")
    parser.add_argument(
        "--code",
        type=Path,
        help="use this directory as code/ instead of the artifact's (try a handler without repacking)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    return parser


def _print_banner(args: argparse.Namespace, mode: str, max_payload_mib: int, timeout: int) -> None:
    url = f"http://{args.host}:{args.port}"
    print(
        f"serving {args.artifact} as a {mode} container on {url} "
        f"(payload up to {max_payload_mib} MB, {timeout} s per invocation, {args.workers} worker(s))\n"
        f"  curl {url}/ping\n"
        f"  curl -H 'Content-Type: text/csv' -H 'Accept: text/csv' --data-binary $'5.1,3.5,1.4,0.2\\n' "
        f"{url}/invocations",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.workers < 1 or (args.timeout is not None and args.timeout < 1) or not 0 < args.port < 65536:
        print("error: --workers and --timeout must be at least 1 and --port within 1-65535", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s", stream=sys.stderr
    )
    mode = MODES[args.mode]
    timeout = args.timeout or mode.timeout_seconds
    program = os.environ.get("SAGEMAKER_PROGRAM") or DEFAULT_PROGRAM
    settings = settings_from_environment(mode, args.workers)

    directory = Path(tempfile.mkdtemp(prefix="model-"))
    owner = os.getpid()
    try:
        try:
            model_dir = unpack(args.artifact, directory, code_dir=args.code)
        except ArtifactError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        options = gunicorn_options(
            host=args.host,
            port=args.port,
            workers=args.workers,
            timeout=timeout,
            access_log=args.access_log,
            on_ready=lambda _: _print_banner(args, mode.name, mode.max_payload_mib, timeout),
        )
        GunicornServer(lambda: create_app(load_model(model_dir, program), settings), options).run()
    finally:
        # gunicorn's workers leave through sys.exit in forked copies of this frame: only the
        # process that unpacked the model may delete it.
        if os.getpid() == owner:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
