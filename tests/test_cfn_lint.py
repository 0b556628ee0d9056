"""cfn-lint over every synthesized template: no errors, and no warning without a reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Warnings we accept, each with the reason. Errors are never accepted.
EXPLAINED_WARNINGS: dict[str, str] = {
    "W6001": "A model stack's AsyncInputPath/AsyncOutputPath/AsyncFailurePath outputs join the platform's async "
    "bucket name (imported from the platform stack) with the model's prefix, so a client reads one complete "
    "s3:// path from one stack. The outputs are not exported, so no export chain is created.",
}


def test_cfn_lint_finds_no_errors_and_no_unexplained_warnings(synthesized):
    files = [str(path) for path in synthesized.template_files()]
    assert files
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "json", "--", *files], capture_output=True, text=True, check=False
    )
    assert result.returncode % 2 == 0, result.stderr  # 2, 4, 8 flag findings; an odd code is a crash
    matches = json.loads(result.stdout or "[]")
    unexplained = [
        f"{m['Filename']}:{m['Location']['Start']['LineNumber']} {m['Rule']['Id']} {m['Message']}"
        for m in matches
        if m["Level"] == "Error" or m["Rule"]["Id"] not in EXPLAINED_WARNINGS
    ]
    assert not unexplained, "\n".join(unexplained)
