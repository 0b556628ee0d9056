"""The ``async:`` block of an environment file: typed by the construct's own AsyncSettings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from inference_config.loader import ConfigError, load_environment
from inference_constructs.async_endpoint import AsyncSettings
from tests.conftest import DEPLOYED_ENVIRONMENTS

ASYNC_ONLY = """\
environment: dev
models:
  - name: iris
    image: {{framework: sklearn, version: "1.4-2"}}
    model_data: s3://my-bucket/iris/model.tar.gz
    async:
      instance_type: ml.m5.large
{extra}"""


def load(tmp_path: Path, extra: str = "", text: str | None = None):
    path = tmp_path / "dev.yaml"
    body = text if text is not None else ASYNC_ONLY.format(extra=textwrap.indent(textwrap.dedent(extra), " " * 6))
    path.write_text(body)
    return load_environment(path, base_dir=tmp_path)


def problems(tmp_path: Path, extra: str = "", text: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, extra, text)
    return raised.value.problems


def test_async_alone_serves_a_model_and_scales_to_zero_by_default(tmp_path):
    model = load(tmp_path).models[0]
    assert model.modes == ["async"]
    assert isinstance(model.async_, AsyncSettings)
    assert model.async_.autoscaling.min_capacity == 0
    assert model.async_.invocation_timeout_seconds == 900


def test_a_full_block_is_read(tmp_path):
    model = load(
        tmp_path,
        """\
        max_concurrent_invocations_per_instance: 3
        invocation_timeout_seconds: 3600
        include_inference_response_in: [ERROR_NOTIFICATION_TOPIC]
        autoscaling: {min_capacity: 0, max_capacity: 4, target_backlog_per_instance: 2}
        alarms: {oldest_request_age_seconds: 600, backlog_size: 10}
        error_queue: {retention_days: 3}
        """,
    ).models[0]
    settings = model.async_
    assert settings.max_concurrent_invocations_per_instance == 3
    assert settings.invocation_timeout_seconds == 3600
    assert settings.include_inference_response_in == ("ERROR_NOTIFICATION_TOPIC",)
    assert settings.autoscaling.max_capacity == 4 and settings.alarms.backlog_size == 10
    assert settings.error_queue.retention_days == 3 and settings.error_queue.max_receive_count == 5


def test_timeout_above_an_hour_is_rejected_at_its_line(tmp_path):
    (problem,) = problems(tmp_path, "invocation_timeout_seconds: 3601\n")
    assert problem == (
        "dev.yaml:8: models[0].async.invocation_timeout_seconds: Input should be less than or equal to 3600 (got 3601)"
    )


def test_max_concurrent_invocations_below_one_is_rejected(tmp_path):
    (problem,) = problems(tmp_path, "max_concurrent_invocations_per_instance: 0\n")
    assert problem == (
        "dev.yaml:8: models[0].async.max_concurrent_invocations_per_instance: "
        "Input should be greater than or equal to 1 (got 0)"
    )


def test_min_above_max_is_rejected(tmp_path):
    (problem,) = problems(tmp_path, "autoscaling: {min_capacity: 3, max_capacity: 2}\n")
    assert problem.startswith("dev.yaml:8: models[0].async.autoscaling: min_capacity (3) is above max_capacity (2)")


def test_all_async_problems_are_reported_together(tmp_path):
    found = problems(
        tmp_path,
        """\
        invocation_timeout_seconds: 7200
        max_concurrent_invocations_per_instance: 0
        autoscaling: {min_capacity: 5, max_capacity: 1}
        """,
    )
    assert len(found) == 3
    assert all(problem.startswith("dev.yaml:") and ".async." in problem for problem in found)


def test_messages_use_the_yaml_key_async_not_the_python_field(tmp_path):
    text = ASYNC_ONLY.format(extra="      colour: blue\n").replace("    async:", "    async_: {}\n    async:")
    found = "\n".join(problems(tmp_path, text=text))
    assert "models[0].async.colour: unknown field; allowed fields: instance_type," in found
    assert (
        "models[0].async_: unknown field; allowed fields: name, image, model_data, environment, model_package, "
        "multi_model, "
        "serial_pipeline, realtime," in (found)
    )
    assert "async_," not in found and not found.rstrip().endswith("async_")


def test_a_model_with_no_mode_names_async_as_a_choice(tmp_path):
    text = ASYNC_ONLY.format(extra="").split("    async:")[0]
    assert any("serve the model in at least one mode" in p and "async" in p for p in problems(tmp_path, text=text))


def test_shipped_environments_serve_async_scaled_to_zero(shipped_configs):
    for name in DEPLOYED_ENVIRONMENTS:
        config = shipped_configs[name]
        # Every model but the GPU example (real-time only, in staging and prod), multi-model endpoints and
        # serial pipelines (no async for them), and dev's second model (an inference component only).
        served = [
            m
            for m in config.models
            if m.image.dlc is None and not m.multi_model and not m.serial_pipeline and m.modes != ["component"]
        ]
        assert served, name
        for model in served:
            assert model.async_ is not None, name
            assert model.async_.autoscaling.min_capacity == 0, name
            assert model.async_.error_queue is not None, name
