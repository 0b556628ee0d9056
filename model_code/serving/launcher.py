"""Start AWS's serving stack on a model artifact, as the scikit-learn 1.4-2 image starts it.

    .venv-serving/bin/python -m model_code.serving.launcher [--artifact model_code/dist/model.tar.gz]
        [--host 127.0.0.1] [--port 8080] [--code DIR] [--env KEY=VALUE ...]

Runs in the Python 3.10 environment that ``make`` builds from ``requirements-serving.txt`` (the
image's pins). It lays the artifact out as SageMaker does (``<base>/model``, with
``SAGEMAKER_BASE_DIR`` pointing at a temporary ``<base>`` instead of ``/opt/ml``), sets the
environment the image and our model set, and calls the image's entry point, so the library's
own start-up runs: the copy of ``code/`` and its ``pip install .``, then gunicorn with gevent
workers, ``SAGEMAKER_MODEL_SERVER_TIMEOUT`` and ``SAGEMAKER_MODEL_SERVER_WORKERS``.

Why a launcher at all, and the only things it changes:
- nginx is skipped (``SAGEMAKER_USE_NGINX=false``, a switch of the library): it needs root to
  write ``/etc/sagemaker-nginx.conf`` and a fixed unix socket, so two servers could not run side
  by side. Without nginx the library binds gunicorn to ``0.0.0.0``; the launcher rewrites that
  one argument to ``--host`` (loopback by default), so nothing listens beyond this machine.
- the start-up ``pip install .`` goes to a per-run directory (``PIP_TARGET``) instead of the
  environment's own site-packages, so servers with different handlers do not overwrite each
  other's ``inference`` module.
- ``/opt/ml/...`` paths in ``--env`` values (``SAGEMAKER_SUBMIT_DIRECTORY``) point into
  ``<base>``, as ``SAGEMAKER_BASE_DIR`` does for the library's own paths.
SIGTERM stops gunicorn (the library's own handler), and the launcher removes its directory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import types
from typing import Any

DEFAULT_ARTIFACT = os.path.join("model_code", "dist", "model.tar.gz")
# What the image itself sets (docker/1.4-2/final/Dockerfile.cpu) and what our model sets for
# framework images (inference_constructs.inference_model.FRAMEWORK_CONTAINER_ENVIRONMENT).
IMAGE_ENVIRONMENT = {"SAGEMAKER_SERVING_MODULE": "model_code.serving.image_serving:main"}
MODEL_ENVIRONMENT = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_CONTAINER_LOG_LEVEL": "20"}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model_code.serving.launcher",
        description="Serve model.tar.gz with AWS's serving library, started as the scikit-learn image starts it.",
    )
    parser.add_argument("--artifact", default=DEFAULT_ARTIFACT, help="the model.tar.gz to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8080, help="port (the image listens on 8080)")
    parser.add_argument("--code", help="use this directory as the artifact's code/ (try a handler without repacking)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a container environment variable, e.g. SAGEMAKER_MODEL_SERVER_WORKERS=2 (repeatable)",
    )
    return parser


def unpack(artifact: str, model_dir: str, code_dir: str | None = None) -> None:
    """The artifact as SageMaker unpacks it into /opt/ml/model."""
    with tarfile.open(artifact) as archive:
        archive.extractall(model_dir, filter="data")  # no absolute paths or links out of the tree
    if code_dir is not None:
        shutil.rmtree(os.path.join(model_dir, "code"), ignore_errors=True)
        shutil.copytree(code_dir, os.path.join(model_dir, "code"), ignore=shutil.ignore_patterns("__pycache__"))


def bind_to(host: str, server_module: types.ModuleType) -> None:
    """Make the library's gunicorn command line bind ``host`` instead of ``0.0.0.0``."""
    real_popen = subprocess.Popen

    def popen(command: list[str], *args: Any, **kwargs: Any) -> subprocess.Popen:
        every_interface = "0.0.0.0:"  # what the library binds without nginx; replaced by host
        command = [
            host + ":" + part[len(every_interface) :] if part.startswith(every_interface) else part for part in command
        ]
        return real_popen(command, *args, **kwargs)

    # Only the library's server module sees the wrapper; subprocess itself is untouched.
    server_module.subprocess = types.SimpleNamespace(Popen=popen)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    extra: dict[str, str] = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --env expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        extra[key] = value
    if not os.path.isfile(args.artifact):
        print(f"error: artifact {args.artifact} not found; build it first (make model)", file=sys.stderr)
        return 2
    base_dir = tempfile.mkdtemp(prefix="sagemaker-")
    try:
        unpack(args.artifact, os.path.join(base_dir, "model"), args.code)
        site = os.path.join(base_dir, "site-packages")
        os.makedirs(site)
        os.environ.update(IMAGE_ENVIRONMENT)
        os.environ.update(MODEL_ENVIRONMENT)
        os.environ["SAGEMAKER_SUBMIT_DIRECTORY"] = os.path.join(base_dir, "model", "code")
        # The container's paths live under /opt/ml; here under the temporary base directory.
        os.environ.update(
            {
                key: base_dir + value[len("/opt/ml") :] if value.startswith("/opt/ml/") else value
                for key, value in extra.items()
            }
        )
        os.environ.update(
            SAGEMAKER_BASE_DIR=base_dir,
            SAGEMAKER_USE_NGINX="false",
            SAGEMAKER_BIND_TO_PORT=str(args.port),
            PIP_TARGET=site,
            PYTHONPATH=os.pathsep.join(filter(None, [site, os.environ.get("PYTHONPATH")])),
            # The library runs `gunicorn` from PATH, as the image has it in /usr/local/bin.
            PATH=os.pathsep.join(filter(None, [os.path.dirname(sys.executable), os.environ.get("PATH")])),
        )
        sys.path.insert(0, site)
        # Imported only now: the library reads SAGEMAKER_BASE_DIR and the rest at import time.
        from sagemaker_containers import _server

        from model_code.serving import image_serving

        bind_to(args.host, _server)
        print(
            f"serving {args.artifact} with sagemaker-containers on http://{args.host}:{args.port}\n"
            f"  curl http://{args.host}:{args.port}/ping",
            file=sys.stderr,
            flush=True,
        )
        image_serving.serving_entrypoint()
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
