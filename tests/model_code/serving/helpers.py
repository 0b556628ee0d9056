"""Test artifacts with handlers of our choosing, and a plain HTTP client for the contract tests."""

from __future__ import annotations

import http.client
import tarfile
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from model_code.build import pack

SETOSA = "5.1,3.5,1.4,0.2"
VIRGINICA = "6.7,3.0,5.2,2.3"
VERSICOLOR = "5.9,3.0,4.2,1.5"


def deployed_environment(**server: str) -> dict[str, str]:
    """What SageMaker sets in our framework-image models' containers, plus the server settings
    given. With ``PIP_NO_BUILD_ISOLATION=false`` the start-up ``pip install`` of ``code/`` uses the
    image's setuptools instead of installing one into an isolated build environment: the start
    the deployed model gets, and about 2 s of CPU less per server than the image's default."""
    # Imported here: offline_start.py imports this module in a process that must not load CDK.
    from inference_constructs.inference_model import FRAMEWORK_CONTAINER_ENVIRONMENT

    return {**FRAMEWORK_CONTAINER_ENVIRONMENT, **server}


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
