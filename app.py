#!/usr/bin/env python3
"""CDK entry point: the only place that reads the command line, context or environment.

Context keys (``cdk synth -c key=value``):
  config_dir          directory of ``<environment>.yaml`` files and ``pipeline.yaml`` (default: ``config``)
  environments        comma-separated environments to build (default: every file in config_dir)
  pipeline            ``false`` to ignore an enabled ``pipeline.yaml`` and build the environments directly
  model_packages      model package group -> the version the pipeline resolved: JSON, or a JSON file
                      (scripts.resolve_model_packages writes it; stacks/model_approval.py)
  builtin_validation  ``true`` to run CDK's built-in CloudFormation validation as well
                      (off by default: it triples synth time, only warns, and cfn-lint runs
                      over every template in ``make test``)
  tree_metadata       ``true`` to write ``cdk.out/tree.json``, the construct tree that IDE explorers
                      (the AWS Toolkit's CDK view) and diagram tools such as cdk-dia read (off by
                      default: neither ``cdk synth``/``cdk deploy`` nor this project reads it, with
                      CDK notices off, and it repeats every resource's properties: at 100 models
                      200 MB of peak memory and 7 % of the synth, BENCHMARKS.md)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from inference_config.loader import (
    PIPELINE_FILE,
    ConfigError,
    environment_files,
    load_environments,
    load_pipeline,
)
from inference_constructs.errors import InvalidPropsError
from stacks.application import build_pipeline, build_stages, register_compliance_checks, synthesize

BASE_DIR = Path(__file__).resolve().parent


def pinned_cdk_cli_version() -> str | None:
    """The CDK CLI version package.json pins, which the pipeline then runs too."""
    package = json.loads((BASE_DIR / "package.json").read_text())
    return package.get("devDependencies", {}).get("aws-cdk")


def _model_packages(app: cdk.App, source: str) -> dict[str, Any]:
    """``-c model_packages=<JSON>``: the model package versions the pipeline resolved, by group
    (``python -m scripts.resolve_model_packages`` prints it), so synth looks nothing up."""
    value = app.node.try_get_context("model_packages")
    if value is None or isinstance(value, dict):
        return value or {}
    text = str(value)
    if not text.lstrip().startswith("{"):  # a file the resolver wrote, relative to the repository
        path = BASE_DIR / text
        if not path.is_file():
            raise ConfigError([f"{source}: -c model_packages={text}: no such file"])
        text = path.read_text()
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError([f"{source}: -c model_packages is not JSON ({error})"]) from None
    if not isinstance(parsed, dict):
        raise ConfigError([f"{source}: -c model_packages must be a JSON object of group to version"])
    return parsed


def main(app: cdk.App | None = None) -> int:
    """Build and synthesize the app; return the exit code. Tests pass their own ``App``."""
    if app is None:
        # Context can only be read from an App, so peek with a throwaway one (no synth).
        context = cdk.App(tree_metadata=False).node
        app = cdk.App(
            builtin_cloud_formation_validation=str(context.try_get_context("builtin_validation")).lower() == "true",
            tree_metadata=str(context.try_get_context("tree_metadata")).lower() == "true",
        )
    config_dir = BASE_DIR / str(app.node.try_get_context("config_dir") or "config")
    selected = app.node.try_get_context("environments")
    use_pipeline = str(app.node.try_get_context("pipeline") or "true").lower() != "false"
    try:
        pipeline_file = config_dir / PIPELINE_FILE
        pipeline = load_pipeline(pipeline_file, base_dir=BASE_DIR) if pipeline_file.is_file() else None
        if use_pipeline and pipeline is not None and pipeline.enabled:
            if selected:
                raise ConfigError(
                    [f"{PIPELINE_FILE}: the pipeline deploys its stages; drop -c environments or add -c pipeline=false"]
                )
            paths = [config_dir / f"{name}.yaml" for name in pipeline.environments]
            configs = load_environments(
                paths, base_dir=BASE_DIR, pipeline=True, model_packages=_model_packages(app, PIPELINE_FILE)
            )
            build_pipeline(app, pipeline, configs, base_dir=str(BASE_DIR), cli_version=pinned_cdk_cli_version())
        else:
            if selected:
                paths = [config_dir / f"{name.strip()}.yaml" for name in str(selected).split(",")]
            else:
                paths = environment_files(config_dir)
            if not paths:
                raise ConfigError([f"{config_dir}: no <environment>.yaml files found"])
            # Delivered by the pipeline (when enabled) even when built directly (-c pipeline=false):
            # model package groups then need the versions it resolved (-c model_packages).
            configs = load_environments(
                paths,
                base_dir=BASE_DIR,
                pipeline=pipeline is not None and pipeline.enabled,
                model_packages=_model_packages(app, PIPELINE_FILE),
            )
            build_stages(app, configs, base_dir=str(BASE_DIR))
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return 1
    except InvalidPropsError as error:
        print(f"Invalid construct props: {error}", file=sys.stderr)
        return 1
    register_compliance_checks(app)
    problems = synthesize(app)
    if problems:
        print("CloudFormation limits exceeded:\n" + "\n".join(f"  {p}" for p in problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
