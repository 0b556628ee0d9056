"""``python -m inference_platform <command> --env <environment> ...``: clients for deployed environments."""

from __future__ import annotations

import argparse
import sys

from inference_platform.commands import COMMANDS
from inference_platform.deployed import DeployedEnvironment, NotDeployedError


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m inference_platform", description=__doc__)
    subcommands = root.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        sub = subcommands.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        sub.add_argument("--env", required=True, help="environment name, e.g. dev")
        sub.add_argument("--region", help="AWS region (default: from the AWS configuration)")
        sub.add_argument("--profile", help="AWS profile (default: from the AWS configuration)")
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    environment = DeployedEnvironment.connect(args.env, region=args.region, profile=args.profile)
    try:
        return int(args.run(args, environment))
    except NotDeployedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
