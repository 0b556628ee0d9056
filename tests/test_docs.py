"""README.md and docs/: short enough to read, and every link between them lands somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").rglob("*.md"))
PAGES = [README, REPO_ROOT / "SECURITY.md", REPO_ROOT / "BENCHMARKS.md", *DOCS]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _without_code(markdown: str) -> str:
    """The text outside fenced code blocks and inline code, where links and headings live."""
    return re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL))


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors (lower case, punctuation dropped, spaces as hyphens) and explicit ids."""
    found = set(re.findall(r'<a id="([^"]+)"></a>', markdown))
    for heading in re.findall(
        r"^#{1,6} (.+)$", re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL), flags=re.MULTILINE
    ):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_readme_is_a_five_minute_read():
    assert len(README.read_text().splitlines()) <= 250


def test_readme_shows_the_two_commands_and_the_deploy_command():
    # CI hooks and newcomers look for these verbatim.
    readme = README.read_text()
    for command in ("make synth", "make test", "npx cdk deploy"):
        assert command in readme, command


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO_ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in LINK.findall(_without_code(page.read_text())):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto: and the like are not ours to check offline
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{target}: no file {destination}")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination.read_text()):
            broken.append(f"{target}: no heading or id '{anchor}' in {destination.name}")
    assert broken == []
