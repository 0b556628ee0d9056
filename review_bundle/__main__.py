"""``python -m review_bundle --cdk-out cdk.out --output review``: write the review bundle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from review_bundle.assembly import AssemblyError
from review_bundle.bundle import write_bundle
from review_bundle.cost import DEFAULT_PRICES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review_bundle", description=__doc__)
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"), help="the synthesized cloud assembly")
    parser.add_argument("--output", type=Path, default=Path("review"), help="where to write the bundle")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help="the price table (YAML)")
    args = parser.parse_args(argv)
    try:
        bundle = write_bundle(args.cdk_out, args.output, args.prices)
    except (AssemblyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for warning in bundle.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Review bundle: {len(bundle.files)} files in {args.output}/ (start with {args.output}/index.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
