"""Inference handler for the SageMaker scikit-learn serving container.

Packed as ``code/inference.py`` inside ``model.tar.gz``. The container calls ``model_fn`` once
per worker, then ``transform_fn(model, body, content_type, accept)`` per request.

Requests:  ``text/csv`` (one row per line, four numeric features), ``application/json``
           (``{"instances": [[...], ...]}``, a list of rows or one row; or one such document
           per line, which is what batch transform sends with ``SplitType: Line``) and
           ``application/jsonlines`` (one document per line).
Responses: ``text/csv`` (one label per input line, so batch transform's ``AssembleWith: Line``
           reassembles correctly), ``application/json`` (``{"predictions": [...]}``) or
           ``application/jsonlines`` (one ``{"prediction": ...}`` per record).

Why ``transform_fn`` and a returned response: the image's serving library
(``sagemaker_containers`` 2.8.6.post2) turns any exception a handler raises into HTTP 500 with
an HTML page, whatever the exception says. A caller's mistake must be a 4xx (SageMaker counts
5xx as ``Invocation5XXErrors``, our rollback alarm) with a reason the caller can read, so the
handler catches its own ``CallerError`` and *returns* a 4xx response, which the library passes
through unchanged. An error of the model itself (``model.predict`` raising) is left to raise:
that is a 500, as it should be.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import warnings
from typing import Any

import joblib
import numpy as np

MODEL_FILE = "model.joblib"
FEATURE_COUNT = 4
CSV = "text/csv"
JSON = "application/json"
JSON_LINES = "application/jsonlines"
# What this handler reads and writes. Batch configs are held to these at synth
# (inference_config.schema.HANDLER_CONTENT_TYPES; a test keeps the two equal).
CONTENT_TYPES = (CSV, JSON, JSON_LINES)
ACCEPT_TYPES = (CSV, JSON, JSON_LINES)


class CallerError(Exception):
    """The request is the caller's mistake; answered with ``status`` and a JSON reason."""

    status = 400


class UnsupportedContentType(CallerError):
    status = 415


class NotAcceptable(CallerError):
    status = 406


def model_fn(model_dir: str) -> Any:
    return joblib.load(os.path.join(model_dir, MODEL_FILE))


def _media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def _row(values: Any, where: str) -> list[float]:
    if not isinstance(values, (list, tuple)) or len(values) != FEATURE_COUNT:
        raise CallerError(f"{where}: expected {FEATURE_COUNT} numeric features, got {values!r}")
    try:
        row = [float(value) for value in values]
    except (TypeError, ValueError):
        raise CallerError(f"{where}: features must be numbers, got {values!r}") from None
    if not all(math.isfinite(value) for value in row):
        raise CallerError(f"{where}: features must be finite numbers, got {values!r}")
    return row


def _csv_table(body: str) -> np.ndarray | None:
    """The rows of a plain numeric CSV body, read by NumPy's C reader; None for anything else.

    Batch transform sends mini-batches of up to MaxPayloadInMB (100 MB): read line by line in
    Python, a 20 MB body took 4.5 s of CPU, NumPy's reader 0.4 s. It only answers when it read
    exactly what ``_csv_records`` would (a 4-column table of finite numbers); quoted cells,
    blank cells, bad values, wrong widths and empty bodies go to ``_csv_records``, which reads
    them the same way as before and says where the fault is."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty body warns; _csv_records says why it is refused
            table = np.loadtxt(io.StringIO(body), delimiter=",", dtype=float, comments=None, ndmin=2)
    except ValueError:
        return None
    if table.size == 0 or table.shape[1] != FEATURE_COUNT or not np.isfinite(table).all():
        return None
    return table


def _csv_records(body: str) -> list[list[float]]:
    rows = []
    for number, record in enumerate(csv.reader(io.StringIO(body)), start=1):
        if not record or all(not cell.strip() for cell in record):
            continue  # blank lines are not records
        rows.append(_row(record, f"line {number}"))
    return rows


def _rows_from_csv(body: str) -> np.ndarray | list[list[float]]:
    table = _csv_table(body)
    return table if table is not None else _csv_records(body)


def _rows_from_document(document: Any, where: str) -> list[list[float]]:
    if isinstance(document, dict):
        if "instances" not in document:
            raise CallerError(f'{where}: expected {{"instances": [[...], ...]}}, a list of rows or one row')
        document = document["instances"]
    if isinstance(document, list) and document and not isinstance(document[0], list):
        document = [document]  # a single row
    if not isinstance(document, list):
        raise CallerError(f"{where}: expected a list of rows")
    return [_row(values, f"{where}, instance {index}") for index, values in enumerate(document)]


def _rows_from_json_lines(body: str) -> list[list[float]]:
    rows = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError as error:
            raise CallerError(f"line {number}: invalid JSON: {error}") from None
        rows += _rows_from_document(document, f"line {number}")
    return rows


def _rows_from_json(body: str) -> list[list[float]]:
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        # Batch transform with SplitType Line sends several lines of a file in one request:
        # one JSON document per line.
        return _rows_from_json_lines(body)
    return _rows_from_document(document, "body")


def parse(body: str | bytes, content_type: str) -> np.ndarray:
    """The request's rows, or CallerError saying what is wrong with it."""
    media_type = _media_type(content_type)
    if media_type not in CONTENT_TYPES:
        raise UnsupportedContentType(
            f"unsupported content type {content_type!r}; use one of {', '.join(CONTENT_TYPES)}"
        )
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise CallerError("payload is not UTF-8 text") from None
    parsers = {CSV: _rows_from_csv, JSON: _rows_from_json, JSON_LINES: _rows_from_json_lines}
    rows = parsers[media_type](body)
    if len(rows) == 0:
        raise CallerError("payload holds no records")
    return np.asarray(rows, dtype=float)


def response_type(accept: str) -> str:
    """The first media type in ``accept`` this handler writes. The library has already turned
    a missing or ``*/*`` Accept into ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` (application/json)."""
    for part in accept.split(","):
        media_type = _media_type(part)
        if media_type in ACCEPT_TYPES:
            return media_type
        if media_type == "*/*":
            return JSON
    raise NotAcceptable(f"unsupported accept type {accept!r}; use one of {', '.join(ACCEPT_TYPES)}")


def serialize(prediction: np.ndarray, media_type: str) -> str:
    labels = [str(label) for label in prediction.tolist()]
    if media_type == CSV:
        return "".join(f"{label}\n" for label in labels)
    if media_type == JSON_LINES:
        return "".join(json.dumps({"prediction": label}) + "\n" for label in labels)
    return json.dumps({"predictions": labels})


def error_response(error: CallerError) -> Any:
    """A response object: the library passes it through with its status (see the module docstring)."""
    from werkzeug.wrappers import Response  # the container's Flask brings it

    body = json.dumps({"error": type(error).__name__, "message": str(error)})
    return Response(body, status=error.status, mimetype=JSON)


def transform_fn(model: Any, request_body: str | bytes, content_type: str, accept: str) -> Any:
    try:
        media_type = response_type(accept)  # refuse before doing the work
        rows = parse(request_body, content_type)
    except CallerError as error:
        return error_response(error)
    return serialize(model.predict(rows), media_type), media_type
