"""config/pipeline.yaml: validated by the same loader, with the same readable errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from inference_config.loader import ConfigError, load_pipeline
from tests.conftest import CONFIG_DIR, REPO_ROOT

VALID = """\
enabled: true
account: "111111111111"
region: eu-west-1
source:
  connection_arn: arn:aws:codeconnections:eu-west-1:111111111111:connection/abc-123
  repository: my-org/my-repo
stages:
  - environment: dev
  - environment: prod
    manual_approval: true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_pipeline(path, base_dir=path.parent)
    return raised.value.problems


def test_shipped_pipeline_is_off_and_deploys_dev_staging_prod_with_approval_before_prod():
    settings = load_pipeline(CONFIG_DIR / "pipeline.yaml", base_dir=REPO_ROOT)
    assert settings.enabled is False  # so `make synth` writes the three environments
    assert settings.environments == ["dev", "staging", "prod"]  # config/examples.yaml is in no stage
    assert [stage.manual_approval for stage in settings.stages] == [False, False, True]
    assert settings.source.connection_arn and settings.source.branch == "main"


def test_valid_file_is_typed_with_defaults(tmp_path):
    settings = load_pipeline(write(tmp_path, VALID), base_dir=tmp_path)
    assert settings.name == "sagemaker-inference"
    assert settings.source.branch == "main"
    assert settings.environments == ["dev", "prod"]
    assert settings.stages[1].manual_approval and not settings.stages[0].manual_approval


def test_a_raised_event_pattern_quota_is_taken_within_what_putrule_allows(tmp_path):
    assert load_pipeline(write(tmp_path, VALID), base_dir=tmp_path).event_pattern_quota == 2048
    raised = load_pipeline(write(tmp_path, VALID + "event_pattern_quota: 4096\n"), base_dir=tmp_path)
    assert raised.event_pattern_quota == 4096
    (problem,) = problems_of(write(tmp_path, VALID + "event_pattern_quota: 8192\n"))
    assert problem == "pipeline.yaml:11: event_pattern_quota: Input should be less than or equal to 4096 (got 8192)"


def test_codecommit_source_is_accepted(tmp_path):
    text = VALID.replace(
        "  connection_arn: arn:aws:codeconnections:eu-west-1:111111111111:connection/abc-123\n"
        "  repository: my-org/my-repo\n",
        "  codecommit_repository: my-repo\n  branch: release/1.2\n",
    )
    settings = load_pipeline(write(tmp_path, text), base_dir=tmp_path)
    assert settings.source.codecommit_repository == "my-repo" and settings.source.branch == "release/1.2"


def test_every_problem_names_file_line_field_and_what_is_allowed(tmp_path):
    path = write(
        tmp_path,
        """\
        enabled: true
        account: "1234"
        region: mars
        source:
          connection_arn: arn:aws:codestar:eu-west-1:111111111111:thing/abc
          repository: my-org/my-repo
          branch: "bad..branch"
        stages:
          - environment: dev
          - environment: dev
            smoke_test_role_arn: not-an-arn
            approve: true
        """,
    )
    problems = problems_of(path)
    expected = [
        "pipeline.yaml:2: account: expected a 12-digit AWS account id, quoted as a string (got '1234')",
        "pipeline.yaml:3: region: expected an AWS region such as eu-west-1 or us-east-1 (got 'mars')",
        "pipeline.yaml:5: source.connection_arn: expected a CodeConnections (CodeStar) connection ARN",
        "pipeline.yaml:7: source.branch: expected a git branch name such as main or release/1.2 (got 'bad..branch')",
        "pipeline.yaml:11: stages[1].smoke_test_role_arn: expected an IAM role ARN",
        "pipeline.yaml:12: stages[1].approve: unknown field; allowed fields: environment, manual_approval, "
        "smoke_test_role_arn",
    ]
    for line in expected:
        assert any(problem.startswith(line) for problem in problems), (line, problems)


def test_exactly_one_source(tmp_path):
    both = VALID.replace("  repository: my-org/my-repo\n", "  repository: my-org/my-repo\n  codecommit_repository: r\n")
    assert any("set exactly one source" in problem for problem in problems_of(write(tmp_path, both)))
    neither = VALID.replace(
        "  connection_arn: arn:aws:codeconnections:eu-west-1:111111111111:connection/abc-123\n", ""
    ).replace("  repository: my-org/my-repo\n", "  branch: main\n")
    assert any("set exactly one source" in problem for problem in problems_of(write(tmp_path, neither)))
    no_repository = VALID.replace("  repository: my-org/my-repo\n", "")
    assert any("connection_arn needs repository" in problem for problem in problems_of(write(tmp_path, no_repository)))


def test_an_environment_is_deployed_once(tmp_path):
    text = VALID.replace("  - environment: prod\n", "  - environment: dev\n")
    assert any("listed more than once: dev" in problem for problem in problems_of(write(tmp_path, text)))


def test_missing_fields_and_empty_file(tmp_path):
    problems = problems_of(write(tmp_path, "enabled: true\n"))
    for field in ("account", "region", "source", "stages"):
        assert f"pipeline.yaml:1: {field}: required field is missing" in problems
    assert problems_of(write(tmp_path, "")) == [
        "pipeline.yaml: file is empty; expected a mapping with at least 'account', 'region', 'source' and 'stages'"
    ]
