"""Colours for a terminal, none in a pipe: ANSI styles when the stream is a TTY, honouring NO_COLOR and FORCE_COLOR
(https://no-color.org, https://force-color.org)."""

from __future__ import annotations

import os
from typing import TextIO

from incident_bridge.outcome import OutcomeKind

_RESET = "\033[0m"
_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}
#: An incident starting is what pages someone: the loudest colour.
OUTCOME_COLOURS = {
    OutcomeKind.STARTED: "red",
    OutcomeKind.UPDATED: "yellow",
    OutcomeKind.RESOLVED: "green",
    OutcomeKind.IGNORED: "dim",
    OutcomeKind.REJECTED: "magenta",
}


def colours_wanted(stream: TextIO, environment: dict[str, str] | None = None) -> bool:
    variables = os.environ if environment is None else environment
    if variables.get("NO_COLOR"):
        return False
    if variables.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and variables.get("TERM") != "dumb"


class Style:
    """Wraps text in ANSI codes when enabled; hands it back unchanged otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        return cls(colours_wanted(stream))

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles or not text:
            return text
        return f"\033[{';'.join(_CODES[style] for style in styles)}m{text}{_RESET}"

    def outcome(self, kind: OutcomeKind, text: str | None = None) -> str:
        return self(kind.value if text is None else text, OUTCOME_COLOURS[kind], "bold")
