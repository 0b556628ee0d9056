"""``python -m aws_rules cdk.out``: check every template of a cloud assembly against AWS's rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aws_rules.rules import RULES, check_all
from aws_rules.templates import Templates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aws_rules", description=__doc__)
    parser.add_argument("cdk_out", type=Path, help="a cloud assembly directory, e.g. cdk.out")
    args = parser.parse_args(argv)
    violations = check_all(Templates.from_directory(args.cdk_out))
    for violation in violations:
        print(violation)
    print(f"{len(RULES)} AWS rules checked: {len(violations)} violation(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
