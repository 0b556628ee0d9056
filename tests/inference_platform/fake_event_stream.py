"""A local fake of SageMaker's response event stream: real AWS event-stream frames, served to
botocore's own parser through its ``before-send`` hook, so no endpoint (or network) is used.

Frame layout (AWS event stream encoding, which botocore.eventstream decodes): total length,
headers length, prelude CRC32, headers (name, type 7 = string, value), payload, message CRC32.
"""

from __future__ import annotations

import binascii
import json
import struct
from collections.abc import Iterator
from typing import Any

from botocore.awsrequest import AWSResponse


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b"".join(
        bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
        for name, value in headers.items()
    )
    prelude = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack(">I", binascii.crc32(message))


def payload_part(data: bytes) -> bytes:
    headers = {":event-type": "PayloadPart", ":message-type": "event", ":content-type": "application/octet-stream"}
    return frame(headers, data)


def model_stream_error(message: str) -> bytes:
    headers = {":exception-type": "ModelStreamError", ":message-type": "exception", ":content-type": "application/json"}
    return frame(headers, json.dumps({"Message": message, "ErrorCode": "ModelError"}).encode())


class _Raw:
    """What botocore reads an event stream from: ``stream()`` yielding chunks of any size."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self._data, self._chunk = data, chunk

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        for start in range(0, len(self._data), self._chunk):
            yield self._data[start : start + self._chunk]

    def close(self) -> None:
        pass


def serve(client: Any, frames: list[bytes], *, chunk: int = 7) -> list[dict[str, Any]]:
    """Answer ``client``'s next InvokeEndpointWithResponseStream calls with ``frames`` (cut into
    ``chunk``-byte reads); the returned list records each request's parameters."""
    requests: list[dict[str, Any]] = []

    def respond(request: Any, **_: Any) -> AWSResponse:
        requests.append({"url": request.url, "body": request.body, "headers": dict(request.headers)})
        headers = {
            "Content-Type": "application/vnd.amazon.eventstream",
            "X-Amzn-SageMaker-Content-Type": "text/event-stream",
        }
        return AWSResponse(request.url, 200, headers, _Raw(b"".join(frames), chunk))

    # First, ahead of anything else answering requests (moto, in tests that also use it).
    client.meta.events.register_first("before-send.sagemaker-runtime.InvokeEndpointWithResponseStream", respond)
    return requests
