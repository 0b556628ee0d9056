"""Compare two cloud assemblies file by file: are the templates byte-identical?

    .venv/bin/python bench/compare_assembly.py BASELINE_CDK_OUT NEW_CDK_OUT

Every ``*.template.json`` must be byte-identical (nothing is ignored: this project's templates
carry no asset hashes that change between runs). The construct metadata files
(``*.metadata.json``, where CDK records cdk-nag acknowledgements) and the manifests are
compared too, with the jsii kernel's temporary directory name (different in every process,
it appears in creation stacks) masked, and reported; only the templates decide the exit code.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

KERNEL_DIR = re.compile(rb"jsii-kernel-[A-Za-z0-9]+")


def _content(path: Path, mask: bool) -> bytes:
    data = path.read_bytes()
    return KERNEL_DIR.sub(b"jsii-kernel-*", data) if mask else data


def compare(baseline: Path, new: Path, pattern: str, mask: bool = False) -> tuple[int, list[str]]:
    old_files = {path.relative_to(baseline) for path in baseline.rglob(pattern)}
    new_files = {path.relative_to(new) for path in new.rglob(pattern)}
    problems = [f"only in {baseline}: {path}" for path in sorted(old_files - new_files)]
    problems += [f"only in {new}: {path}" for path in sorted(new_files - old_files)]
    problems += [
        f"differs: {path}"
        for path in sorted(old_files & new_files)
        if _content(baseline / path, mask) != _content(new / path, mask)
    ]
    return len(old_files | new_files), problems


def main() -> int:
    baseline, new = Path(sys.argv[1]), Path(sys.argv[2])
    failed = False
    for pattern, decides in (("*.template.json", True), ("*.metadata.json", False), ("manifest.json", False)):
        count, problems = compare(baseline, new, pattern, mask=pattern == "*.metadata.json")
        verdict = "identical" if not problems else f"{len(problems)} differ"
        print(f"{pattern:18s} {count:3d} files: {verdict}")
        for problem in problems:
            print(f"  {problem}")
        failed |= decides and bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
