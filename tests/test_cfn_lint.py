"""cfn-lint over every synthesized template: no errors, and no warning without a reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Warnings we accept, each with the reason. Errors are never accepted.
EXPLAINED_WARNINGS: dict[str, str] = {
    "W3005": "CDK's StateMachine adds a DependsOn on its role although RoleArn's GetAtt already orders them "
    "(the batch transform state machine); the redundant edge changes nothing in deployment order.",
    "W6001": "Model stacks publish complete s3:// paths (AsyncInputPath/OutputPath/FailurePath, BatchInputPath/"
    "OutputPath) that join a bucket name imported from the platform stack with the model's prefix, so a client "
    "reads one model stack's outputs to find its paths. The outputs are not exported, so no export chain forms.",
}


def test_cfn_lint_finds_no_errors_and_no_unexplained_warnings(shipped_cdk_out):
    files = [str(path) for path in sorted(shipped_cdk_out.rglob("*.template.json"))]
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
