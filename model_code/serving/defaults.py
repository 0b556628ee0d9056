"""The scikit-learn serving container's default handlers, used for any function ``inference.py`` omits.

They follow the container's behaviour (``sagemaker_sklearn_container.serving`` on top of
``sagemaker_containers``), so that what works or fails here works or fails there:

- there is no default ``model_fn``: the container refuses to serve without one;
- ``input_fn`` decodes ``application/json``, ``text/csv`` and ``application/x-npy`` into a
  numpy array (JSON and CSV as float32); like the container, a CSV body is *squeezed*, so a
  single row becomes a 1-D array, which scikit-learn's ``predict`` rejects: define your own
  ``input_fn`` if clients send one row at a time;
- ``predict_fn`` calls ``model.predict``;
- ``output_fn`` encodes to the exact ``Accept`` type (JSON, CSV or NPY).

Two deliberate differences, both on the side of caution: an undecodable body is a 400 here
(the container answers 500), and NPY bodies are loaded without pickle support (the
container allows pickles, which lets a request run code).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
# The container hands these bodies to input_fn as text (decoded as UTF-8), others as bytes.
TEXT_TYPES = (JSON, CSV)


class DefaultHandlerError(Exception):
    """A request the default handlers cannot serve; ``status_code`` says why."""

    status_code = 400


class UnsupportedFormatError(DefaultHandlerError):
    """No default decoder (415) or encoder (406) for the media type."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


def default_model_fn(model_dir: str) -> Any:
    raise NotImplementedError(
        f"inference.py defines no model_fn: the scikit-learn container has no default model loader. "
        f"Add model_fn(model_dir) returning the model loaded from {model_dir}."
    )


def _text(data: str | bytes) -> str:
    return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data


def _csv_to_array(data: str | bytes) -> np.ndarray:
    rows = list(csv.reader(io.StringIO(_text(data)), delimiter=",", quotechar='"', doublequote=True, strict=True))
    return np.array(rows).squeeze()


def _json_to_array(data: str | bytes) -> np.ndarray:
    return np.array(json.loads(_text(data)))


def _npy_to_array(data: str | bytes) -> np.ndarray:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return np.load(io.BytesIO(raw), allow_pickle=False)


DECODERS: dict[str, Callable[[str | bytes], np.ndarray]] = {
    CSV: _csv_to_array,
    JSON: _json_to_array,
    NPY: _npy_to_array,
}


def default_input_fn(input_data: str | bytes, content_type: str) -> np.ndarray:
    decoder = DECODERS.get(content_type)
    if decoder is None:
        raise UnsupportedFormatError(
            f"the default input_fn cannot decode {content_type!r}; it reads {', '.join(DECODERS)} "
            "(define input_fn in inference.py for other types)",
            status_code=415,
        )
    try:
        array = decoder(input_data)
        return array.astype(np.float32) if content_type in TEXT_TYPES else array
    except (ValueError, TypeError, csv.Error) as error:
        raise DefaultHandlerError(f"cannot decode the {content_type} body as a numeric array: {error}") from None


def default_predict_fn(input_data: Any, model: Any) -> Any:
    return model.predict(input_data)


def _array_to_json(prediction: Any) -> str:
    return json.dumps(np.asarray(prediction).tolist())


def _array_to_csv(prediction: Any) -> str:
    array = np.asarray(prediction)
    if array.ndim == 1:
        array = array.reshape(-1, 1)  # one value per line, as the container writes it
    stream = io.StringIO()
    csv.writer(stream, lineterminator="\n", delimiter=",", quotechar='"', doublequote=True, strict=True).writerows(
        array.tolist()
    )
    return stream.getvalue()


def _array_to_npy(prediction: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(prediction), allow_pickle=False)
    return buffer.getvalue()


ENCODERS: dict[str, Callable[[Any], str | bytes]] = {CSV: _array_to_csv, JSON: _array_to_json, NPY: _array_to_npy}


def default_output_fn(prediction: Any, accept: str) -> tuple[str | bytes, str]:
    encoder = ENCODERS.get(accept)
    if encoder is None:
        raise UnsupportedFormatError(
            f"the default output_fn cannot answer in {accept!r}; it writes {', '.join(ENCODERS)} "
            "(the Accept header must be exactly one of them)",
            status_code=406,
        )
    return encoder(prediction), accept
