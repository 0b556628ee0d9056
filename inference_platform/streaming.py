"""Streaming a text-generation model's answer token by token: ``InvokeEndpointWithResponseStream``.

SageMaker sends the container's response as an event stream of ``PayloadPart`` events (and a
``ModelStreamError`` or ``InternalStreamFailure`` event if it fails midway, which botocore
raises as ``EventStreamError``): https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointWithResponseStream.html.
A part is a slice of bytes cut anywhere, so lines are reassembled before they are read.

The large-model containers stream one JSON object per line: Hugging Face TGI as server-sent
events (``data:{"token": {"text": ...}}``), LMI as JSON lines (``{"token": {"text": ...}}``).
Both are read here; a line of any other shape is passed on as text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from inference_core import outputs as output_keys
from inference_platform.deployed import DeployedEnvironment, NotDeployedError

SSE_DATA = "data:"


@dataclass(frozen=True)
class StreamTarget:
    endpoint_name: str

    @classmethod
    def of(cls, environment: DeployedEnvironment, model: str) -> StreamTarget:
        outputs = environment.model_outputs_with(model, output_keys.REALTIME_ENDPOINT_NAME)
        if output_keys.REALTIME_RESPONSE_STREAMING not in outputs:
            raise NotDeployedError(
                f"model {model}'s real-time endpoint does not stream (its image is not a text-generation Deep "
                "Learning Container); use the endpoint's own InvokeEndpoint instead"
            )
        return cls(outputs[output_keys.REALTIME_ENDPOINT_NAME])


def text_generation_request(prompt: str, max_new_tokens: int) -> bytes:
    """The request body TGI and LMI take for a streamed generation."""
    return json.dumps({"inputs": prompt, "parameters": {"max_new_tokens": max_new_tokens}, "stream": True}).encode()


def payload_parts(events: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The bytes of each ``PayloadPart`` event, in order (other events carry nothing to print)."""
    for event in events:
        part = event.get("PayloadPart")
        if part is not None:
            yield part["Bytes"]


def lines_of(parts: Iterable[bytes]) -> Iterator[str]:
    """Whole lines from byte slices cut anywhere (a multi-byte character may span two parts)."""
    buffer = b""
    for part in parts:
        buffer += part
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            yield line.decode("utf-8", errors="replace")
    if buffer:
        yield buffer.decode("utf-8", errors="replace")


def tokens_of(lines: Iterable[str]) -> Iterator[str]:
    """The text of each generated token: ``token.text`` of TGI's and LMI's lines, else the line itself."""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue  # server-sent events end each event with an empty line
        data = line.removeprefix(SSE_DATA).strip()
        try:
            event = json.loads(data)
        except json.JSONDecodeError:
            yield raw + "\n"
            continue
        token = event.get("token") if isinstance(event, dict) else None
        if isinstance(token, dict) and isinstance(token.get("text"), str):
            if not token.get("special", False):
                yield token["text"]
        elif isinstance(event, dict) and isinstance(event.get("generated_text"), str):
            yield event["generated_text"]
        else:
            yield data + "\n"


@dataclass
class StreamStats:
    """How a streamed generation went: tokens, time to the first one, and in all."""

    tokens: int = 0
    first_token_seconds: float | None = None
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def stream(
    runtime: Any,
    target: StreamTarget,
    body: bytes,
    *,
    on_token: Callable[[str], None],
    content_type: str = "application/json",
    clock: Callable[[], float] = time.monotonic,
) -> StreamStats:
    """Invoke ``target`` with a streamed response, handing each token to ``on_token`` as it arrives."""
    started = clock()
    response = runtime.invoke_endpoint_with_response_stream(
        EndpointName=target.endpoint_name, ContentType=content_type, Body=body
    )
    stats = StreamStats()
    for token in tokens_of(lines_of(payload_parts(response["Body"]))):
        if stats.first_token_seconds is None:
            stats.first_token_seconds = clock() - started
        stats.tokens += 1
        on_token(token)
    stats.seconds = clock() - started
    return stats
