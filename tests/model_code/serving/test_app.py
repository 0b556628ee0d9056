"""The WSGI application in-process (Flask's test client): response shapes and load failures.

The HTTP contract itself is covered over real sockets in ``test_contract.py``.
"""

from __future__ import annotations

import json

import pytest
from flask import Response

from model_code.serving.app import LoadedModel, ServerSettings, create_app, load_model
from model_code.serving.handlers import resolve
from model_code.serving.modes import MODES
from tests.model_code.serving.helpers import module

SETTINGS = ServerSettings(mode=MODES["batch"], workers=3)


def client_for(**functions):
    handlers = resolve(module(**functions))
    return create_app(LoadedModel(handlers=handlers, model=handlers.model_fn("/model")), SETTINGS).test_client()


@pytest.mark.parametrize(
    ("result", "body", "content_type"),
    [
        (("a\n", "text/csv"), b"a\n", "text/csv; charset=utf-8"),
        ("plain", b"plain", "application/json"),  # no content type given: the accept type
        (b"\x00\x01", b"\x00\x01", "application/json"),
        (Response("by hand", status=202, mimetype="text/x-custom"), b"by hand", "text/x-custom; charset=utf-8"),
    ],
)
def test_what_transform_fn_returns_becomes_the_response(result, body, content_type):
    client = client_for(model_fn=lambda model_dir: None, transform_fn=lambda *args: result)
    answer = client.post("/invocations", data="x", content_type="text/csv")
    assert answer.status_code in (200, 202)
    assert (answer.data, answer.content_type) == (body, content_type)


def test_json_and_csv_bodies_reach_the_handler_as_text_others_as_bytes():
    seen = []
    client = client_for(model_fn=lambda model_dir: None, transform_fn=lambda m, body, ct, a: seen.append(body) or "ok")
    client.post("/invocations", data=b"1,2", content_type="text/csv")
    client.post("/invocations", data=b"[1]", content_type="application/json")
    client.post("/invocations", data=b"\x93NUMPY", content_type="application/x-npy")
    client.post("/invocations", data=b"1,2", content_type="text/csv; charset=utf-8")
    assert seen == ["1,2", "[1]", b"\x93NUMPY", b"1,2"]


def test_the_contenttype_header_of_aws_services_is_honoured():
    seen = []
    client = client_for(model_fn=lambda model_dir: None, transform_fn=lambda m, b, ct, a: seen.append(ct) or "ok")
    client.post("/invocations", data=b"1", headers={"ContentType": "text/csv", "Content-Type": "application/json"})
    assert seen == ["text/csv"]


def test_default_accept_comes_from_the_container_environment(monkeypatch):
    from model_code.serving.app import settings_from_environment

    monkeypatch.setenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/csv")
    assert settings_from_environment(MODES["realtime"], 1).default_accept == "text/csv"
    monkeypatch.delenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")
    assert settings_from_environment(MODES["realtime"], 1).default_accept == "application/json"


def test_execution_parameters_default_and_override():
    default = client_for(model_fn=lambda model_dir: None).get("/execution-parameters")
    assert default.json == {"MaxConcurrentTransforms": 3, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}
    custom = client_for(
        model_fn=lambda model_dir: None,
        execution_parameters_fn=lambda: {"MaxConcurrentTransforms": 1, "BatchStrategy": "SINGLE_RECORD"},
    ).get("/execution-parameters")
    assert custom.json == {"MaxConcurrentTransforms": 1, "BatchStrategy": "SINGLE_RECORD"}


def test_a_model_that_fails_to_load_answers_ping_with_503_and_the_reason(tmp_path, caplog):
    code = tmp_path / "code"
    code.mkdir()
    (code / "inference.py").write_text("def model_fn(model_dir):\n    raise FileNotFoundError('model.joblib')\n")
    loaded = load_model(tmp_path)
    assert loaded.handlers is None
    assert "FileNotFoundError: model.joblib" in loaded.error
    assert "Traceback" in caplog.text
    client = create_app(loaded, SETTINGS).test_client()
    ping = client.get("/ping")
    assert ping.status_code == 503
    assert json.loads(ping.data) == {"error": "ModelNotLoaded", "message": "FileNotFoundError: model.joblib"}
    assert client.post("/invocations", data="1", content_type="text/csv").status_code == 503
