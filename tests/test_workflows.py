"""The GitHub workflows: valid against GitHub's workflow schema, and doing what the README says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
PULL_REQUEST = REPO_ROOT / ".github" / "workflows" / "pull-request.yml"


def load(path: Path) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on".
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


def uses(job: dict, action: str) -> list[dict]:
    return [step for step in steps(job) if str(step.get("uses", "")).startswith(action + "@")]


def test_there_is_a_pull_request_workflow():
    assert PULL_REQUEST in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_is_valid_against_githubs_schema(workflow):
    # check-jsonschema ships GitHub's workflow schema (vendored): no network needed.
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n      - run: [not, a, string]\n"
    )
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0


def test_pull_requests_run_the_developer_checks_and_publish_the_review_bundle():
    workflow = load(PULL_REQUEST)
    assert "pull_request" in workflow["on"]
    check = workflow["jobs"]["check"]
    commands = runs(check)
    assert "make test" in commands
    assert "make review" in commands  # which runs make synth first (Makefile: review: synth)
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "\nreview: synth\n" in makefile
    upload = uses(check, "actions/upload-artifact")
    assert upload and upload[0]["with"]["path"].rstrip("/") == "review"
    assert upload[0]["with"]["if-no-files-found"] == "error"
    python = uses(check, "actions/setup-python")[0]["with"]["python-version"]
    node = uses(check, "actions/setup-node")[0]["with"]["node-version"]
    # The README's prerequisites: 3.11, and 3.10 (the sklearn image's Python) for .venv-serving;
    # setup-python makes the last one listed the default.
    assert str(python).split() == ["3.10", "3.11"] and str(node) == "20"


def test_aws_access_is_oidc_only_and_diff_runs_only_when_configured():
    text = PULL_REQUEST.read_text()
    for long_lived in ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert long_lived not in text
    workflow = load(PULL_REQUEST)
    assert workflow["permissions"] == {"contents": "read"}  # least privilege by default
    assert "id-token" not in workflow["jobs"]["check"].get("permissions", {})
    diff = workflow["jobs"]["diff"]
    assert diff["permissions"]["id-token"] == "write"
    assert "vars.AWS_DIFF_ROLE_ARN != ''" in diff["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in diff["if"]
    credentials = uses(diff, "aws-actions/configure-aws-credentials")
    assert credentials and credentials[0]["with"]["role-to-assume"] == "${{ vars.AWS_DIFF_ROLE_ARN }}"
    assert set(credentials[0]["with"]) <= {"role-to-assume", "role-session-name", "aws-region"}
    assert "cdk diff" in runs(diff)
    # The diff step comes after the credentials.
    names = [step.get("uses", step.get("run", "")) for step in steps(diff)]
    assert names.index(credentials[0]["uses"]) < next(i for i, name in enumerate(names) if "cdk diff" in name)
