"""The WSGI application: the HTTP contract of a SageMaker serving container.

- ``GET /ping``: 200 with an empty body once the model is loaded; 503 (with the reason) if
  loading failed, which is what makes SageMaker give up on a container.
- ``POST /invocations``: the body goes through the resolved handlers with the request's
  content type and accept type, following the container's rules: ``Content-Type`` (or
  ``ContentType``) defaults to ``application/json``; a missing or ``*/*`` ``Accept`` becomes
  ``$SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` (``application/json``); JSON and CSV bodies
  reach the handler as text, other types as bytes.
- ``GET /execution-parameters``: what batch transform should send this container.

Errors: a body over the mode's limit is a 413; an exception carrying an HTTP
``status_code`` (as the handler's own errors do) becomes that status; anything else the
handler raises is a 500 whose traceback is logged. Error bodies are JSON
``{"error": ..., "message": ...}`` and never carry a traceback.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from model_code.serving.defaults import JSON, TEXT_TYPES
from model_code.serving.handlers import DEFAULT_PROGRAM, Handlers, load_handlers
from model_code.serving.modes import ADVERTISED_BATCH_PAYLOAD_MIB, MIB, ServingMode

logger = logging.getLogger("model_code.serving")

# A rejected body is still read and thrown away up to this much, so the client gets the
# 413 instead of a connection reset while it is still sending. Beyond it the connection
# is closed (the client sent several times what the mode allows).
DRAIN_LIMIT_FACTOR = 2
DRAIN_CHUNK = MIB


@dataclass(frozen=True)
class ServerSettings:
    """What the application needs to know about how it is being served."""

    mode: ServingMode
    workers: int
    default_accept: str = JSON


@dataclass
class LoadedModel:
    handlers: Handlers | None = None
    model: Any = None
    error: str | None = None


def load_model(model_dir: Path, program: str = DEFAULT_PROGRAM) -> LoadedModel:
    """Resolve the handlers and call ``model_fn`` once; a failure is kept to answer /ping with."""
    try:
        handlers = load_handlers(model_dir / "code", program)
        logger.info(handlers.describe())
        model = handlers.model_fn(str(model_dir))
    except Exception as error:
        logger.exception("the model failed to load; /ping answers 503")
        return LoadedModel(error=f"{type(error).__name__}: {error}")
    logger.info("model loaded from %s", model_dir)
    return LoadedModel(handlers=handlers, model=model)


def _error(status: int, error: str, message: str) -> Response:
    response = jsonify(error=error, message=message)
    response.status_code = status
    return response


def _status_of(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) and 400 <= status <= 599 else None


def _as_response(result: Any, accept: str) -> Response:
    """Turn what output_fn/transform_fn returned into a response, as the container does."""
    if isinstance(result, Response):
        return result
    body, content_type = result if isinstance(result, tuple) and len(result) == 2 else (result, accept)
    if not isinstance(body, (str, bytes, bytearray)):
        raise TypeError(
            "output_fn/transform_fn must return str or bytes, a (body, content_type) tuple or a Response; "
            f"got {type(body).__name__}"
        )
    return Response(body, mimetype=content_type)


def _read_body(limit: int) -> bytes:
    """The request body, or RequestEntityTooLarge past ``limit`` bytes.

    Read here rather than through Flask's MAX_CONTENT_LENGTH: werkzeug stops a chunked body
    silently at the limit instead of rejecting it. gunicorn ends the stream at the declared
    Content-Length or the last chunk.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise RequestEntityTooLarge()
    stream = request.environ["wsgi.input"]
    body = bytearray()
    while len(body) <= limit:
        chunk = stream.read(min(DRAIN_CHUNK, limit + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return bytes(body)


def _drain(limit: int) -> None:
    stream = request.environ["wsgi.input"]
    remaining = min(request.content_length or limit, limit)
    while remaining > 0:
        chunk = stream.read(min(DRAIN_CHUNK, remaining))
        if not chunk:
            break
        remaining -= len(chunk)


def create_app(loaded: LoadedModel, settings: ServerSettings) -> Flask:
    """The Flask application serving one loaded model under one mode's limits."""
    app = Flask("model_code.serving")
    mode = settings.mode

    @app.get("/ping")
    def ping() -> Response:
        if loaded.error is not None:
            return _error(503, "ModelNotLoaded", loaded.error)
        return Response(status=200, mimetype="text/plain")

    @app.get("/execution-parameters")
    def execution_parameters() -> Response:
        if loaded.handlers is not None and loaded.handlers.execution_parameters_fn is not None:
            result = loaded.handlers.execution_parameters_fn()
            return result if isinstance(result, Response) else jsonify(result)
        return jsonify(
            MaxConcurrentTransforms=settings.workers,
            BatchStrategy="MULTI_RECORD",
            MaxPayloadInMB=min(ADVERTISED_BATCH_PAYLOAD_MIB, mode.max_payload_mib),
        )

    @app.post("/invocations")
    def invocations() -> Response:
        if loaded.handlers is None:
            return _error(503, "ModelNotLoaded", loaded.error or "the model is not loaded")
        content_type = request.headers.get("ContentType") or request.headers.get("Content-Type") or JSON
        accept = request.headers.get("Accept")
        if not accept or accept == "*/*":
            accept = settings.default_accept
        body = _read_body(mode.max_payload_bytes)
        content = body.decode("utf-8", errors="replace") if content_type in TEXT_TYPES else body
        try:
            result = loaded.handlers.transform(loaded.model, content, content_type, accept)
            return _as_response(result, accept)
        except Exception as error:
            status = _status_of(error) or 500
            if status >= 500:
                logger.error("invocation failed with %d: %s", status, error, exc_info=True)
            else:
                logger.warning("invocation rejected with %d: %s", status, error)
            return _error(status, type(error).__name__, str(error))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_: RequestEntityTooLarge) -> Response:
        declared = f"{request.content_length} bytes" if request.content_length is not None else "a chunked body"
        _drain(DRAIN_LIMIT_FACTOR * mode.max_payload_bytes)
        logger.warning("payload of %s rejected: over the %s limit", declared, mode.name)
        return _error(
            413,
            "PayloadTooLarge",
            f"payload of {declared} exceeds the {mode.name} limit of {mode.max_payload_mib} MB "
            f"({mode.max_payload_bytes} bytes)",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return _error(error.code or 500, type(error).__name__, error.description or "")

    return app


def settings_from_environment(mode: ServingMode, workers: int) -> ServerSettings:
    """Settings with the container's environment overrides applied."""
    return ServerSettings(
        mode=mode, workers=workers, default_accept=os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or JSON
    )
