"""``invoke-async``: send one file to a model's asynchronous endpoint and wait for the result."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from inference_platform.async_client import (
    AsyncInferenceTimeout,
    AsyncTarget,
    default_timeout,
    guess_content_type,
    submit,
    wait_for_result,
)
from inference_platform.deployed import DeployedEnvironment

NAME = "invoke-async"
HELP = "upload an input file, invoke the model's async endpoint and wait for the result"

# Exit codes besides 0 (result received) and 2 (not deployed / bad usage).
EXIT_FAILED = 1
EXIT_TIMED_OUT = 3
# Failure objects can be large; the message shows their start.
FAILURE_EXCERPT_BYTES = 4000


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds (got {value})")
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model name, e.g. iris")
    parser.add_argument("--input", required=True, type=Path, help="the request payload, e.g. data.csv")
    parser.add_argument("--content-type", help="MIME type of the input (default: from its extension)")
    parser.add_argument("--accept", help="MIME type wanted for the result (default: the model's choice)")
    parser.add_argument("--output", type=Path, help="save the result to this file instead of printing it")
    parser.add_argument(
        "--timeout",
        type=_positive,
        help="seconds to wait for the result (default: the endpoint's invocation timeout plus "
        "10 minutes to wake an endpoint scaled to zero)",
    )
    parser.add_argument("--poll-interval", type=_positive, default=5.0, help="seconds between checks (default 5)")


def run(args: argparse.Namespace, environment: DeployedEnvironment) -> int:
    if not args.input.is_file():
        print(f"error: input file {args.input} not found", file=sys.stderr)
        return 2
    target = AsyncTarget.of(environment, args.model)
    timeout = args.timeout or default_timeout(target)
    content_type = args.content_type or guess_content_type(args.input)
    s3 = environment.client("s3")
    try:
        submission = submit(
            s3,
            environment.client("sagemaker-runtime"),
            target,
            args.input,
            content_type=content_type,
            accept=args.accept,
        )
        print(
            f"queued {args.input} as inference {submission.inference_id} on {target.endpoint_name}; "
            f"waiting up to {timeout:.0f} s for {submission.output_location}",
            file=sys.stderr,
        )
        result = wait_for_result(
            s3,
            submission,
            timeout=timeout,
            poll_interval=args.poll_interval,
            progress=lambda elapsed: print(f"  still waiting ({elapsed:.0f} s elapsed)", file=sys.stderr),
        )
    except AsyncInferenceTimeout as error:
        print(f"error: timed out: {error}", file=sys.stderr)
        return EXIT_TIMED_OUT
    except (ClientError, BotoCoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED

    if not result.succeeded:
        excerpt = result.body[:FAILURE_EXCERPT_BYTES].decode("utf-8", errors="replace")
        print(f"error: inference {submission.inference_id} failed; SageMaker wrote {result.location}:", file=sys.stderr)
        print(excerpt, file=sys.stderr)
        return EXIT_FAILED
    if args.output:
        args.output.write_bytes(result.body)
        print(f"result saved to {args.output} (from {result.location})", file=sys.stderr)
    else:
        sys.stdout.buffer.write(result.body)
        sys.stdout.flush()
    return 0
