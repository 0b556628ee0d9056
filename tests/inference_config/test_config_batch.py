"""The ``batch:`` block of a model in ``config/<environment>.yaml``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from inference_config.loader import ConfigError, load_environment
from inference_constructs.batch.settings import BatchSettings

BATCH_ONLY = """\
environment: {name}
models:
  - name: {model}
    image: {{framework: sklearn, version: "1.4-2"}}
    model_data: s3://my-bucket/iris/model.tar.gz
    batch:
{batch}
"""


def write(tmp_path: Path, batch: str, name: str = "dev", model: str = "iris") -> Path:
    path = tmp_path / f"{name}.yaml"
    indented = textwrap.indent(textwrap.dedent(batch), " " * 6)
    path.write_text(BATCH_ONLY.format(name=name, model=model, batch=indented))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_environment(path, base_dir=path.parent)
    return raised.value.problems


def test_a_model_may_be_served_in_batch_only(tmp_path):
    path = write(tmp_path, "instance_type: ml.m5.large\nschedule: rate(1 day)\nrun_on_upload: true\n")
    (model,) = load_environment(path, base_dir=tmp_path).models
    assert model.modes == ["batch"]
    assert isinstance(model.batch, BatchSettings)  # the construct's own settings model, not a copy
    assert (model.batch.schedule, model.batch.run_on_upload, model.batch.batch_strategy) == (
        "rate(1 day)",
        True,
        "MultiRecord",
    )


def test_batch_problems_name_the_line_field_value_and_what_is_allowed(tmp_path):
    path = write(
        tmp_path,
        """\
        instance_type: ml.t3.medium
        max_payload_in_mb: 150
        schedule: cron(0 2 * * *)
        batch_stategy: SingleRecord
        """,
    )
    problems = problems_of(path)
    assert len(problems) == 4, problems
    text = "\n".join(problems)
    assert (
        "dev.yaml:7: models[0].batch.instance_type: 'ml.t3.medium' is not an instance type SageMaker offers for batch"
        in text
    )
    assert "dev.yaml:8: models[0].batch.max_payload_in_mb: Input should be less than or equal to 100 (got 150)" in text
    assert "dev.yaml:9: models[0].batch.schedule: cron(...) takes 6 fields" in text
    assert "dev.yaml:10: models[0].batch.batch_stategy: unknown field; allowed fields: instance_type," in text


def test_cross_field_rules_are_reported_for_the_block(tmp_path):
    path = write(tmp_path, "instance_type: ml.m5.large\nmax_concurrent_transforms: 10\nmax_payload_in_mb: 20\n")
    (problem,) = problems_of(path)
    assert "models[0].batch: max_concurrent_transforms x max_payload_in_mb must be at most 100 MB (got 10 x 20)" in (
        problem
    )


def test_model_names_must_leave_room_for_the_job_name_hash(tmp_path):
    # "<environment>-<model>-" plus 32 hex digits must fit SageMaker's 63 characters.
    fits = write(tmp_path, "instance_type: ml.m5.large\n", name="staging", model="a" * 22)
    assert load_environment(fits, base_dir=tmp_path).models[0].name == "a" * 22
    too_long = write(tmp_path, "instance_type: ml.m5.large\n", name="staging", model="a" * 23)
    (problem,) = problems_of(too_long)
    assert "too long for batch transform job names in environment 'staging'; at most 22 characters" in problem


def test_a_serial_pipeline_reads_the_records_itself(tmp_path):
    # The handler's content types bind a framework model's own batch job; with a pipeline in
    # front, the first container reads the records, so the handler's list does not apply.
    batch = "instance_type: ml.m5.large\nschedule: rate(1 day)\ncontent_type: application/x-parquet\n"
    path = write(tmp_path, batch)
    assert any("content_type 'application/x-parquet' is not one the handler reads" in p for p in problems_of(path))
    pipeline = (
        "    serial_pipeline:\n      - image: {uri: 111111111111.dkr.ecr.eu-west-1.amazonaws.com/parquet-reader:1}\n"
    )
    path.write_text(path.read_text().replace("    batch:\n", pipeline + "    batch:\n"))
    (model,) = load_environment(path, base_dir=tmp_path).models
    assert model.batch is not None and len(model.serial_pipeline) == 1
