"""The inference handler, on good and bad payloads, through ``transform_fn`` as the container calls it.

In-process and fast; ``tests/model_code/serving/test_contract.py`` runs the same handler in
AWS's real serving stack over HTTP."""

from __future__ import annotations

import json
from unittest.mock import ANY

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference_config.schema import HANDLER_ACCEPT_TYPES, HANDLER_CONTENT_TYPES


def invoke(handler, model, body, content_type="text/csv", accept="text/csv"):
    return handler.transform_fn(model, body, content_type, accept)


def assert_refused(response, status: int, error: str, message: str) -> None:
    """A returned response, which the serving library passes through (a raised error is a 500)."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert json.loads(response.get_data()) == {"error": error, "message": ANY}
    assert message in json.loads(response.get_data())["message"]


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


def test_any_accept_in_a_list_means_json_like_the_containers_default(handler, model):
    assert invoke(handler, model, SETOSA, accept="text/html, */*")[1] == "application/json"


def test_json_lines_in_and_out(handler, model):
    body, content_type = invoke(
        handler,
        model,
        '[5.1, 3.5, 1.4, 0.2]\n{"instances": [[6.7, 3.0, 5.2, 2.3]]}\n',
        content_type="application/jsonlines",
        accept="application/jsonlines",
    )
    assert content_type == "application/jsonlines"
    assert [json.loads(line) for line in body.splitlines()] == [{"prediction": "setosa"}, {"prediction": "virginica"}]


def test_several_json_documents_one_per_line_as_batch_line_split_sends_them(handler, model):
    body, _ = invoke(handler, model, "[5.1, 3.5, 1.4, 0.2]\n[6.7, 3.0, 5.2, 2.3]\n", content_type="application/json")
    assert body == "setosa\nvirginica\n"


def test_a_model_error_is_not_the_callers_and_is_raised(handler):
    class Broken:
        def predict(self, rows):
            raise RuntimeError("model bug")

    with pytest.raises(RuntimeError, match="model bug"):
        invoke(handler, Broken(), SETOSA)


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
def test_bad_payloads_are_client_errors(handler, model, body, content_type, expected):
    assert_refused(invoke(handler, model, body, content_type), 400, "CallerError", expected)


def test_unsupported_content_type_is_415(handler, model):
    assert_refused(invoke(handler, model, "x", "application/x-npy"), 415, "UnsupportedContentType", "application/x-npy")


def test_unsupported_accept_is_406_before_any_work(handler, model):
    # Refused on the accept alone: the body is not even parsed.
    response = invoke(handler, model, "not even csv", accept="application/xml")
    assert_refused(response, 406, "NotAcceptable", "application/xml")


def test_the_handler_and_the_batch_config_agree_on_content_types(handler):
    """inference_config.schema refuses at synth the batch types the handler does not speak: same lists."""
    assert (handler.CONTENT_TYPES, handler.ACCEPT_TYPES) == (HANDLER_CONTENT_TYPES, HANDLER_ACCEPT_TYPES)


# --- the fast CSV reader reads exactly what the line-by-line reader reads ----------------------

_CELLS = st.sampled_from(
    ["5.1", "-0.2", " 3.5", "1.4 ", "1e3", "1E-2", ".5", "7.", "+2", "1_0", "0x1p3", '"4.4"', '"1,2"', "",
     " ", "nan", "inf", "-Infinity", "abc", "#1", "1#", "1 2", "\t6"]
)  # fmt: skip
_NUMBERS = st.sampled_from(["5.1", "-0.2", "1e3", " 3.5", ".5"])
# Half the lines are well-formed rows, so most bodies mix good rows with one odd line.
_LINES = st.one_of(st.lists(_NUMBERS, min_size=4, max_size=4), st.lists(_CELLS, min_size=0, max_size=6)).map(",".join)
_BODIES = st.tuples(st.lists(_LINES, max_size=5), st.sampled_from(["\n", "\r\n"]), st.booleans()).map(
    lambda parts: parts[1].join(parts[0]) + (parts[1] if parts[2] else "")
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_BODIES)
def test_the_fast_csv_reader_answers_only_what_the_line_reader_answers_the_same(handler, body):
    """NumPy's reader takes plain numeric tables; every body it answers for, the line reader
    answers the same rows for, so neither results nor the 400s' reasons depend on which ran."""
    table = handler._csv_table(body)
    if table is not None:
        assert handler._csv_records(body) == table.tolist()


@pytest.mark.parametrize(
    "body",
    [f"{SETOSA}\n{VIRGINICA}\n", f"{SETOSA}\r\n\r\n{VIRGINICA}", f" {SETOSA}\n", "1e3,2,3,4\n"],
    ids=["plain", "crlf-blank-line", "leading-space", "exponent"],
)
def test_plain_numeric_tables_take_the_fast_reader(handler, body):
    """Otherwise the property above would hold with the fast reader never answering."""
    assert handler._csv_table(body) is not None
