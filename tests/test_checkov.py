"""checkov over every synthesized template: zero failed checks; every skip is named and explained."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from inference_constructs.compliance import recorded_acknowledgements
from tests.conftest import REPO_ROOT


def _run_checkov(directory: str) -> list[dict]:
    checkov = Path(sys.executable).parent / "checkov"
    result = subprocess.run(
        [str(checkov), "--config-file", str(REPO_ROOT / ".checkov.yaml"), "-d", directory, "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.stdout, result.stderr
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


def test_checkov_passes_every_template_and_each_skip_has_a_recorded_reason(synthesized):
    reports = _run_checkov(synthesized.assembly.directory)
    failed = [
        f"{check['file_path']} {check['resource']} {check['check_id']} {check['check_name']}"
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert not failed, "\n".join(failed)
    assert sum(report["summary"]["passed"] for report in reports) > 0
    # Each recorded skip (written into a resource's metadata with its reason) must be used,
    # and nothing else may be skipped.
    skipped = sum(report["summary"]["skipped"] for report in reports)
    recorded = [ack for ack in recorded_acknowledgements(synthesized.app) if ack.finding_id.startswith("checkov::")]
    assert skipped == len(recorded), (skipped, recorded)
