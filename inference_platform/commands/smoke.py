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


def run(args: argparse.Namespace, environment: DeployedEnvironment) -> int:
    models = args.model or environment.models()
    if not models:
        raise NotDeployedError(f"no model stacks are deployed in environment {environment.environment}")
    smoke = SmokeTests(environment, sample=args.sample, timeout=args.timeout, poll_interval=args.poll_interval)
    text, passed = report(environment.environment, smoke.run_id, smoke.run(models))
    print(text)
    return 0 if passed else 1
