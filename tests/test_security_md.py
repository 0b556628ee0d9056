"""SECURITY.md stays true: its exceptions are exactly the ones the code records, each explained."""

from __future__ import annotations

from inference_constructs.compliance import REGULATORY_PACKS, recorded_acknowledgements
from scripts.exceptions_report import SECURITY_MD, exception_rows, generalize, generated_block, render
from tests.test_cfn_lint import EXPLAINED_WARNINGS

REGENERATE = "regenerate it: .venv/bin/python -m scripts.exceptions_report"


def test_exceptions_table_is_what_the_code_records(synthesized):
    assert generated_block(SECURITY_MD.read_text()) == render(synthesized.app), f"SECURITY.md is stale; {REGENERATE}"


def test_every_recorded_acknowledgement_and_skip_is_listed(synthesized):
    markdown = SECURITY_MD.read_text()
    acknowledgements = recorded_acknowledgements(synthesized.app)
    assert acknowledgements
    for ack in acknowledgements:
        stage, _, path = ack.path.partition("/")
        row = f"| `{path}` | `{generalize(ack.finding_id, stage)}` |"
        assert row in markdown, f"{ack.finding_id} at {ack.path} is not in SECURITY.md; {REGENERATE}"


def _rule(finding: str) -> str:
    """``IAMNoInlinePolicy`` from ``HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy``,
    ``AwsSolutions-IAM5`` from ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``."""
    name = finding.split("::", 1)[1].split("[", 1)[0]
    for pack in REGULATORY_PACKS:
        name = name.removeprefix(f"{pack}-")
    return name


def test_every_rule_with_an_exception_is_explained_in_prose(synthesized):
    markdown = SECURITY_MD.read_text()
    prose = markdown[: markdown.index(generated_block(markdown))]
    for rule in {_rule(finding) for _, finding, _, _ in exception_rows(synthesized.app)}:
        assert f"**{rule}**" in prose, f"SECURITY.md lists exceptions to {rule} but explains none of them"


def test_explained_cfn_lint_warnings_are_documented():
    markdown = SECURITY_MD.read_text()
    for rule in EXPLAINED_WARNINGS:
        assert f"**{rule}**" in markdown, rule
