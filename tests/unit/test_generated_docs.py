"""Files generated from code must match it: the README's namespace table, the custom-event schema; and the README
keeps its two set-up commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

from incident_bridge.docs import SCHEMA_FILE, schema_text
from incident_bridge.resources import catalogue_markdown
from incident_bridge.sources.profiles import profiles_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_namespace_table_matches_the_catalogue() -> None:
    # Given the README's generated section
    text = README.read_text(encoding="utf-8")
    section = re.search(r"<!-- catalogue:start -->\n(.*?)\n<!-- catalogue:end -->", text, flags=re.S)

    # When it is compared with the catalogue / Then they match (run `make docs` after changing the catalogue)
    assert section is not None
    assert section.group(1) == catalogue_markdown().rstrip("\n")


def test_service_event_table_matches_the_profiles() -> None:
    # Given the README's generated section on AWS service events
    text = README.read_text(encoding="utf-8")
    section = re.search(r"<!-- profiles:start -->\n(.*?)\n<!-- profiles:end -->", text, flags=re.S)

    # When it is compared with the profile catalogue / Then they match (run `make docs` after changing a profile)
    assert section is not None
    assert section.group(1) == profiles_markdown().rstrip("\n")


def test_setup_section_gives_exactly_two_commands() -> None:
    # Given the README's "Set up" section
    text = README.read_text(encoding="utf-8")
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]

    # When its code block is read / Then it holds exactly `make demo` and `make test`
    block = setup.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_custom_incident_schema_file_matches_the_model() -> None:
    # Given the schema file published for producers of custom events
    published = SCHEMA_FILE.read_text(encoding="utf-8")

    # When it is compared with the schema generated from the model / Then they match (run `make docs`)
    assert published == schema_text()
    assert json.loads(published)["required"] == ["title"]
