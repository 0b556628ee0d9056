"""Deployment, alarm and data capture settings in environment files, per mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference_config.loader import ConfigError, load_environment

MODEL = """\
environment: dev
models:
  - name: iris
    image: {{framework: sklearn, version: "1.4-2"}}
    model_data: s3://my-bucket/iris/model.tar.gz
{modes}"""


def load(tmp_path: Path, modes: str):
    path = tmp_path / "dev.yaml"
    path.write_text(MODEL.format(modes=modes))
    return load_environment(path, base_dir=tmp_path)


def problems(tmp_path: Path, modes: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, modes)
    return raised.value.problems


def test_serverless_deployment_and_alarms_are_read(tmp_path):
    settings = (
        load(
            tmp_path,
            """\
    serverless:
      memory_size_in_mb: 2048
      max_concurrency: 5
      deployment: {strategy: canary, canary_percent: 20, wait_interval_seconds: 120}
      alarms: {overhead_latency_p99_milliseconds: 8000, concurrent_executions_utilization: 0.75}
""",
        )
        .models[0]
        .serverless
    )
    assert (settings.deployment.strategy, settings.deployment.canary_percent) == ("canary", 20)
    assert settings.alarms.overhead_latency_p99_milliseconds == 8000
    assert settings.alarms.concurrent_executions_utilization == 0.75
    assert settings.alarms.invocation_5xx_errors == 5  # the default


def test_serverless_rolling_update_is_refused_with_sagemakers_reason(tmp_path):
    (problem,) = problems(
        tmp_path,
        """\
    serverless:
      memory_size_in_mb: 2048
      max_concurrency: 5
      deployment: {strategy: rolling, rolling_batch_percent: 20}
""",
    )
    assert "models[0].serverless.deployment: strategy 'rolling' is not supported on serverless endpoints" in problem
    assert "deployment-guardrails-exclusions" in problem


def test_serverless_data_capture_is_refused_with_the_reason(tmp_path):
    (problem,) = problems(
        tmp_path,
        """\
    serverless:
      memory_size_in_mb: 2048
      max_concurrency: 5
      data_capture: {sampling_percentage: 10}
""",
    )
    assert "models[0].serverless.data_capture: SageMaker does not capture requests or responses of serverless" in (
        problem
    )


def test_serverless_throttling_threshold_is_a_fraction(tmp_path):
    (problem,) = problems(
        tmp_path,
        """\
    serverless:
      memory_size_in_mb: 2048
      max_concurrency: 5
      alarms: {concurrent_executions_utilization: 90}
""",
    )
    assert "models[0].serverless.alarms.concurrent_executions_utilization" in problem
    assert "less than or equal to 1" in problem


def test_async_data_capture_and_failure_alarm_are_read(tmp_path):
    settings = (
        load(
            tmp_path,
            """\
    async:
      instance_type: ml.m5.large
      data_capture: {sampling_percentage: 50, capture: [request]}
      alarms: {invocation_failures: 3}
""",
        )
        .models[0]
        .async_
    )
    assert settings.data_capture.sampling_percentage == 50
    assert settings.data_capture.capture == ("request",)
    assert settings.alarms.invocation_failures == 3


def test_rolling_update_with_a_shadow_variant_is_refused(tmp_path):
    (problem,) = problems(
        tmp_path,
        """\
    realtime:
      instance_type: ml.m5.large
      deployment: {strategy: rolling, rolling_batch_percent: 20}
      shadow: {model_data: s3://my-bucket/iris/v2/model.tar.gz, instance_type: ml.m5.large}
""",
    )
    assert "'rolling' is not supported on multi-variant (shadow or weighted) endpoints" in problem
