"""The SageMaker container contract, over real HTTP on loopback.

Each server is a ``python -m model_code.serve`` child process on a free port, started once
per module (fixture) and stopped at the end.
"""

from __future__ import annotations

import io
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris

from model_code.serving.modes import MIB, MODES
from model_code.serving.process import LocalServer
from tests.model_code.serving.helpers import (
    FAULTY,
    MODEL_FN_ONLY,
    NO_MODEL_FN,
    SETOSA,
    VERSICOLOR,
    VIRGINICA,
    artifact_with_handler,
    invoke,
    model_bytes,
    request,
)

ROW = SETOSA + "\n"  # 16 bytes: a whole number of rows fills each mode's limit exactly


@pytest.fixture(scope="module")
def reference_model(model_artifact):
    return joblib.load(io.BytesIO(model_bytes(model_artifact)))


@pytest.fixture(scope="module")
def iris_rows():
    features = load_iris().data
    return [",".join(f"{value:g}" for value in row) for row in features]


@pytest.fixture(scope="module")
def realtime(model_artifact):
    with LocalServer(model_artifact, mode="realtime", workers=2) as server:
        yield server


@pytest.fixture(scope="module")
def serverless(model_artifact):
    with LocalServer(model_artifact, mode="serverless") as server:
        yield server


@pytest.fixture(scope="module")
def batch(model_artifact):
    with LocalServer(model_artifact, mode="batch") as server:
        yield server


@pytest.fixture(scope="module")
def faulty(model_artifact, tmp_path_factory):
    artifact = artifact_with_handler(tmp_path_factory.mktemp("faulty"), model_artifact, "faulty", FAULTY)
    with LocalServer(artifact, timeout=2) as server:
        yield server


@pytest.fixture(scope="module")
def fallback(model_artifact, tmp_path_factory):
    artifact = artifact_with_handler(tmp_path_factory.mktemp("fallback"), model_artifact, "fallback", MODEL_FN_ONLY)
    with LocalServer(artifact) as server:
        yield server


# --- health and batch parameters -------------------------------------------------------


def test_ping_is_200_with_an_empty_body_once_the_model_is_loaded(realtime):
    answer = request(realtime.url, "GET", "/ping")
    assert (answer.status, answer.body) == (200, b"")


def test_execution_parameters_tell_batch_transform_what_to_send(realtime, serverless):
    answer = request(realtime.url, "GET", "/execution-parameters")
    assert answer.status == 200
    assert json.loads(answer.body) == {
        "MaxConcurrentTransforms": 2,  # one per worker
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 6,
    }
    # Never more than the mode accepts.
    assert json.loads(request(serverless.url, "GET", "/execution-parameters").body)["MaxPayloadInMB"] == 4


def test_unknown_paths_and_methods_are_json_errors(realtime):
    missing = request(realtime.url, "GET", "/predict")
    assert missing.status == 404 and json.loads(missing.body)["error"] == "NotFound"
    assert request(realtime.url, "GET", "/invocations").status == 405


# --- CSV and JSON ----------------------------------------------------------------------


def test_single_csv_record(realtime):
    answer = invoke(realtime.url, SETOSA + "\n")
    assert answer.status == 200
    assert answer.content_type.startswith("text/csv")
    assert answer.text == "setosa\n"


def test_multi_record_csv_has_one_line_per_input_line_in_order(realtime, iris_rows, reference_model):
    answer = invoke(realtime.url, "\n".join(iris_rows) + "\n")
    assert answer.status == 200
    lines = answer.text.splitlines()
    assert len(lines) == len(iris_rows) == 150
    expected = reference_model.predict(np.asarray([[float(v) for v in row.split(",")] for row in iris_rows]))
    assert lines == [str(label) for label in expected]


def test_json_in_and_out(realtime):
    body = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})
    answer = invoke(realtime.url, body, content_type="application/json", accept="application/json")
    assert answer.status == 200
    assert answer.content_type.startswith("application/json")
    assert json.loads(answer.body) == {"predictions": ["setosa", "virginica"]}


@pytest.mark.parametrize("accept", [None, "*/*"])
def test_missing_or_wildcard_accept_gets_the_containers_default_json(realtime, accept):
    # The container substitutes SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (application/json).
    answer = invoke(realtime.url, SETOSA, accept=accept)
    assert answer.status == 200
    assert json.loads(answer.body) == {"predictions": ["setosa"]}


def test_missing_content_type_is_read_as_json_like_the_container(realtime):
    answer = invoke(realtime.url, "[[6.7, 3.0, 5.2, 2.3]]", content_type=None, accept="text/csv")
    assert (answer.status, answer.text) == (200, "virginica\n")


# --- client mistakes -------------------------------------------------------------------


def test_wrong_content_type_is_415(realtime):
    answer = invoke(realtime.url, SETOSA, content_type="application/x-npy")
    assert answer.status == 415
    error = json.loads(answer.body)
    assert error["error"] == "UnsupportedMediaTypeError"
    assert "unsupported content type 'application/x-npy'" in error["message"]


def test_unsupported_accept_is_406(realtime):
    answer = invoke(realtime.url, SETOSA, accept="application/xml")
    assert answer.status == 406
    assert "unsupported accept type 'application/xml'" in json.loads(answer.body)["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("5.1,3.5,1.4\n", "line 1: expected 4 numeric features"),
        (f"{SETOSA}\n{VIRGINICA}\n5.9,abc,4.2,1.5\n", "line 3: features must be numbers"),
        (f"{SETOSA}\n{SETOSA},9\n", "line 2: expected 4 numeric features"),
        ("\n\n", "payload holds no records"),
    ],
)
def test_malformed_rows_are_400_naming_the_line(realtime, body, message):
    answer = invoke(realtime.url, body)
    assert answer.status == 400
    assert message in json.loads(answer.body)["message"]


def test_payload_at_the_realtime_limit_is_served(realtime):
    body = ROW * (MODES["realtime"].max_payload_bytes // len(ROW))
    assert len(body) == 6 * MIB
    answer = invoke(realtime.url, body)
    assert answer.status == 200
    assert answer.text.count("\n") == 6 * MIB // len(ROW)


def test_payload_over_the_realtime_limit_is_413(realtime):
    answer = invoke(realtime.url, ROW * (6 * MIB // len(ROW) + 1))
    assert answer.status == 413
    assert "exceeds the realtime limit of 6 MB" in json.loads(answer.body)["message"]


def test_chunked_payload_over_the_limit_is_413_too(realtime):
    chunks = (ROW.encode() * 65536 for _ in range(7))  # 7 MiB with no Content-Length
    answer = request(realtime.url, "POST", "/invocations", chunks, {"Content-Type": "text/csv"})
    assert answer.status == 413
    assert "a chunked body" in json.loads(answer.body)["message"]


def test_serverless_limit_is_4_mb(serverless):
    at_limit = ROW * (4 * MIB // len(ROW))
    assert invoke(serverless.url, at_limit).status == 200
    over = invoke(serverless.url, at_limit + ROW)
    assert over.status == 413
    assert "exceeds the serverless limit of 4 MB" in json.loads(over.body)["message"]


def test_batch_mode_takes_mini_batches_beyond_the_realtime_limit_line_for_line(batch):
    rows = [SETOSA, VIRGINICA, VERSICOLOR] * (7 * MIB // (3 * len(ROW)))
    body = "\n".join(rows) + "\n"
    assert len(body) > 6 * MIB
    answer = invoke(batch.url, body)
    assert answer.status == 200
    lines = answer.text.splitlines()
    assert len(lines) == len(rows)
    assert lines[:3] == ["setosa", "virginica", "versicolor"]
    assert invoke(batch.url, ROW * (100 * MIB // len(ROW) + 1)).status == 413


# --- handler failures ------------------------------------------------------------------


def test_handler_crash_is_500_with_the_traceback_logged_not_returned(faulty):
    answer = invoke(faulty.url, "crash")
    assert answer.status == 500
    error = json.loads(answer.body)
    assert error == {"error": "RuntimeError", "message": "handler bug on purpose"}
    log = faulty.log()
    assert "Traceback (most recent call last)" in log
    assert re.search(r'File ".*inference\.py", line \d+, in predict_fn', log)
    assert "RuntimeError: handler bug on purpose" in log


def test_handler_errors_carrying_a_status_code_keep_it(faulty):
    answer = invoke(faulty.url, "quota")
    assert answer.status == 429
    assert json.loads(answer.body)["error"] == "QuotaExceeded"


def test_output_fn_returning_something_unservable_is_a_500_that_says_why(faulty):
    answer = invoke(faulty.url, "wrong-type")
    assert answer.status == 500
    assert "must return str or bytes" in json.loads(answer.body)["message"]


def test_a_stuck_handler_is_aborted_at_the_timeout_and_the_server_recovers(faulty):
    started = time.monotonic()
    answer = invoke(faulty.url, "hang")  # the client would wait 60 s; the server's timeout is 2 s
    assert answer.status == 500
    assert time.monotonic() - started < 30
    log = faulty.log()
    assert "exceeded the 2 s timeout and was aborted" in log
    assert "in predict_fn" in log.split("exceeded the 2 s timeout")[1]
    # A fresh worker (with the model reloaded) serves the next request.
    assert invoke(faulty.url, "fine").text == "fine"


# --- the container's default handlers --------------------------------------------------


def test_default_handlers_serve_a_model_fn_only_artifact(fallback):
    answer = invoke(fallback.url, f"{SETOSA}\n{VIRGINICA}\n")
    assert answer.status == 200
    assert answer.text.splitlines() == ["setosa", "virginica"]
    as_json = invoke(fallback.url, "[[5.1, 3.5, 1.4, 0.2]]", content_type="application/json", accept="application/json")
    assert json.loads(as_json.body) == ["setosa"]


def test_default_handlers_speak_npy(fallback):
    buffer = io.BytesIO()
    np.save(buffer, np.asarray([[6.7, 3.0, 5.2, 2.3]]))
    answer = invoke(fallback.url, buffer.getvalue(), content_type="application/x-npy", accept="application/x-npy")
    assert answer.status == 200
    assert np.load(io.BytesIO(answer.body)).tolist() == ["virginica"]


def test_default_handlers_negotiate_like_the_container(fallback):
    assert invoke(fallback.url, SETOSA, content_type="text/plain").status == 415
    assert invoke(fallback.url, f"{SETOSA}\n{SETOSA}\n", accept="text/html").status == 406
    assert invoke(fallback.url, "5.1,abc\n1,2\n").status == 400


def test_default_input_fn_squeezes_a_single_csv_row_as_the_container_does(fallback):
    # One CSV row becomes a 1-D array, which scikit-learn refuses: the container fails the
    # same way, so a handler relying on the defaults is caught here, not after deploying.
    answer = invoke(fallback.url, SETOSA + "\n")
    assert answer.status == 500
    assert "Expected 2D array" in json.loads(answer.body)["message"]


def test_missing_model_fn_fails_the_health_check(model_artifact, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "inference.py").write_text(NO_MODEL_FN)
    with LocalServer(model_artifact, code_dir=code) as server:  # --code replaces the artifact's handler
        ping = request(server.url, "GET", "/ping")
        assert ping.status == 503
        assert "defines no model_fn" in json.loads(ping.body)["message"]
        assert invoke(server.url, SETOSA).status == 503


# --- concurrency -----------------------------------------------------------------------


def test_concurrent_requests_each_get_their_own_answer(realtime, iris_rows, reference_model):
    payloads = [iris_rows[index : index + 1 + index % 7] for index in range(0, 96, 3)]

    def call(rows: list[str]) -> tuple[list[str], list[str]]:
        answer = invoke(realtime.url, "\n".join(rows) + "\n")
        assert answer.status == 200
        expected = reference_model.predict(np.asarray([[float(v) for v in row.split(",")] for row in rows]))
        return answer.text.splitlines(), [str(label) for label in expected]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(call, payloads))
    assert len(results) == len(payloads) == 32
    for got, expected in results:
        assert got == expected
