"""`config check` warnings: what a valid configuration does that its author almost certainly did not mean.

Routes are tried in order and the first that matches wins (unless it says `continue`), so a route can be valid
and yet never reached, and a matcher can be valid and yet never fire. Each check below is conservative: it warns
only where it can show why (the one exception, a likely misspelt AWS namespace, says it is a guess).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterator, Mapping
from dataclasses import fields

from incident_bridge.config import BridgeConfig, Match, Route
from incident_bridge.reader import document_key

#: What every alarm looks like to the matchers (routing.facts_of): an alarm's source and detail-type.
ALARM_SOURCE = "aws.cloudwatch"
ALARM_DETAIL_TYPE = "CloudWatch Alarm State Change"
#: Matchers that only an alarm can satisfy: custom application events and AWS service events carry no alarm name,
#: metric, dimension or alarm tag labels (sources/application.py, sources/profiles.py).
ALARM_ONLY = ("alarm_name", "alarm_name_regex", "namespace", "metric_name", "dimensions", "tags")
#: The `state` values that reach routing: an alarm's ALARM or OK (INSUFFICIENT_DATA is ignored before routing), an
#: AWS service event's firing or recovering.
ROUTED_STATES = ("ALARM", "OK", "firing", "recovering")
_GLOB_CHARACTERS = re.compile(r"[*?\[]")
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")


def route_label(route: Route, index: int) -> str:
    return f"routes.{index} ({route.name})" if route.name else f"routes.{index}"


def warnings_for(config: BridgeConfig) -> list[str]:
    warnings = _shadowing_catch_alls(config)
    warnings += _covered_routes(config)
    for index, route in enumerate(config.routes):
        warnings += [f"{route_label(route, index)}: {problem}" for problem in never_firing(route.match)]
    return warnings


# ---- unreachable routes ----


def _shadowing_catch_alls(config: BridgeConfig) -> list[str]:
    """A route without `match` catches every event; unless it says `continue`, nothing after it is ever tried."""
    routes = config.routes
    for index, route in enumerate(routes):
        later = len(routes) - index - 1
        if not has_matchers(route.match) and not route.continue_ and later:
            what = "drops every event" if route.drop else "catches every event"
            return [
                f"{route_label(route, index)} has no 'match': it {what}, so the {later} route(s) after it and the "
                "default are never reached. Give it a 'match', move it last, or set 'continue: true'."
            ]
    return []


def _covered_routes(config: BridgeConfig) -> list[str]:
    """A later route whose every possible event an earlier, final route (no `continue`) already catches."""
    warnings = []
    routes = config.routes
    for later_index, later in enumerate(routes):
        for index, earlier in enumerate(routes[:later_index]):
            if earlier.continue_ or not has_matchers(earlier.match) or not covers(earlier.match, later.match):
                continue
            verb = "drops" if earlier.drop else "catches"
            warnings.append(
                f"{route_label(later, later_index)} is never reached: {route_label(earlier, index)} comes first and "
                f"{verb} every event it would match ({_describe(earlier.match)}). Move it above, or narrow the "
                "earlier route."
            )
            break
    return warnings


def has_matchers(match: Match) -> bool:
    return match != Match()


def covers(earlier: Match, later: Match) -> bool:
    """True when every event `later` matches, `earlier` matches too (so a final `earlier` shadows `later`)."""
    for spec in fields(Match):
        wanted = getattr(earlier, spec.name)
        if wanted is None:
            continue
        given = getattr(later, spec.name)
        if given is None:
            return False
        if isinstance(wanted, Mapping):
            if not all(key in given and _values_covered(given[key], patterns) for key, patterns in wanted.items()):
                return False
        elif spec.name == "alarm_name_regex":
            if not set(given) <= set(wanted):  # the same expressions: anything more would be a guess
                return False
        elif not _values_covered(given, wanted):
            return False
    return True


def _values_covered(given: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Each of `given`'s alternatives only matches values that one of `wanted`'s matches."""
    return all(any(_glob_covered(value, pattern) for pattern in wanted) for value in given)


def _glob_covered(value: str, pattern: str) -> bool:
    if pattern == "*" or value == pattern:
        return True
    # A literal is covered by a glob that matches it; a glob only by `*` or itself (anything more is a guess).
    return not _GLOB_CHARACTERS.search(value) and fnmatch.fnmatchcase(value, pattern)


def _describe(match: Match) -> str:
    parts = []
    for spec in fields(Match):
        wanted = getattr(match, spec.name)
        if wanted is None:
            continue
        key = document_key(spec)
        if isinstance(wanted, Mapping):
            parts += [f"{key}.{name}: {' | '.join(values)}" for name, values in wanted.items()]
        else:
            parts.append(f"{key}: {' | '.join(wanted)}")
    return ", ".join(parts)


# ---- matchers that can never fire ----


def never_firing(match: Match) -> Iterator[str]:
    alarm_only = [name for name in ALARM_ONLY if getattr(match, name) is not None]
    if alarm_only and match.source is not None and not _any_glob(ALARM_SOURCE, match.source):
        yield (
            f"'{alarm_only[0]}' can never fire: it matches alarms only, and 'source' ({' | '.join(match.source)}) "
            f"excludes alarms, whose source is {ALARM_SOURCE}"
        )
    if alarm_only and match.detail_type is not None and not _any_glob(ALARM_DETAIL_TYPE, match.detail_type):
        yield (
            f"'{alarm_only[0]}' can never fire: it matches alarms only, and 'detail-type' "
            f"({' | '.join(match.detail_type)}) excludes alarms, whose detail-type is {ALARM_DETAIL_TYPE}"
        )
    if match.state is not None and not any(_any_glob(state, match.state) for state in ROUTED_STATES):
        yield (
            f"state {' | '.join(match.state)} can never fire: only ALARM and OK (alarms; INSUFFICIENT_DATA is "
            "ignored before routing) and firing and recovering (AWS service events) reach routing"
        )
    for value in match.account or ():
        if not _GLOB_CHARACTERS.search(value) and not _ACCOUNT.fullmatch(value):
            yield f"account {value!r} can never fire: AWS account ids are 12 digits"
    for value in match.region or ():
        if not _GLOB_CHARACTERS.search(value) and not _REGION.fullmatch(value):
            yield f"region {value!r} can never fire: it is not a region code like us-east-1"
    for value in match.namespace or ():
        suggestion = _misspelt_aws_namespace(value)
        if suggestion:
            yield (
                f"namespace {value!r} is not one the bridge knows AWS to publish (names starting AWS/ are AWS's "
                f"own; no alarm can have a made-up one): did you mean {suggestion!r}?"
            )
    for pattern in match.alarm_name_regex or ():
        why = impossible_regex(pattern)
        if why:
            yield f"alarm_name_regex {pattern!r} can never fire: {why}"


def _any_glob(value: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


def _misspelt_aws_namespace(value: str) -> str | None:
    """A close match among the AWS namespaces the resource catalogue knows, for an unknown AWS/ literal."""
    from incident_bridge.resources import supported_namespaces

    if not value.startswith("AWS/") or _GLOB_CHARACTERS.search(value):
        return None
    known = sorted({entry.namespace for entry in supported_namespaces() if entry.namespace.startswith("AWS/")})
    if value in known:
        return None
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.85)
    return close[0] if close else None


_START_ANCHORS = ("^", "\\A")
_END_ANCHORS = ("$", "\\Z")


def impossible_regex(pattern: str) -> str | None:
    """Why a regular expression can match no alarm name, for the shapes that are certain; None otherwise.

    Alarm names are 1 to 255 characters without line breaks, so `^$` matches none, and neither does a start
    anchor after a character that must be consumed (`a^b`) or an end anchor before one (`x$y`). Patterns with
    alternation at the top level, inline flags or lookarounds are left alone."""
    if re.search(r"\(\?[a-zA-Z]", pattern) or "(?=" in pattern or "(?!" in pattern or "(?<" in pattern:
        return None
    tokens = _top_level_tokens(pattern)
    if tokens is None:
        return None
    consumed_before = False
    ended = False
    for token, consuming in tokens:
        if token in _START_ANCHORS and consumed_before:
            return f"{token!r} (the start) comes after a character that must be matched"
        if token in _END_ANCHORS:
            ended = True
        elif consuming and ended:
            return "a character must be matched after the end anchor"
        consumed_before = consumed_before or consuming
    kinds = {token for token, _ in tokens}
    if kinds <= {*_START_ANCHORS, *_END_ANCHORS} and kinds & {*_START_ANCHORS} and kinds & {*_END_ANCHORS}:
        return "it matches only the empty name, and alarm names have at least one character"
    return None


def _top_level_tokens(pattern: str) -> list[tuple[str, bool]] | None:
    """(token, consumes at least one character) at the top level; None for top-level alternation."""
    tokens: list[tuple[str, bool]] = []
    index = 0
    while index < len(pattern):
        character = pattern[index]
        if character == "|":
            return None
        if character == "\\" and index + 1 < len(pattern):
            token = pattern[index : index + 2]
            index += 2
            consuming = token not in ("\\A", "\\Z", "\\b", "\\B")
        elif character == "[":
            end = _class_end(pattern, index)
            if end is None:
                return None
            token, index, consuming = pattern[index : end + 1], end + 1, True
        elif character == "(":
            end = _group_end(pattern, index)
            if end is None:
                return None
            token, index, consuming = pattern[index : end + 1], end + 1, False  # its width is not worked out
        elif character in "*+?{":
            # A quantifier: the token before it may now match nothing (`*`, `?`, `{0,`).
            if tokens and (character in "*?" or pattern.startswith(("{0,", "{0}"), index)):
                tokens[-1] = (tokens[-1][0], False)
            index += 1
            if character == "{":
                close = pattern.find("}", index)
                index = close + 1 if close != -1 else len(pattern)
            continue
        else:
            token, index, consuming = character, index + 1, character not in "^$"
        tokens.append((token, consuming))
    return tokens


def _class_end(pattern: str, start: int) -> int | None:
    index = start + 1
    if index < len(pattern) and pattern[index] == "^":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1
    while index < len(pattern):
        if pattern[index] == "\\":
            index += 2
            continue
        if pattern[index] == "]":
            return index
        index += 1
    return None


def _group_end(pattern: str, start: int) -> int | None:
    depth, index = 0, start
    while index < len(pattern):
        character = pattern[index]
        if character == "\\":
            index += 2
            continue
        if character == "[":
            end = _class_end(pattern, index)
            if end is None:
                return None
            index = end + 1
            continue
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None
