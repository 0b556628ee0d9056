"""Test artifacts with handlers of our choosing, and a plain HTTP client for the contract tests."""

from __future__ import annotations

import http.client
import tarfile
import textwrap
import types
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from model_code.build import pack

SETOSA = "5.1,3.5,1.4,0.2"
VIRGINICA = "6.7,3.0,5.2,2.3"
VERSICOLOR = "5.9,3.0,4.2,1.5"

MODEL_FN_ONLY = """
import os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
"""

# A handler with bugs on demand: the first word of the body picks what goes wrong.
FAULTY = """
import os
import time

import joblib


class QuotaExceeded(Exception):
    status_code = 429


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    return body.strip()


def predict_fn(command, model):
    if command == "crash":
        raise RuntimeError("handler bug on purpose")
    if command == "quota":
        raise QuotaExceeded("too many requests for this tenant")
    if command == "hang":
        time.sleep(600)
    if command == "wrong-type":
        return {"not": "serializable by output_fn"}
    return command


def output_fn(prediction, accept):
    if isinstance(prediction, dict):
        return prediction
    return prediction, "text/plain"
"""

NO_MODEL_FN = """
def predict_fn(data, model):
    return data
"""


def module(**functions: object) -> types.ModuleType:
    """A stand-in for an imported inference.py defining exactly ``functions``."""
    built = types.ModuleType("inference")
    for name, function in functions.items():
        setattr(built, name, function)
    return built


def model_bytes(artifact: Path) -> bytes:
    with tarfile.open(artifact) as archive:
        member = archive.extractfile("model.joblib")
        assert member is not None
        return member.read()


def artifact_with_handler(directory: Path, shipped_artifact: Path, name: str, source: str) -> Path:
    """The shipped model packed with another ``code/inference.py``."""
    path = directory / f"{name}.tar.gz"
    path.write_bytes(pack(model_bytes(shipped_artifact), textwrap.dedent(source).encode()))
    return path


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def request(
    url: str,
    method: str,
    path: str,
    body: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Answer:
    """One request with exactly the headers given (urllib would add a Content-Type of its own)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        chunked = body is not None and not isinstance(body, bytes)
        connection.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def invoke(
    url: str, body: str | bytes, content_type: str | None = "text/csv", accept: str | None = "text/csv"
) -> Answer:
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if accept is not None:
        headers["Accept"] = accept
    return request(url, "POST", "/invocations", body.encode() if isinstance(body, str) else body, headers)
