"""What the configuration's quiet sections accept and refuse, word for word: `time_intervals`, `silences`,
`inhibit_rules`, and a live silence's stored JSON between `silence add` (the CLI's write) and the function's read.

Pinned before these sections were read through their declarations (as the rest of the configuration is), so the
switch is shown to keep every accepted form, every refusal with its path and message, the defaults and the stored
format."""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from incident_bridge.adapters.silence_table import silence_json
from incident_bridge.config import Match, parse_config, parse_match, parse_silence, silence_document
from incident_bridge.errors import ConfigError
from incident_bridge.quiet.inhibition import InhibitRule
from incident_bridge.quiet.intervals import NamedTimeInterval, TimeInterval, TimeRange
from incident_bridge.quiet.silences import Silence
from incident_bridge.silence_cli import new_silence
from tests.conftest import PLAN_ARN

Document = dict[str, Any]

SILENCE: Document = {
    "id": "deploy-web", "match": {"alarm_name": "web-*"}, "starts_at": "2026-12-01T22:00:00Z",
    "ends_at": "2026-12-02T00:00:00Z", "created_by": "alice", "comment": "deploy",
}  # fmt: skip
INHIBIT_RULE: Document = {
    "source_matchers": {"alarm_name": "region-health-*"}, "target_matchers": {"namespace": "AWS/*"},
    "equal": ["region"],
}  # fmt: skip
INTERVAL: Document = {
    "name": "office-hours",
    "time_intervals": [{"times": [{"start_time": "09:00", "end_time": "17:00"}], "weekdays": ["monday:friday"],
                        "location": "Europe/Berlin"}],
}  # fmt: skip


def document(**sections: Any) -> Document:
    return {"default": {"response_plan_arn": PLAN_ARN}, **sections}


def refusal(config_document: Document) -> str:
    """The problems the configuration is refused with, without the origin."""
    with pytest.raises(ConfigError) as raised:
        parse_config(config_document, origin="test")
    return str(raised.value).removeprefix("test: ")


def changed(base: Document, change: Callable[[Document], None]) -> Document:
    """A copy of `base` with one change, so the case shows what differs from the accepted form."""
    copied = copy.deepcopy(base)
    change(copied)
    return copied


# ---- accepted forms and defaults ----


def test_absent_null_and_empty_quiet_sections_read_as_none() -> None:
    # Given the quiet sections left out, written as null, and written as empty lists (as the stack writes them)
    given: list[Document] = [{}, {"time_intervals": None, "silences": None, "inhibit_rules": None},
                             {"time_intervals": [], "silences": [], "inhibit_rules": []}]  # fmt: skip
    for sections in given:
        # When read
        config = parse_config(document(**sections), origin="test")

        # Then there are none of each
        assert (config.time_intervals, config.silences, config.inhibit_rules) == ((), (), ())


def test_an_interval_entry_reads_every_field_in_the_documents_spelling() -> None:
    # Given an entry with every field, list items as YAML reads them (numbers) and with blanks and capitals
    entry = {"times": [{"start_time": "09:00", "end_time": "24:00"}], "weekdays": [" Monday:FRIDAY ", "sunday"],
             "days_of_month": ["1:7", -1], "months": [12, "january:march"], "years": [2026, "2027:2028"],
             "location": "Europe/Berlin"}  # fmt: skip

    # When read
    config = parse_config(document(time_intervals=[{"name": "w", "time_intervals": [entry]}]), origin="test")

    # Then each list holds its items as trimmed, lower-case text, and the ranges hold the clock text as written
    assert config.time_intervals == (
        NamedTimeInterval(name="w", time_intervals=(TimeInterval(
            times=(TimeRange(start_time="09:00", end_time="24:00"),), weekdays=("monday:friday", "sunday"),
            days_of_month=("1:7", "-1"), months=("12", "january:march"), years=("2026", "2027:2028"),
            location="Europe/Berlin"),)),
    )  # fmt: skip


@pytest.mark.parametrize("location", [None, "", "UTC"])
def test_an_interval_entrys_location_defaults_to_utc(location: str | None) -> None:
    # Given an entry whose location is absent, null or empty
    entry = {} if location is None else {"location": location}

    # When read, Then its location is UTC, and its other fields are empty (an entry without fields matches always)
    config = parse_config(document(time_intervals=[{"name": "always", "time_intervals": [entry]}]), origin="test")
    assert config.time_intervals[0].time_intervals == (TimeInterval(location="UTC"),)


def test_a_named_interval_without_entries_and_null_lists_read_as_empty() -> None:
    # Given an interval with no entries, and one whose entry's lists are null
    intervals = [{"name": "never"}, {"name": "nulls", "time_intervals": [{"times": None, "weekdays": None}]}]

    # When read, Then both are there with empty lists
    config = parse_config(document(time_intervals=intervals), origin="test")
    assert config.time_intervals == (
        NamedTimeInterval(name="never"),
        NamedTimeInterval(name="nulls", time_intervals=(TimeInterval(),)),
    )


def test_a_silence_reads_its_times_as_utc_moments_and_its_match_as_a_routes() -> None:
    # Given a silence with an offset on its start and a match on a tag
    silence = {**SILENCE, "starts_at": "2026-12-01T23:00:00+01:00", "match": {"tags": {"team": "web"}}}

    # When read
    config = parse_config(document(silences=[silence]), origin="test")

    # Then it holds the moments in UTC and the matcher as a route's
    assert config.silences == (Silence(
        id="deploy-web", match=Match(tags={"team": ("web",)}), starts_at=datetime(2026, 12, 1, 22, tzinfo=UTC),
        ends_at=datetime(2026, 12, 2, tzinfo=UTC), created_by="alice", comment="deploy"),)  # fmt: skip


def test_an_inhibit_rule_without_equal_or_with_null_equal_or_empty_matchers_is_read() -> None:
    # Given rules without `equal`, with `equal: null`, and with empty matcher objects
    rules = [
        {"source_matchers": {"alarm_name": "a"}, "target_matchers": {"alarm_name": "b"}},
        {"source_matchers": {"alarm_name": "a"}, "target_matchers": {"alarm_name": "b"}, "equal": None},
        {"source_matchers": {}, "target_matchers": {}, "equal": ["tag:service", "dimension:X", "detail:a"]},
    ]

    # When read
    config = parse_config(document(inhibit_rules=rules), origin="test")

    # Then `equal` defaults to none, and an empty matcher object is the empty matcher
    one = InhibitRule(source_matchers=Match(alarm_name=("a",)), target_matchers=Match(alarm_name=("b",)))
    assert config.inhibit_rules == (
        one,
        one,
        InhibitRule(source_matchers=Match(), target_matchers=Match(), equal=("tag:service", "dimension:X", "detail:a")),
    )


def test_the_quiet_sections_write_back_as_they_are_read() -> None:
    # Given a configuration with one of each quiet section
    config = parse_config(
        document(time_intervals=[INTERVAL], silences=[SILENCE], inhibit_rules=[INHIBIT_RULE]), origin="test"
    )

    # When written as the asset's JSON
    written = config.to_document()

    # Then each section is spelled as the configuration spells it, and reads back equal
    assert written["time_intervals"] == [{"name": "office-hours", "time_intervals": [{
        "times": [{"start_time": "09:00", "end_time": "17:00"}], "weekdays": ["monday:friday"],
        "days_of_month": [], "months": [], "years": [], "location": "Europe/Berlin"}]}]  # fmt: skip
    assert written["silences"][0]["starts_at"] == "2026-12-01T22:00:00+00:00"
    assert written["silences"][0]["match"]["alarm_name"] == ["web-*"]
    assert written["inhibit_rules"][0]["equal"] == ["region"]
    assert parse_config(json.loads(json.dumps(written)), origin="test") == config


# ---- refusals: one mistake each, the whole message ----

INTERVAL_REFUSALS: list[tuple[Callable[[Document], None], str]] = [
    (lambda d: d.update(extra=1), "time_intervals.0.extra: unknown key (known: name, time_intervals)"),
    (lambda d: d.pop("name"), "time_intervals.0.name: required"),
    (lambda d: d.update(name=""), "time_intervals.0.name: must have at least 1 character"),
    (lambda d: d.update(name="n" * 129), "time_intervals.0.name: must have at most 128 characters, got 129"),
    (lambda d: d.update(name=7), "time_intervals.0.name: expected a string, got a number"),
    (lambda d: d.update(time_intervals={}), "time_intervals.0.time_intervals: expected a list, got an object"),
    (lambda d: d.update(time_intervals=["x"]), "time_intervals.0.time_intervals.0: expected an object, got a string"),
    (
        lambda d: d["time_intervals"][0].update(timezone="UTC"),
        "time_intervals.0.time_intervals.0.timezone: unknown key "
        "(known: days_of_month, location, months, times, weekdays, years)",
    ),
    (
        lambda d: d["time_intervals"][0]["times"][0].update(end="x"),
        "time_intervals.0.time_intervals.0.times.0.end: unknown key (known: end_time, start_time)",
    ),
    (
        lambda d: d["time_intervals"][0]["times"][0].pop("end_time"),
        "time_intervals.0.time_intervals.0.times.0.end_time: required",
    ),
    (
        lambda d: d["time_intervals"][0]["times"][0].update(start_time=9),
        "time_intervals.0.time_intervals.0.times.0.start_time: expected a time of day HH:MM, got a number",
    ),
    (
        lambda d: d["time_intervals"][0]["times"][0].update(start_time="9:00"),
        "time_intervals.0.time_intervals.0.times.0.start_time: '9:00' is not a time of day HH:MM",
    ),
    (
        lambda d: d["time_intervals"][0]["times"][0].update(end_time="24:01"),
        "time_intervals.0.time_intervals.0.times.0.end_time: '24:01' is not a time of day between 00:00 and 24:00",
    ),
    (
        lambda d: d["time_intervals"][0]["times"][0].update(start_time="17:00"),
        "time_intervals.0.time_intervals.0.times.0: start_time 17:00 must come before end_time 17:00",
    ),
    (
        lambda d: d["time_intervals"][0].update(times={}),
        "time_intervals.0.time_intervals.0.times: expected a list, got an object",
    ),
    (
        lambda d: d["time_intervals"][0].update(location=1),
        "time_intervals.0.time_intervals.0.location: expected a string, got a number",
    ),
    (
        lambda d: d["time_intervals"][0].update(location="Mars/Olympus_Mons"),
        "time_intervals.0.time_intervals.0.location: unknown time zone 'Mars/Olympus_Mons' "
        "(expected an IANA name such as Europe/Berlin)",
    ),
    (
        lambda d: d["time_intervals"][0].update(weekdays="monday"),
        "time_intervals.0.time_intervals.0.weekdays: expected a list, got a string",
    ),
    (
        lambda d: d["time_intervals"][0].update(weekdays=[True]),
        "time_intervals.0.time_intervals.0.weekdays.0: expected a string, got a boolean",
    ),
    (
        lambda d: d["time_intervals"][0].update(weekdays=["funday"]),
        "time_intervals.0.time_intervals.0.weekdays.0: 'funday' is not one of sunday, monday, tuesday, wednesday, "
        "thursday, friday, saturday",
    ),
    (
        lambda d: d["time_intervals"][0].update(days_of_month=[0]),
        "time_intervals.0.time_intervals.0.days_of_month.0: '0' is not a day of the month (1 to 31, or -31 to -1 from "
        "the end)",
    ),
    (
        lambda d: d["time_intervals"][0].update(months=["13"]),
        "time_intervals.0.time_intervals.0.months.0: '13' is not one of january, february, march, april, may, june, "
        "july, august, september, october, november, december",
    ),
    (
        lambda d: d["time_intervals"][0].update(years=["2027:2026"]),
        "time_intervals.0.time_intervals.0.years.0: '2027:2026': the range's start comes after its end",
    ),
    (
        lambda d: d["time_intervals"][0].update(years=[None]),
        "time_intervals.0.time_intervals.0.years.0: expected a string, got null",
    ),
]


SILENCE_REFUSALS: list[tuple[Callable[[Document], None], str]] = [
    (
        lambda d: d.update(reason="x"),
        "silences.0.reason: unknown key (known: comment, created_by, ends_at, id, match, starts_at)",
    ),
    (lambda d: d.pop("id"), "silences.0.id: required"),
    (lambda d: d.update(id=""), "silences.0.id: must have at least 1 character"),
    (lambda d: d.update(id=5), "silences.0.id: expected a string, got a number"),
    (
        lambda d: d.update(id="has space"),
        "silences.0: id 'has space' must be 1 to 128 letters, digits, '_', '.', ':' or '-'",
    ),
    (lambda d: d.pop("match"), "silences.0.match: a silence needs at least one matcher"),
    (lambda d: d.update(match={}), "silences.0.match: a silence needs at least one matcher"),
    (lambda d: d.update(match="web-*"), "silences.0.match: expected an object, got a string"),
    (
        lambda d: d.update(match={"alarm_name": []}),
        "silences.0.match.alarm_name: expected at least one value; "
        "silences.0.match: a silence needs at least one matcher",
    ),
    (lambda d: d.pop("starts_at"), "silences.0.starts_at: required"),
    (
        lambda d: d.update(starts_at="soon"),
        "silences.0.starts_at: 'soon' is not an ISO-8601 timestamp such as 2026-12-01T22:00:00Z",
    ),
    (
        lambda d: d.update(starts_at="2026-12-01T22:00:00"),
        "silences.0.starts_at: 2026-12-01T22:00:00 has no UTC offset (write 2026-12-01T22:00:00Z or +01:00)",
    ),
    (
        lambda d: d.update(ends_at=5),
        "silences.0.ends_at: expected an ISO-8601 timestamp such as 2026-12-01T22:00:00Z, got int",
    ),
    (
        lambda d: d.update(ends_at="2026-12-01T22:00:00Z"),
        "silences.0: ends_at 2026-12-01T22:00:00+00:00 must come after starts_at",
    ),
    (lambda d: d.pop("created_by"), "silences.0.created_by: required"),
    (lambda d: d.update(created_by=""), "silences.0: created_by must have 1 to 128 characters"),
    (lambda d: d.update(created_by="x" * 129), "silences.0: created_by must have 1 to 128 characters"),
    (lambda d: d.update(comment=None), "silences.0.comment: required"),
    (lambda d: d.update(comment=["deploy"]), "silences.0.comment: expected a string, got a list"),
    (lambda d: d.update(comment=""), "silences.0: comment must have 1 to 1000 characters (say why)"),
]


def test_silences_must_be_a_list_of_objects_with_unique_ids() -> None:
    # Given silences that are not a list, a list holding a string, and two silences with one id
    # When each configuration is read, Then the section or the item is named
    assert refusal(document(silences={"id": "x"})) == "silences: expected a list, got an object"
    assert refusal(document(silences=["x"])) == "silences.0: expected an object, got a string"
    assert refusal(document(silences=[SILENCE, SILENCE])) == "silences: silence ids must be unique: deploy-web"


INHIBIT_REFUSALS: list[tuple[Callable[[Document], None], str]] = [
    (
        lambda d: d.update(reason="x"),
        "inhibit_rules.0.reason: unknown key (known: equal, source_matchers, target_matchers)",
    ),
    (
        lambda d: d.pop("source_matchers"),
        "inhibit_rules.0.source_matchers: required (a matcher object, as a route's match)",
    ),
    (
        lambda d: d.update(target_matchers=None),
        "inhibit_rules.0.target_matchers: required (a matcher object, as a route's match)",
    ),
    (
        lambda d: d["source_matchers"].update(alarm="x"),
        "inhibit_rules.0.source_matchers.alarm: unknown key (known: account, account_alias, alarm_name, "
        "alarm_name_regex, detail, detail-type, detail_type, dimensions, metric_name, namespace, region, source, "
        "state, tags)",
    ),
    (lambda d: d.update(equal="region"), "inhibit_rules.0.equal: expected a list, got a string"),
    (lambda d: d.update(equal=[1]), "inhibit_rules.0.equal.0: expected a string, got a number"),
    (
        lambda d: d.update(equal=["region", "zone"]),
        "inhibit_rules.0.equal.1: unknown label 'zone' (known: account, account_alias, alarm_arn, alarm_name, "
        "detail_type, metric_name, namespace, profile, region, source, state, tag:<key>, dimension:<name>, "
        "detail:<path>)",
    ),
]


ONE_MISTAKE = [
    *[("time_intervals", INTERVAL, change, expected) for change, expected in INTERVAL_REFUSALS],
    *[("silences", SILENCE, change, expected) for change, expected in SILENCE_REFUSALS],
    *[("inhibit_rules", INHIBIT_RULE, change, expected) for change, expected in INHIBIT_REFUSALS],
]


@pytest.mark.parametrize(("section", "accepted", "change", "expected"), ONE_MISTAKE)
def test_a_quiet_item_with_one_mistake_is_refused_naming_its_path(
    section: str, accepted: Document, change: Callable[[Document], None], expected: str
) -> None:
    # Given the section's accepted item (interval, silence, inhibit rule) with one change
    # When the configuration is read
    # Then that one problem is the message: the field's path, or the item's for a silence's own rules
    assert refusal(document(**{section: [changed(accepted, change)]})) == expected


def test_inhibit_rules_must_be_a_list_of_objects() -> None:
    # Given inhibit rules that are not a list, and a list holding a string
    # When each configuration is read, Then the section or the item is named
    assert refusal(document(inhibit_rules="x")) == "inhibit_rules: expected a list, got a string"
    assert refusal(document(inhibit_rules=["x"])) == "inhibit_rules.0: expected an object, got a string"


def test_interval_names_must_be_unique_and_routes_must_name_defined_ones() -> None:
    # Given two intervals of one name, and a default route muted by an interval nobody defined
    twice = document(time_intervals=[INTERVAL, INTERVAL])
    undefined = {"default": {"response_plan_arn": PLAN_ARN, "mute_time_intervals": ["weekend"]},
                 "time_intervals": [INTERVAL]}  # fmt: skip

    # When each is read, Then the section, or the route's field, is named
    assert refusal(twice) == "time_intervals: time interval names must be unique: office-hours"
    assert refusal(undefined) == "default.mute_time_intervals.0: unknown time interval 'weekend' (known: office-hours)"
    assert refusal(document(time_intervals="x")) == "time_intervals: expected a list, got a string"


def test_problems_of_several_quiet_sections_are_all_listed() -> None:
    # Given a mistake in a silence and one in an inhibit rule
    silence = {**SILENCE, "comment": 1}
    rule = {**INHIBIT_RULE, "equal": "region"}

    # When read, Then both are listed, in the order of the configuration's fields
    assert refusal(document(silences=[silence], inhibit_rules=[rule])) == (
        "silences.0.comment: expected a string, got a number; inhibit_rules.0.equal: expected a list, got a string"
    )


# ---- a live silence: what the CLI stores is what the function reads ----


def cli_arguments(**given: Any) -> argparse.Namespace:
    arguments = {"matchers": ["alarm_name=web-*"], "duration": "2h", "comment": "deploy", "created_by": "alice",
                 "start": None} | given  # fmt: skip
    return argparse.Namespace(**arguments)


NOW = datetime(2026, 12, 1, 22, tzinfo=UTC)


def test_the_stored_silence_json_is_pinned() -> None:
    # Given a silence made by `silence add` with matchers of each kind
    silence = new_silence(
        cli_arguments(matchers=["alarm_name=~^web-", "tags.team=web", "dimension:InstanceId=i-1*", "detail.a=b"]),
        NOW,
    )

    # When stored as the state table holds it
    stored = silence_json(silence)

    # Then the text is the silence as `silences:` spells it: every matcher key in the route's order (absent ones
    # null), lists of globs, times in ISO-8601 with the UTC offset, no blanks
    assert stored == (
        '{"id":"' + silence.id + '","match":{"alarm_name":null,"alarm_name_regex":["^web-"],"namespace":null,'
        '"metric_name":null,"dimensions":{"InstanceId":["i-1*"]},"account":null,"account_alias":null,"region":null,'
        '"state":null,"tags":{"team":["web"]},"source":null,"detail-type":null,"detail":{"$.a":["b"]}},'
        '"starts_at":"2026-12-01T22:00:00+00:00","ends_at":"2026-12-02T00:00:00+00:00","created_by":"alice",'
        '"comment":"deploy"}'
    )
    assert silence_document(silence) == json.loads(stored)


def test_a_stored_silence_reads_back_equal_and_a_hand_edited_one_is_refused() -> None:
    # Given a silence made by `silence add`, stored as JSON
    silence = new_silence(cli_arguments(start="2026-12-01T23:00:00+01:00"), NOW)
    stored = json.loads(silence_json(silence))

    # When the function reads it back, Then it is the same silence
    assert parse_silence(stored, origin="table") == silence

    # And an entry edited by hand to carry an unknown key or no comment is refused, naming it
    with pytest.raises(ConfigError) as extra:
        parse_silence({**stored, "note": "x"}, origin="table")
    assert str(extra.value) == ("table: note: unknown key (known: comment, created_by, ends_at, id, match, starts_at)")
    with pytest.raises(ConfigError) as empty:
        parse_silence({**stored, "comment": ""}, origin="table")
    assert str(empty.value) == "table: (root): comment must have 1 to 1000 characters (say why)"
    with pytest.raises(ConfigError) as not_object:
        parse_silence([], origin="table")
    assert str(not_object.value) == "table: (root): expected an object, got a list"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"comment": ""}, "silence: (root): comment must have 1 to 1000 characters (say why)"),
        ({"created_by": "x" * 129}, "silence: (root): created_by must have 1 to 128 characters"),
        (
            {"matchers": ["alarm=web-*"]},
            "--match: match.alarm: unknown key (known: account, account_alias, "
            "alarm_name, alarm_name_regex, detail, detail-type, detail_type, dimensions, metric_name, namespace, "
            "region, source, state, tags)",
        ),
    ],
)
def test_silence_add_refuses_what_the_configuration_refuses(given: dict[str, Any], expected: str) -> None:
    # Given `silence add` arguments with one mistake
    # When the silence is made, Then it is refused as the configuration's reader words it
    with pytest.raises(ConfigError) as raised:
        new_silence(cli_arguments(**given), NOW)
    assert str(raised.value) == expected


def test_a_cli_match_reads_as_the_routes_match() -> None:
    # Given `--match` arguments as a document, When read, Then it is the route's matcher
    assert parse_match({"alarm_name": "web-*", "tags": {"team": "web"}}, origin="--match") == Match(
        alarm_name=("web-*",), tags={"team": ("web",)}
    )


# ---- several mistakes in one item ----


def test_several_mistakes_of_one_silence() -> None:
    # Given a silence whose id and comment are both numbers
    silence = {**SILENCE, "id": 5, "comment": 1}

    # When read, Then both are listed (each field of an item is read, as a route's are)
    assert refusal(document(silences=[silence])) == (
        "silences.0.id: expected a string, got a number; silences.0.comment: expected a string, got a number"
    )


def test_several_mistakes_of_one_interval() -> None:
    # Given an interval whose name is empty and whose entry has an unknown weekday and an unknown zone
    interval = changed(INTERVAL, lambda d: d.update(name=""))
    interval["time_intervals"][0].update(weekdays=["funday"], location="Mars/Olympus_Mons")

    # When read, Then all three are listed, in the order of the declarations' fields
    assert refusal(document(time_intervals=[interval])) == (
        "time_intervals.0.name: must have at least 1 character; "
        "time_intervals.0.time_intervals.0.weekdays.0: 'funday' is not one of sunday, monday, tuesday, wednesday, "
        "thursday, friday, saturday; "
        "time_intervals.0.time_intervals.0.location: unknown time zone 'Mars/Olympus_Mons' "
        "(expected an IANA name such as Europe/Berlin)"
    )


def test_a_matcher_that_is_not_an_object_in_an_inhibit_rule() -> None:
    # Given an inhibit rule whose source matchers are a string
    rule = {**INHIBIT_RULE, "source_matchers": "region-health-*"}

    # When read, Then the value is refused (once: it is given, so it is not also called missing)
    assert (
        refusal(document(inhibit_rules=[rule])) == "inhibit_rules.0.source_matchers: expected an object, got a string"
    )
