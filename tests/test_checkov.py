"""checkov over every synthesized template: zero failed checks; every skip is named and explained."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def _written_skips(directory: Path) -> list[tuple[str, str, str, str]]:
    """Every checkov skip in the templates' metadata (what ``skip_checkov_check`` writes): file,
    resource, check id and the reason given."""
    return [
        (path.name, logical_id, skip["id"], skip.get("comment", ""))
        for path in sorted(directory.rglob("*.template.json"))
        for logical_id, resource in json.loads(path.read_text()).get("Resources", {}).items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


def test_checkov_passes_every_template_and_each_skip_has_a_recorded_reason(shipped_cdk_out):
    reports = _run_checkov(str(shipped_cdk_out))
    failed = [
        f"{check['file_path']} {check['resource']} {check['check_id']} {check['check_name']}"
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert not failed, "\n".join(failed)
    assert sum(report["summary"]["passed"] for report in reports) > 0
    # Each recorded skip (written into a resource's metadata with its reason by
    # skip_checkov_check) must be used, and nothing else may be skipped.
    skipped = sum(report["summary"]["skipped"] for report in reports)
    recorded = _written_skips(shipped_cdk_out)
    assert recorded
    assert all(len(reason) >= 30 for *_, reason in recorded), recorded
    assert skipped == len(recorded), (skipped, recorded)
