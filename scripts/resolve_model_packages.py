"""``python -m scripts.resolve_model_packages``: the latest approved version of every model
package group the configs name, as JSON for ``cdk synth -c model_packages=...``.

The delivery pipeline's synth step runs it (with the pipeline's credentials) so that synth
itself looks nothing up; run it by hand, with credentials, to synthesize such configs locally.
The configs are read as plain YAML here: they only validate once their groups are resolved.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from inference_platform.model_registry import ModelRegistryError, latest_approved, pinned_version


def groups_in(config_dir: Path) -> list[str]:
    """Every ``model_package.group`` of the environment files in ``config_dir``, sorted."""
    groups = set()
    for path in sorted(config_dir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        for model in data.get("models", []) if isinstance(data, dict) else []:
            package = model.get("model_package") if isinstance(model, dict) else None
            if isinstance(package, dict) and isinstance(package.get("group"), str):
                groups.add(package["group"])
    return sorted(groups)


def resolve(sagemaker: Any, groups: list[str], pinned: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Each group's latest approved version, or the approved version ``pinned`` names for it."""
    pinned = pinned or {}
    unknown = sorted(set(pinned) - set(groups))
    if unknown:
        raise ModelRegistryError(f"pinned groups {unknown} are not named by any model's model_package.group")
    return {
        group: (
            pinned_version(sagemaker, group, pinned[group]) if group in pinned else latest_approved(sagemaker, group)
        ).as_dict()
        for group in groups
    }


def _pinned(text: str) -> dict[str, str]:
    """``--pinned``: a JSON object of group -> version ARN; empty (the pipeline variable's default) pins nothing."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise argparse.ArgumentTypeError(
            'expected a JSON object of group to version ARN, e.g. {"iris-models": "arn:..."}'
        )
    return value


def main(argv: list[str] | None = None, sagemaker: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.resolve_model_packages", description=__doc__)
    parser.add_argument("--config-dir", type=Path, default=Path("config"))
    parser.add_argument(
        "--pinned",
        type=_pinned,
        default={},
        help="JSON object of group -> approved version ARN to deploy instead of the latest "
        "(the pipeline passes its ModelPackageVersions variable)",
    )
    args = parser.parse_args(argv)
    groups = groups_in(args.config_dir)
    if groups and sagemaker is None:
        import boto3

        sagemaker = boto3.client("sagemaker")
    try:
        resolved = resolve(sagemaker, groups, args.pinned) if groups or args.pinned else {}
    except ModelRegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(resolved, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
