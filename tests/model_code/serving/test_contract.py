"""The shipped handler in AWS's own serving stack, over real HTTP on loopback.

The server is the scikit-learn 1.4-2 image's serving library (sagemaker-containers 2.8.6.post2,
Flask 1.1.1, gunicorn with gevent workers, Python 3.10) started as the image starts it
(``model_code.serving.launcher``), once per module, and stopped at the end. Every request
shape the platform sends is here: real-time CSV and JSON, batch transform's mini-batches,
the async client's files, and callers' mistakes, which must be 4xx with a JSON reason.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris

from inference_config.schema import HANDLER_CONTENT_TYPES
from inference_platform.async_client import guess_content_type
from model_code.serving.process import LocalServer, serving_environment_missing
from tests.model_code.serving.helpers import (
    SETOSA,
    VIRGINICA,
    deployed_environment,
    invoke,
    model_bytes,
    request,
)

pytestmark = pytest.mark.skipif(serving_environment_missing() is not None, reason=str(serving_environment_missing()))

MIB = 1024 * 1024
CSV, JSON, JSON_LINES = "text/csv", "application/json", "application/jsonlines"


@pytest.fixture(scope="module")
def reference_model(model_artifact):
    return joblib.load(io.BytesIO(model_bytes(model_artifact)))


@pytest.fixture(scope="module")
def iris():
    return load_iris().data


@pytest.fixture(scope="module")
def server(model_artifact):
    with LocalServer(model_artifact, environment=deployed_environment(SAGEMAKER_MODEL_SERVER_WORKERS="2")) as started:
        yield started


def expected_labels(reference_model, rows) -> list[str]:
    return [str(label) for label in reference_model.predict(np.asarray(rows, dtype=float))]


def csv_of(rows) -> str:
    return "".join(",".join(f"{value:g}" for value in row) + "\n" for row in rows)


def json_line(row) -> str:
    return json.dumps([float(value) for value in row]) + "\n"


def assert_caller_error(answer, status: int, message: str) -> None:
    """A 4xx with a JSON reason: never a 5xx (rollback alarm), never an HTML page."""
    assert answer.status == status, answer.text
    assert answer.content_type.startswith(JSON)
    reason = json.loads(answer.body)
    assert set(reason) == {"error", "message"}
    assert message in reason["message"]


# --- health -------------------------------------------------------------------------------


def test_ping_answers_200_with_an_empty_body(server):
    answer = request(server.url, "GET", "/ping")
    assert (answer.status, answer.body) == (200, b"")


def test_other_paths_are_404(server):
    assert request(server.url, "GET", "/nothing-here").status == 404


# --- real-time ----------------------------------------------------------------------------


def test_csv_in_csv_out_agrees_with_the_model_on_every_iris_row(server, reference_model, iris):
    answer = invoke(server.url, csv_of(iris), CSV, CSV)
    assert answer.status == 200
    assert answer.content_type.startswith(CSV)
    assert answer.text.splitlines() == expected_labels(reference_model, iris)


@pytest.mark.parametrize(
    "document",
    [
        {"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]},
        [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]],
    ],
    ids=["instances", "list-of-rows"],
)
def test_json_in_json_out(server, document):
    answer = invoke(server.url, json.dumps(document), JSON, JSON)
    assert answer.status == 200
    assert answer.content_type == JSON
    assert json.loads(answer.body) == {"predictions": ["setosa", "virginica"]}


def test_one_json_row(server):
    answer = invoke(server.url, "[5.1, 3.5, 1.4, 0.2]", JSON, JSON)
    assert json.loads(answer.body) == {"predictions": ["setosa"]}


@pytest.mark.parametrize("accept", [None, "*/*"], ids=["no-accept", "any"])
def test_missing_or_any_accept_gets_the_images_default_json(server, accept):
    answer = invoke(server.url, SETOSA + "\n", CSV, accept)
    assert answer.status == 200
    assert json.loads(answer.body) == {"predictions": ["setosa"]}


def test_accept_list_picks_the_first_type_the_handler_writes(server):
    answer = invoke(server.url, SETOSA + "\n", CSV, "text/html, text/csv;q=0.9, application/json;q=0.5")
    assert (answer.status, answer.text) == (200, "setosa\n")


def test_content_type_parameters_are_understood(server):
    # The library hands anything but exactly text/csv or application/json over as bytes.
    answer = invoke(server.url, SETOSA + "\n", "text/csv; charset=utf-8", CSV)
    assert (answer.status, answer.text) == (200, "setosa\n")


def test_sagemakers_contenttype_header_wins(server):
    answer = request(
        server.url,
        "POST",
        "/invocations",
        (SETOSA + "\n").encode(),
        {"ContentType": CSV, "Content-Type": "application/x-www-form-urlencoded", "Accept": CSV},
    )
    assert (answer.status, answer.text) == (200, "setosa\n")


@pytest.mark.parametrize(
    ("mib", "record", "label"),
    [(6, SETOSA, "setosa"), (20, VIRGINICA, "virginica")],
    ids=["real-time-limit-6-mb", "batch-mini-batch-20-mb"],
)
def test_large_payloads(server, mib, record, label):
    row = (record + "\n").encode()
    body = row * (mib * MIB // len(row))
    answer = invoke(server.url, body, CSV, CSV)
    assert answer.status == 200
    assert answer.text.count(label + "\n") == len(body) // len(row)


# --- callers' mistakes: 4xx with a JSON reason -----------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("5.1,3.5,x,0.2\n", CSV, "line 1: features must be numbers"),
        ("5.1,3.5,1.4\n", CSV, "line 1: expected 4 numeric features"),
        ("5.1,3.5,nan,0.2\n", CSV, "features must be finite numbers"),
        ("\n\n", CSV, "payload holds no records"),
        ("", CSV, "payload holds no records"),
        ("", JSON, "payload holds no records"),
        ("{not json", JSON, "line 1: invalid JSON"),
        ('{"rows": [[1, 2, 3, 4]]}', JSON, 'expected {"instances"'),
        ('"text"', JSON, "expected a list of rows"),
        ('{"instances": []}', JSON, "payload holds no records"),
        (b"\xff\xfe5.1,3.5", "text/csv; charset=latin-1", "payload is not UTF-8"),
        ('[1, 2, 3, 4]\n{"instances": [[1, 2]]}\n', JSON_LINES, "line 2, instance 0: expected 4"),
    ],
    ids=[
        "csv-not-a-number",
        "csv-three-features",
        "csv-nan",
        "csv-blank-lines",
        "csv-empty",
        "json-empty",
        "json-malformed",
        "json-no-instances",
        "json-a-string",
        "json-no-instances-listed",
        "not-utf8",
        "jsonlines-short-row",
    ],
)
def test_bad_bodies_are_400(server, body, content_type, message):
    assert_caller_error(invoke(server.url, body, content_type, CSV), 400, message)


def test_no_content_type_means_json_to_the_library_so_csv_is_a_400(server):
    assert_caller_error(invoke(server.url, SETOSA + "\n", None, CSV), 400, "invalid JSON")


@pytest.mark.parametrize(
    "content_type", ["application/octet-stream", "text/plain", "application/x-npy", "application/x-recordio-protobuf"]
)
def test_wrong_content_type_is_415(server, content_type):
    assert_caller_error(invoke(server.url, SETOSA, content_type, CSV), 415, "unsupported content type")


@pytest.mark.parametrize("accept", ["text/html", "application/x-npy", "application/xml, text/plain"])
def test_wrong_accept_is_406(server, accept):
    assert_caller_error(invoke(server.url, SETOSA + "\n", CSV, accept), 406, "unsupported accept type")


def test_a_caller_error_does_not_cost_the_worker(server):
    for _ in range(5):
        invoke(server.url, "garbage", CSV, CSV)
    assert invoke(server.url, VIRGINICA + "\n", CSV, CSV).text == "virginica\n"


# --- batch transform: SplitType Line, MultiRecord and SingleRecord ----------------------------


def mini_batches(lines: list[str], strategy: str, max_payload_bytes: int) -> list[str]:
    """What SageMaker sends with SplitType Line: one line per request (SingleRecord), or as many
    whole lines as fit in MaxPayloadInMB (MultiRecord)."""
    if strategy == "SingleRecord":
        return lines
    batches, current = [], ""
    for line in lines:
        if current and len(current) + len(line) > max_payload_bytes:
            batches.append(current)
            current = ""
        current += line
    return [*batches, current] if current else batches


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
@pytest.mark.parametrize("content_type", HANDLER_CONTENT_TYPES)
@pytest.mark.parametrize("accept", [CSV, JSON_LINES])
def test_batch_line_split_reassembles_one_prediction_per_record(
    server, reference_model, iris, strategy, content_type, accept
):
    """AssembleWith Line joins the responses line by line: every record's prediction, in order."""
    lines = [csv_of([row]) if content_type == CSV else json_line(row) for row in iris]
    outputs = []
    for payload in mini_batches(lines, strategy, max_payload_bytes=1024):
        answer = invoke(server.url, payload, content_type, accept)
        assert answer.status == 200, answer.text
        outputs += answer.text.splitlines()
    predictions = outputs if accept == CSV else [json.loads(line)["prediction"] for line in outputs]
    assert predictions == expected_labels(reference_model, iris)


@pytest.mark.parametrize("content_type", HANDLER_CONTENT_TYPES)
def test_batch_mini_batch_with_json_accept_answers_the_whole_mini_batch(server, iris, content_type):
    lines = [csv_of([row]) if content_type == CSV else json_line(row) for row in iris[:10]]
    answer = invoke(server.url, "".join(lines), content_type, JSON)
    assert answer.status == 200
    assert len(json.loads(answer.body)["predictions"]) == 10


# --- async: the files the async client uploads -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "body", "status"),
    [
        ("records.csv", SETOSA + "\n" + VIRGINICA + "\n", 200),
        ("records.json", '{"instances": [[5.1, 3.5, 1.4, 0.2]]}', 200),
        ("records.jsonl", "[5.1, 3.5, 1.4, 0.2]\n[6.7, 3.0, 5.2, 2.3]\n", 200),
        ("records.txt", SETOSA, 415),
        ("records.npy", SETOSA, 415),
        ("records.unknown-extension", SETOSA, 415),
        ("records", SETOSA, 415),
    ],
)
def test_async_client_files(server, tmp_path, name, body, status):
    """The async endpoint passes the S3 object with the content type the client uploaded it with."""
    path = Path(tmp_path / name)
    path.write_text(body)
    answer = invoke(server.url, path.read_bytes(), guess_content_type(path), CSV)
    if status == 200:
        assert answer.status == 200, answer.text
        assert answer.text.splitlines()[0] == "setosa"
    else:
        assert_caller_error(answer, 415, "unsupported content type")
