"""Train the example model and pack a byte-reproducible ``model.tar.gz``.

    python -m model_code.build [--output model_code/dist/model.tar.gz]

The artifact holds ``model.joblib`` and ``code/inference.py`` (the layout the SageMaker
framework containers load). Fixed seeds, sorted entries, zeroed timestamps and owners and a
gzip header without a name or time make two builds identical to the byte.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "dist" / "model.tar.gz"
HANDLER = HERE / "code" / "inference.py"


def train() -> bytes:
    """Fit a small classifier on the iris data set that ships with scikit-learn."""
    features, labels = load_iris(return_X_y=True, as_frame=False)
    names = load_iris().target_names
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, random_state=0))
    model.fit(features, names[labels])
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    archive.addfile(info, io.BytesIO(data))


def pack(model: bytes, handler: bytes) -> bytes:
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in sorted({"model.joblib": model, "code/inference.py": handler}.items()):
            _add(archive, name, data)
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=9) as stream:
        stream.write(tar_bytes.getvalue())
    return compressed.getvalue()


def build(output: Path = DEFAULT_OUTPUT) -> str:
    """Write the artifact and return its sha256."""
    artifact = pack(train(), HANDLER.read_bytes())
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(artifact)
    return hashlib.sha256(artifact).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    digest = build(args.output)
    print(f"model: wrote {args.output} (sha256 {digest})")


if __name__ == "__main__":
    main()
