"""Turns pydantic validation errors into one line a human can act on: the path to the field and the problem."""

from __future__ import annotations

from pydantic import ValidationError


def describe(error: ValidationError, *, limit: int = 5, prefix: str = "") -> str:
    problems = []
    for detail in error.errors()[:limit]:
        path = ".".join(str(part) for part in (prefix, *detail["loc"]) if part != "") or "(root)"
        problems.append(f"{path}: {detail['msg']}")
    more = error.error_count() - limit
    if more > 0:
        problems.append(f"and {more} more")
    return "; ".join(problems)
