"""Inference handler for the SageMaker scikit-learn serving container.

Packed as ``code/inference.py`` inside ``model.tar.gz``. The container calls, per request,
``input_fn`` -> ``predict_fn`` -> ``output_fn``, after ``model_fn`` once at start-up.

Requests:  ``text/csv`` (one row per line, four numeric features) or ``application/json``
           (``{"instances": [[...], ...]}``, a list of rows, or one row).
Responses: ``text/csv`` (one label per input line, so batch transform's
           ``AssembleWith: Line`` reassembles correctly) or ``application/json``
           (``{"predictions": [...]}``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from typing import Any

import joblib
import numpy as np

MODEL_FILE = "model.joblib"
FEATURE_COUNT = 4
CSV = "text/csv"
JSON = "application/json"

try:  # Inside the container, its ClientError turns into an HTTP 400 instead of a 500.
    from sagemaker_containers.beta.framework.errors import ClientError as _ContainerClientError
except ImportError:  # pragma: no cover - exercised only inside the container
    _ContainerClientError = ValueError  # type: ignore[assignment,misc]


class BadRequestError(_ContainerClientError):  # type: ignore[misc,valid-type]
    """The payload is malformed: the caller must fix it (HTTP 400)."""

    status_code = 400


class UnsupportedMediaTypeError(BadRequestError):
    """The content type or accept type is not one this model speaks (HTTP 415 / 406)."""

    def __init__(self, message: str, status_code: int = 415) -> None:
        super().__init__(message)
        self.status_code = status_code


def model_fn(model_dir: str) -> Any:
    return joblib.load(os.path.join(model_dir, MODEL_FILE))


def _media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def _rows_from_csv(body: str) -> list[list[float]]:
    rows = []
    for number, record in enumerate(csv.reader(io.StringIO(body)), start=1):
        if not record or all(not cell.strip() for cell in record):
            continue  # blank lines are not records
        rows.append(_row(record, f"line {number}"))
    return rows


def _row(values: Any, where: str) -> list[float]:
    if not isinstance(values, (list, tuple)) or len(values) != FEATURE_COUNT:
        raise BadRequestError(f"{where}: expected {FEATURE_COUNT} numeric features, got {values!r}")
    try:
        row = [float(value) for value in values]
    except (TypeError, ValueError):
        raise BadRequestError(f"{where}: features must be numbers, got {values!r}") from None
    if not all(math.isfinite(value) for value in row):
        raise BadRequestError(f"{where}: features must be finite numbers, got {values!r}")
    return row


def _rows_from_json(body: str) -> list[list[float]]:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise BadRequestError(f"invalid JSON: {error}") from None
    if isinstance(document, dict):
        if "instances" not in document:
            raise BadRequestError('expected {"instances": [[...], ...]}')
        document = document["instances"]
    if isinstance(document, list) and document and not isinstance(document[0], list):
        document = [document]  # a single row
    if not isinstance(document, list):
        raise BadRequestError("expected a list of rows")
    return [_row(values, f"instance {index}") for index, values in enumerate(document)]


def input_fn(request_body: str | bytes, content_type: str) -> np.ndarray:
    if isinstance(request_body, bytes):
        try:
            request_body = request_body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequestError("payload is not UTF-8 text") from None
    media_type = _media_type(content_type)
    if media_type == CSV:
        rows = _rows_from_csv(request_body)
    elif media_type == JSON:
        rows = _rows_from_json(request_body)
    else:
        raise UnsupportedMediaTypeError(f"unsupported content type {content_type!r}; use {CSV} or {JSON}")
    if not rows:
        raise BadRequestError("payload holds no records")
    return np.asarray(rows, dtype=float)


def predict_fn(input_data: np.ndarray, model: Any) -> np.ndarray:
    return model.predict(input_data)


def output_fn(prediction: np.ndarray, accept: str) -> tuple[str, str]:
    media_type = _media_type(accept)
    if media_type in ("", "*/*"):
        media_type = CSV
    labels = [str(label) for label in prediction.tolist()]
    if media_type == CSV:
        return "".join(f"{label}\n" for label in labels), CSV
    if media_type == JSON:
        return json.dumps({"predictions": labels}), JSON
    raise UnsupportedMediaTypeError(f"unsupported accept type {accept!r}; use {CSV} or {JSON}", status_code=406)
