"""``smoke``: prove that every deployed mode of every model answers (post-deploy check).

Exit codes: 0 every check that ran passed; 1 a check failed, or nothing could be checked;
2 the environment or a named model is not deployed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inference_platform.deployed import DeployedEnvironment, NotDeployedError
from inference_platform.smoke import Sample, SmokeTests, report

NAME = "smoke"
HELP = "invoke every deployed mode of every model with a sample and check the answers (exits 1 on any failure)"


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {value}")
    return number


def _sample(value: str) -> Sample:
    path = Path(value)
    try:
        rows = tuple(line for line in path.read_text().splitlines() if line.strip())
    except (OSError, UnicodeDecodeError) as error:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {error}") from None
    if not rows:
        raise argparse.ArgumentTypeError(f"{path} holds no records")
    return Sample(rows=rows)


def _target_model(value: str) -> tuple[str, str]:
    model, separator, target = value.partition("=")
    if not separator or not model or not target:
        raise argparse.ArgumentTypeError(f"expected MODEL=TARGET, e.g. tenants=tenant-a/model.tar.gz; got {value!r}")
    return model, target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", action="append", help="only these models (default: every deployed model)")
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=900.0,
        help="seconds to wait for each asynchronous result and batch execution (default: 900)",
    )
    parser.add_argument(
        "--poll-interval", type=_positive, default=5.0, help="seconds between two looks at a pending result"
    )
    parser.add_argument(
        "--sample",
        type=_sample,
        help="a CSV file of records to send, one per line (default: three iris rows); "
        "the answer must hold one line per record",
    )
    parser.add_argument(
        "--target-model",
        type=_target_model,
        action="append",
        default=[],
        metavar="MODEL=TARGET",
        help="for a multi-model endpoint: the model to invoke (TargetModel, its key under the endpoint's model data "
        "prefix), e.g. tenants=tenant-a/model.tar.gz; repeat per model",
    )


def run(args: argparse.Namespace, environment: DeployedEnvironment) -> int:
    models = args.model or environment.models()
    if not models:
        raise NotDeployedError(f"no model stacks are deployed in environment {environment.environment}")
    smoke = SmokeTests(
        environment,
        sample=args.sample,
        timeout=args.timeout,
        poll_interval=args.poll_interval,
        target_models=dict(args.target_model),
    )
    text, passed = report(environment.environment, smoke.run_id, smoke.run(models))
    print(text)
    return 0 if passed else 1
