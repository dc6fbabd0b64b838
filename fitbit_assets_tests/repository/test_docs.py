"""The documentation: the site in docs/ builds with ``mkdocs build --strict`` (a moved page, a broken link or anchor, a
page missing from the navigation or a missing included file fails it), the README stays a few screens long and its
links lead to files of the repository, and neither names issue numbers or files outside the repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCUMENTS = [README, *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 250


def test_the_site_builds_strictly(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (tmp_path / "site" / "layout" / "index.html").exists()


def test_the_readme_fits_on_a_few_screens():
    lines = len(README.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move the detail to a page of docs/"


def test_every_relative_link_of_the_readme_is_a_file_of_the_repository():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    missing = [t for t in targets if "://" not in t and not (REPO / t).exists()]
    assert not missing, f"README.md links to files that are not there: {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_no_issue_numbers_and_no_files_outside_the_repository(document):
    text = document.read_text()
    assert not re.findall(r"\bissues? \d+|#\d{2,}\b", text, re.IGNORECASE), "issue references: say what they mean"
    assert not re.findall(r"(?<![.\w])\.\./\w", text), "paths outside the repository"
