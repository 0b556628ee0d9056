"""Unpack a ``model.tar.gz`` the way SageMaker lays it out under ``/opt/ml/model``."""

from __future__ import annotations

import logging
import shutil
import tarfile
from pathlib import Path

logger = logging.getLogger("model_code.serving")


class ArtifactError(ValueError):
    """The artifact cannot be unpacked into a servable model directory."""


def unpack(artifact: Path, destination: Path, *, code_dir: Path | None = None) -> Path:
    """Extract ``artifact`` into ``destination`` and return it (the ``model_dir`` handed to ``model_fn``).

    ``code_dir``, if given, replaces the artifact's ``code/`` directory, so a handler can be
    tried without repacking the model.
    """
    if not artifact.is_file():
        raise ArtifactError(f"artifact {artifact} not found; build it first (make model)")
    try:
        with tarfile.open(artifact) as archive:
            # The "data" filter refuses absolute paths, links out of the tree and device files.
            archive.extractall(destination, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise ArtifactError(f"cannot unpack {artifact}: {error}") from None
    if code_dir is not None:
        if not code_dir.is_dir():
            raise ArtifactError(f"code directory {code_dir} not found")
        shutil.rmtree(destination / "code", ignore_errors=True)
        shutil.copytree(code_dir, destination / "code", ignore=shutil.ignore_patterns("__pycache__"))
    requirements = destination / "code" / "requirements.txt"
    if requirements.is_file():
        # The container pip-installs these at start-up; locally they must already be installed.
        logger.warning("%s is not installed by the local server; install it into this environment", requirements)
    return destination
