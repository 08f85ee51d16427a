"""Writes the files generated from code (`make docs`): the README's namespace and service-event tables and the
custom-event schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

from incident_bridge.custom import schema_document
from incident_bridge.resources import catalogue_markdown
from incident_bridge.sources.profiles import profiles_markdown

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMA_FILE = PACKAGE_DIR / "custom_incident.schema.json"
README = PACKAGE_DIR.parent.parent / "README.md"
_CATALOGUE_SECTION = re.compile(r"(<!-- catalogue:start -->\n).*?(\n<!-- catalogue:end -->)", flags=re.S)
_PROFILES_SECTION = re.compile(r"(<!-- profiles:start -->\n).*?(\n<!-- profiles:end -->)", flags=re.S)


def schema_text() -> str:
    return json.dumps(schema_document(), indent=2, ensure_ascii=False) + "\n"


def readme_with_catalogue(readme: str) -> str:
    table = catalogue_markdown().rstrip("\n")
    profiles = profiles_markdown().rstrip("\n")
    readme = _CATALOGUE_SECTION.sub(lambda match: match.group(1) + table + match.group(2), readme)
    return _PROFILES_SECTION.sub(lambda match: match.group(1) + profiles + match.group(2), readme)


def main() -> None:
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    README.write_text(readme_with_catalogue(README.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
