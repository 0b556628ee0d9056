"""``run-batch``: run a batch transform of one model over a local file or an S3 prefix, and wait."""

from __future__ import annotations

import argparse
import sys

from inference_platform.batch_client import BatchClient, BatchRunError, BatchTarget, RunOutcome
from inference_platform.deployed import DeployedEnvironment

NAME = "run-batch"
HELP = "run a batch transform over a local file or s3:// prefix, follow it, and print where the output is"

# Exit codes: 0 the job succeeded; 1 it failed, timed out or was stopped; 2 nothing was started
# (bad arguments, environment not deployed); 3 still running when --timeout ran out.
RUN_FAILED = 1
NOT_STARTED = 2
STILL_RUNNING = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model name, e.g. iris")
    parser.add_argument(
        "--input",
        required=True,
        help="a local file (uploaded under the model's batch input path) or an s3:// URI under that path",
    )
    parser.add_argument(
        "--output-prefix", help="s3:// prefix under the model's batch output path (default: output/<job name>/)"
    )
    parser.add_argument(
        "--timeout", type=float, help="stop waiting after this many seconds (the run goes on); default: wait"
    )
    parser.add_argument("--poll-interval", type=float, default=15.0, help="seconds between status checks")


def run(args: argparse.Namespace, environment: DeployedEnvironment) -> int:
    client = BatchClient(environment.session, BatchTarget.of(environment, args.model))
    try:
        outcome = client.run(
            args.input, output_prefix=args.output_prefix, timeout=args.timeout, poll_interval=args.poll_interval
        )
    except BatchRunError as error:
        print(f"error: {error}", file=sys.stderr)
        return NOT_STARTED
    except KeyboardInterrupt:
        print("stopped waiting; the run goes on (its execution ARN is above)", file=sys.stderr)
        return 130
    return _report(outcome)


def _report(outcome: RunOutcome) -> int:
    if outcome.succeeded:
        print(f"succeeded: transform job {outcome.job_name}")
        print(f"output: {outcome.output_uri}")
        for uri in outcome.output_objects:
            print(f"  {uri}")
        return 0
    if outcome.status == "RUNNING":
        print(
            f"still running after --timeout; the run goes on: {outcome.execution_arn}"
            + (f"\noutput will be under: {outcome.output_uri}" if outcome.output_uri else ""),
            file=sys.stderr,
        )
        return STILL_RUNNING
    print(f"{outcome.status.lower()}: {outcome.execution_arn}", file=sys.stderr)
    if outcome.error or outcome.cause:
        print(f"  {outcome.error}: {outcome.cause}", file=sys.stderr)
    return RUN_FAILED
