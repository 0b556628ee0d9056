"""The acknowledged exceptions of the shipped app, as the table SECURITY.md carries.

Every cdk-nag acknowledgement and checkov skip the constructs record (``compliance.py``) is
one row: where it sits, the exact finding, its reason, and the environments it applies to.
``tests/test_security_md.py`` fails when SECURITY.md's table differs from what the code
records; regenerate it with::

    .venv/bin/python -m scripts.exceptions_report
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import aws_cdk as cdk

from inference_constructs.compliance import recorded_acknowledgements

BEGIN = "<!-- BEGIN GENERATED EXCEPTIONS: python -m scripts.exceptions_report -->"
END = "<!-- END GENERATED EXCEPTIONS -->"
REPO_ROOT = Path(__file__).resolve().parent.parent
SECURITY_MD = REPO_ROOT / "SECURITY.md"


def generalize(text: str, stage: str) -> str:
    """Write the environment's names as ``<Env>``/``<env>`` so rows merge across environments."""
    text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(stage)}(?![a-z0-9])", "<Env>", text)
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(stage.lower())}(?![a-z0-9])", "<env>", text)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*").replace("<", "&lt;").replace(">", "&gt;")


def exception_rows(app: cdk.App) -> list[tuple[str, str, str, list[str]]]:
    """(construct path, finding id, reason, environments), sorted, from the app's records."""
    environments: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for ack in recorded_acknowledgements(app):
        stage, _, path = ack.path.partition("/")
        key = (path, generalize(ack.finding_id, stage), generalize(ack.reason, stage))
        environments[key].add(stage.lower())
    return [(*key, sorted(names)) for key, names in sorted(environments.items())]


def render(app: cdk.App) -> str:
    """The generated block: a Markdown table between the BEGIN and END markers."""
    lines = [
        BEGIN,
        "| Where (stack/construct) | Finding | Reason | Environments |",
        "|---|---|---|---|",
        *(
            f"| `{path}` | `{finding}` | {_cell(reason)} | {', '.join(names)} |"
            for path, finding, reason, names in exception_rows(app)
        ),
        END,
    ]
    return "\n".join(lines)


def generated_block(markdown: str) -> str:
    """The generated block as it stands in ``markdown`` (empty if the markers are missing)."""
    start, end = markdown.find(BEGIN), markdown.find(END)
    return markdown[start : end + len(END)] if 0 <= start < end else ""


def shipped_app(outdir: str) -> cdk.App:
    """The shipped environments, built and synthesized as ``cdk synth`` does (nag packs on)."""
    from inference_config.loader import environment_files, load_environments
    from stacks.application import build_stages, register_compliance_checks

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=outdir, builtin_cloud_formation_validation=False, context=context)
    configs = load_environments(environment_files(REPO_ROOT / "config"), base_dir=REPO_ROOT)
    build_stages(app, configs, base_dir=str(REPO_ROOT))
    register_compliance_checks(app)
    app.synth()
    return app


def main() -> int:
    markdown = SECURITY_MD.read_text()
    current = generated_block(markdown)
    if not current:
        print(f"{SECURITY_MD}: no generated block ({BEGIN} ... {END})", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as outdir:
        fresh = render(shipped_app(outdir))
    SECURITY_MD.write_text(markdown.replace(current, fresh))
    print(f"{SECURITY_MD}: {'unchanged' if fresh == current else 'exceptions table updated'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
