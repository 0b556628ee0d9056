"""The inference handler, on good and bad payloads, through the container's four functions."""

from __future__ import annotations

import json

import numpy as np
import pytest


def invoke(handler, model, body, content_type="text/csv", accept="text/csv"):
    return handler.output_fn(handler.predict_fn(handler.input_fn(body, content_type), model), accept)


SETOSA = "5.1,3.5,1.4,0.2"
VIRGINICA = "6.7,3.0,5.2,2.3"


def test_single_csv_row(handler, model):
    body, content_type = invoke(handler, model, SETOSA)
    assert (body, content_type) == ("setosa\n", "text/csv")


def test_multi_record_csv_gives_one_line_per_input_line(handler, model):
    rows = [SETOSA, VIRGINICA, SETOSA, VIRGINICA, "5.9,3.0,4.2,1.5"]
    body, _ = invoke(handler, model, ("\n".join(rows) + "\n").encode())
    lines = body.splitlines()
    assert len(lines) == len(rows)
    assert lines[:2] == ["setosa", "virginica"]


def test_json_instances_and_json_answer(handler, model):
    body, content_type = invoke(
        handler,
        model,
        json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}),
        content_type="application/json",
        accept="application/json",
    )
    assert content_type == "application/json"
    assert json.loads(body) == {"predictions": ["setosa", "virginica"]}


def test_json_single_row_and_charset_parameter(handler, model):
    body, _ = invoke(handler, model, "[6.7, 3.0, 5.2, 2.3]", content_type="application/json; charset=utf-8")
    assert body == "virginica\n"


def test_default_accept_is_csv(handler, model):
    assert invoke(handler, model, SETOSA, accept="*/*")[1] == "text/csv"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("1,2,3", "text/csv", "line 1: expected 4 numeric features"),
        ("5.1,3.5,abc,0.2", "text/csv", "features must be numbers"),
        ("5.1,3.5,nan,0.2", "text/csv", "finite numbers"),
        ("", "text/csv", "holds no records"),
        ("{not json", "application/json", "invalid JSON"),
        ('{"rows": []}', "application/json", '{"instances"'),
        ('"text"', "application/json", "expected a list of rows"),
        (b"\xff\xfe", "text/csv", "not UTF-8"),
    ],
)
def test_bad_payloads_are_client_errors(handler, body, content_type, expected):
    with pytest.raises(handler.BadRequestError, match=expected) as raised:
        handler.input_fn(body, content_type)
    assert raised.value.status_code == 400


def test_unsupported_content_type_is_415(handler):
    with pytest.raises(handler.UnsupportedMediaTypeError) as raised:
        handler.input_fn("x", "application/x-npy")
    assert raised.value.status_code == 415


def test_unsupported_accept_is_406(handler):
    with pytest.raises(handler.UnsupportedMediaTypeError) as raised:
        handler.output_fn(np.asarray(["setosa"]), "application/xml")
    assert raised.value.status_code == 406
