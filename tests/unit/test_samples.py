"""events/: every sample is a published AWS payload listed in events/SOURCES.md with where it came from."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import EVENTS_DIR

SOURCES = (EVENTS_DIR / "SOURCES.md").read_text(encoding="utf-8")
#: The table's rows: `file` | source | what it exercises.
ROWS = {match[1]: match[2] for match in re.finditer(r"^\| `([^`]+\.json)` \|([^|]+)\|", SOURCES, re.MULTILINE)}
SAMPLES = sorted(path.name for path in EVENTS_DIR.glob("*.json"))
#: A source names a repository file pinned to a commit, a doc page by its address, or the row above ("same file").
SOURCE_NAMED = re.compile(r"@ `[0-9a-f]{40}`|docs\.aws\.amazon\.com/|same file and commit|same commit")


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_is_listed_with_its_source(sample: str) -> None:
    # Given a sample in events/ / When SOURCES.md is read / Then its row names where it was published
    assert sample in ROWS, f"{sample} is not listed in events/SOURCES.md"
    assert SOURCE_NAMED.search(ROWS[sample]), ROWS[sample]


def test_every_listed_sample_exists_and_is_json() -> None:
    # Given the rows of SOURCES.md / Then each names a file here, and every file is valid JSON
    assert sorted(ROWS) == SAMPLES
    for sample in SAMPLES:
        json.loads((EVENTS_DIR / sample).read_text(encoding="utf-8"))
