"""``outputs``: print what a deployed environment exposes (endpoints, buckets, topics)."""

from __future__ import annotations

import argparse
import json

from inference_platform.deployed import DeployedEnvironment

NAME = "outputs"
HELP = "print the deployed stack outputs of an environment as JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", action="append", help="only these models (default: every deployed model)")


def run(args: argparse.Namespace, environment: DeployedEnvironment) -> int:
    models = args.model or environment.models()
    report = {
        "platform": environment.platform_outputs(),
        "models": {model: environment.model_outputs(model) for model in models},
    }
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0
