"""Handler resolution: the framework container's rules for which function serves each step."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from model_code.serving import defaults
from model_code.serving.handlers import HandlerLoadError, load_handlers, load_module, resolve
from tests.model_code.serving.helpers import module


class EchoModel:
    def predict(self, rows):
        return np.asarray(["label"] * len(rows))


def test_missing_functions_fall_back_to_the_container_defaults():
    handlers = resolve(module(model_fn=lambda model_dir: EchoModel()))
    assert handlers.defined == ("model_fn",)
    model = handlers.model_fn("/opt/ml/model")
    assert handlers.transform(model, "1,2\n3,4\n", "text/csv", "text/csv") == ("label\nlabel\n", "text/csv")


def test_user_functions_replace_only_their_own_step():
    def output_fn(prediction, accept):
        return f"{len(prediction)}", accept

    handlers = resolve(module(model_fn=lambda model_dir: EchoModel(), output_fn=output_fn))
    assert handlers.defined == ("model_fn", "output_fn")
    assert handlers.transform(EchoModel(), "[[1, 2], [3, 4], [5, 6]]", "application/json", "text/plain") == (
        "3",
        "text/plain",
    )


def test_transform_fn_alone_takes_the_whole_request():
    calls = []

    def transform_fn(model, body, content_type, accept):
        calls.append((body, content_type, accept))
        return "done"

    handlers = resolve(module(model_fn=lambda model_dir: "model", transform_fn=transform_fn))
    assert handlers.transform("model", "x", "text/csv", "application/json") == "done"
    assert calls == [("x", "text/csv", "application/json")]


def test_transform_fn_mixed_with_pipeline_functions_is_refused():
    with pytest.raises(HandlerLoadError, match="define either transform_fn or input_fn/predict_fn/output_fn") as raised:
        resolve(module(transform_fn=lambda *args: None, input_fn=lambda *args: None, output_fn=lambda *args: None))
    assert "defines transform_fn and input_fn, output_fn" in str(raised.value)


def test_a_handler_name_bound_to_something_else_is_refused():
    with pytest.raises(HandlerLoadError, match=r"inference\.predict_fn is not a function"):
        resolve(module(predict_fn="not callable"))


def test_no_model_fn_means_the_container_cannot_load_the_model():
    handlers = resolve(module())
    with pytest.raises(NotImplementedError, match="defines no model_fn"):
        handlers.model_fn("/opt/ml/model")


def test_execution_parameters_fn_is_picked_up():
    handlers = resolve(module(execution_parameters_fn=lambda: {"BatchStrategy": "SINGLE_RECORD"}))
    assert handlers.execution_parameters_fn is not None
    assert "execution_parameters_fn" in handlers.defined


def test_the_handler_can_import_modules_packed_next_to_it(tmp_path):
    (tmp_path / "features.py").write_text("COUNT = 4\n")
    (tmp_path / "inference.py").write_text(
        textwrap.dedent(
            """
            import features

            def model_fn(model_dir):
                return features.COUNT
            """
        )
    )
    assert load_handlers(tmp_path).model_fn(str(tmp_path)) == 4


def test_a_missing_handler_file_names_the_expected_layout(tmp_path):
    with pytest.raises(HandlerLoadError, match=r"must hold code/inference\.py"):
        load_module(tmp_path)


# --- the defaults themselves -----------------------------------------------------------


def test_default_input_fn_reads_csv_json_and_npy_as_the_container_does():
    csv = defaults.default_input_fn("1,2\n3,4\n", "text/csv")
    assert csv.dtype == np.float32 and csv.shape == (2, 2)
    assert defaults.default_input_fn("1,2,3\n", "text/csv").shape == (3,)  # squeezed, like the container
    assert defaults.default_input_fn("[[1, 2]]", "application/json").shape == (1, 2)
    npy = defaults.ENCODERS["application/x-npy"](np.arange(6).reshape(2, 3))
    assert defaults.default_input_fn(npy, "application/x-npy").tolist() == [[0, 1, 2], [3, 4, 5]]


def test_default_input_fn_refuses_pickled_npy_bodies():
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.asarray([{"code": "runs on load"}], dtype=object), allow_pickle=True)
    with pytest.raises(defaults.DefaultHandlerError) as raised:
        defaults.default_input_fn(buffer.getvalue(), "application/x-npy")
    assert raised.value.status_code == 400


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("1,2", "text/plain", 415),
        ("1,2", "text/csv; charset=utf-8", 415),  # the container matches the type exactly
        ("1,abc\n", "text/csv", 400),
        ("1,2\n3\n", "text/csv", 400),
        ("{not json", "application/json", 400),
        (b"\x93NUMPY garbage", "application/x-npy", 400),
    ],
)
def test_default_input_fn_errors_carry_a_status(body, content_type, status):
    with pytest.raises(defaults.DefaultHandlerError) as raised:
        defaults.default_input_fn(body, content_type)
    assert raised.value.status_code == status


def test_default_output_fn_writes_one_csv_line_per_prediction():
    assert defaults.default_output_fn(np.asarray(["a", "b"]), "text/csv") == ("a\nb\n", "text/csv")
    assert defaults.default_output_fn(np.asarray([[1, 2], [3, 4]]), "text/csv") == ("1,2\n3,4\n", "text/csv")
    assert defaults.default_output_fn(np.asarray([0.5]), "application/json") == ("[0.5]", "application/json")


def test_default_output_fn_refuses_other_accept_types_with_406():
    with pytest.raises(defaults.UnsupportedFormatError) as raised:
        defaults.default_output_fn(np.asarray([1]), "application/json, text/csv")
    assert raised.value.status_code == 406
