"""``invoke-stream``: send a prompt to a text-generation model's real-time endpoint and print
the answer token by token as it is generated, with progress on stderr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from inference_platform.deployed import DeployedEnvironment
from inference_platform.streaming import StreamTarget, stream, text_generation_request

NAME = "invoke-stream"
HELP = "stream a text-generation model's answer to a prompt, token by token (InvokeEndpointWithResponseStream)"

EXIT_FAILED = 1


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model name, e.g. llm")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--prompt", help="the prompt text")
    source.add_argument("--input", type=Path, help="a JSON request body to send as it is (stream: true inside)")
    parser.add_argument("--max-new-tokens", type=_positive_int, default=256, help="with --prompt (default 256)")


def run(args: argparse.Namespace, environment: DeployedEnvironment) -> int:
    if args.input is not None and not args.input.is_file():
        print(f"error: input file {args.input} not found", file=sys.stderr)
        return 2
    target = StreamTarget.of(environment, args.model)
    body = args.input.read_bytes() if args.input else text_generation_request(args.prompt, args.max_new_tokens)
    print(f"streaming from {target.endpoint_name}", file=sys.stderr)

    def print_token(token: str) -> None:
        sys.stdout.write(token)
        sys.stdout.flush()

    try:
        stats = stream(environment.client("sagemaker-runtime"), target, body, on_token=print_token)
    except (ClientError, BotoCoreError) as error:  # EventStreamError (a failure midway) is a ClientError
        print(f"\nerror: {error}", file=sys.stderr)
        return EXIT_FAILED
    sys.stdout.write("\n")
    first = f"first after {stats.first_token_seconds:.2f} s, " if stats.first_token_seconds is not None else ""
    print(
        f"{stats.tokens} tokens in {stats.seconds:.2f} s ({first}{stats.tokens_per_second:.1f} tokens/s)",
        file=sys.stderr,
    )
    if stats.tokens == 0:
        print("error: the endpoint streamed no tokens", file=sys.stderr)
        return EXIT_FAILED
    return 0
