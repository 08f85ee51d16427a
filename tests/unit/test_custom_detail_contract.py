"""What a custom event's `detail` accepts and refuses, field by field, and what each accepted value becomes.

Pinned on the pydantic model (custom_schema.CustomIncidentDetail) before it was replaced by a declaration on the
declarative reader (issue 13), so that the switch is shown to accept and refuse the same details. The cases go
through `parse_event`, the way the handler reads an event; refusals are matched on the path of the field they name,
not on the wording of the problem (which changed with the switch). Every variant is the demo's custom event (the
Powertools sample with an incident request as its detail, examples/scenarios/derived.json) with one change.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from incident_bridge.errors import InvalidEvent
from incident_bridge.signal import InvolvedResource, Link, Signal, SignalStatus
from incident_bridge.sources import parse_event

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "demo" / "07-checkout-custom-event.json"
PREFIX = "custom event 'mycompany.service'/'CustomEvent' does not follow the custom incident schema: "
ARN = "arn:aws:lambda:us-east-1:123456789012:function:checkout"
#: `arn:aws:s3:::` and a bucket-like name, this many characters in all.
LONG_ARN_PREFIX = "arn:aws:s3:::"
ABSENT = object()


def sample() -> dict[str, Any]:
    event: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return event


def with_detail(key: str, value: object) -> dict[str, Any]:
    """The sample with one detail key set to `value`, or taken out when `value` is ABSENT."""
    event = copy.deepcopy(sample())
    if value is ABSENT:
        event["detail"].pop(key, None)
    else:
        event["detail"][key] = value
    return event


def signal_of(event: dict[str, Any]) -> Signal:
    parsed = parse_event(event)
    assert isinstance(parsed, Signal)
    return parsed


def arn_of_length(length: int) -> str:
    return LONG_ARN_PREFIX + "b" * (length - len(LONG_ARN_PREFIX))


def url(title: str = "Runbook", link: str = "https://wiki.example.com/checkout") -> dict[str, str]:
    return {"title": title, "url": link}


# ---- accepted: (key, value given, what the signal shows) ----

ACCEPTED_TITLES = [
    pytest.param("x", "x", id="one-character"),
    pytest.param("x" * 1000, "x" * 1000, id="1000-characters"),
    # Lengths count code points (Python's len, pydantic's too): 1,000 emoji are 1,000 characters.
    pytest.param("\N{GRINNING FACE}" * 1000, "\N{GRINNING FACE}" * 1000, id="1000-emoji"),
    pytest.param("   ", "   ", id="blanks-only"),
]


@pytest.mark.parametrize(("given", "title"), ACCEPTED_TITLES)
def test_title_is_accepted(given: str, title: str) -> None:
    # Given the sample with this title
    # When it is parsed
    signal = signal_of(with_detail("title", given))

    # Then the signal carries it as its name and title
    assert (signal.name, signal.title) == (title, title)


ACCEPTED_IMPACTS = [
    pytest.param(1, 1, id="1"),
    pytest.param(5, 5, id="5"),
    pytest.param(None, None, id="null"),
    pytest.param(ABSENT, None, id="absent"),
    # JSON Schema counts 2.0 as an integer too.
    pytest.param(5.0, 5, id="5.0"),
    # pydantic's lax mode read these as whole numbers; producers may rely on it, so they still are.
    pytest.param("3", 3, id="text-3"),
    pytest.param(" 3 ", 3, id="text-3-blanks"),
    pytest.param("+3", 3, id="text-plus-3"),
    pytest.param("03", 3, id="text-03"),
    pytest.param("3.00", 3, id="text-3.00"),
    pytest.param(True, 1, id="true"),
]


@pytest.mark.parametrize(("given", "impact"), ACCEPTED_IMPACTS)
def test_impact_is_accepted(given: object, impact: int | None) -> None:
    # Given the sample with this impact (or none)
    # When it is parsed
    signal = signal_of(with_detail("impact", given))

    # Then the signal's impact is the number (None: the route's applies)
    assert signal.impact == impact
    assert type(signal.impact) in {int, type(None)}


ACCEPTED_SUMMARIES = [
    pytest.param("Error rate 7%", ("Error rate 7%",), id="text"),
    pytest.param("s" * 8000, ("s" * 8000,), id="8000-characters"),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="null"),
]


@pytest.mark.parametrize(("given", "labelled"), ACCEPTED_SUMMARIES)
def test_summary_is_accepted(given: object, labelled: tuple[str, ...] | None) -> None:
    # Given the sample with this summary
    # When it is parsed
    signal = signal_of(with_detail("summary", given))

    # Then a non-empty summary is the `summary` label and the reason; an empty one is none
    assert signal.labels.get("summary") == labelled
    assert signal.reason == (given or "")


ACCEPTED_RESOURCE_ARNS = [
    pytest.param([], (), id="none"),
    pytest.param(ABSENT, (), id="absent"),
    pytest.param([ARN] * 100, (ARN,), id="100-items-one-resource"),
    pytest.param([arn_of_length(1000)], (arn_of_length(1000),), id="arn-of-1000-characters"),
    pytest.param(["arn:aws-cn:s3:::bucket"], ("arn:aws-cn:s3:::bucket",), id="china-partition"),
    pytest.param(["arn:aws-us-gov:s3:::bucket"], ("arn:aws-us-gov:s3:::bucket",), id="govcloud-partition"),
]


@pytest.mark.parametrize(("given", "references"), ACCEPTED_RESOURCE_ARNS)
def test_resource_arns_are_accepted(given: object, references: tuple[str, ...]) -> None:
    # Given the sample with these resource ARNs
    # When it is parsed
    signal = signal_of(with_detail("resource_arns", given))

    # Then each distinct ARN is referenced and an involved resource
    assert signal.references == references
    assert tuple(item.arn for item in signal.related if isinstance(item, InvolvedResource)) == references


ACCEPTED_RELATED_URLS = [
    pytest.param([], (), id="none"),
    pytest.param(ABSENT, (), id="absent"),
    pytest.param([url()] * 20, (("Runbook", "https://wiki.example.com/checkout"),) * 20, id="20-items"),
    pytest.param([url(link="http://x")], (("Runbook", "http://x"),), id="http"),
    pytest.param(
        [url("t" * 200, "https://" + "u" * 992)], (("t" * 200, "https://" + "u" * 992),), id="title-200-url-1000"
    ),
    # The pattern only asks for the scheme: anything may follow it, a line break included.
    pytest.param([url(link="https://")], (("Runbook", "https://"),), id="scheme-only"),
    pytest.param([url(link="https://x\n")], (("Runbook", "https://x\n"),), id="trailing-line-break"),
]


@pytest.mark.parametrize(("given", "links"), ACCEPTED_RELATED_URLS)
def test_related_urls_are_accepted(given: object, links: tuple[tuple[str, str], ...]) -> None:
    # Given the sample with these related URLs
    # When it is parsed
    signal = signal_of(with_detail("related_urls", given))

    # Then each is a link, in order
    assert tuple((item.title, item.url) for item in signal.related if isinstance(item, Link)) == links


ACCEPTED_DEDUPE_KEYS = [
    pytest.param("k", "custom|mycompany.service|k", id="one-character"),
    pytest.param("k" * 100, "custom|mycompany.service|" + "k" * 100, id="100-characters"),
    pytest.param(" ", "custom|mycompany.service| ", id="a-blank"),
    pytest.param(None, "custom|mycompany.service|cdc73f9d-aea9-11e3-9d5a-835b769c0d9c", id="null-event-id"),
    pytest.param(ABSENT, "custom|mycompany.service|cdc73f9d-aea9-11e3-9d5a-835b769c0d9c", id="absent-event-id"),
]


@pytest.mark.parametrize(("given", "member"), ACCEPTED_DEDUPE_KEYS)
def test_dedupe_key_is_accepted(given: object, member: str) -> None:
    # Given the sample with this dedupe key (or none)
    # When it is parsed
    signal = signal_of(with_detail("dedupe_key", given))

    # Then the key identifies the group and its member; without one, the event's id does
    assert (signal.member, signal.default_group) == (member, member)


ACCEPTED_SOURCES = [
    pytest.param("s" * 50, "s" * 50, id="50-characters"),
    pytest.param("aws", "aws", id="aws-without-dot"),
    # The reservation is case-sensitive, as the model's check was.
    pytest.param("AWS.x", "AWS.x", id="upper-case-AWS-dot"),
    pytest.param(None, "mycompany.service", id="null-envelope-source"),
    pytest.param(ABSENT, "mycompany.service", id="absent-envelope-source"),
]


@pytest.mark.parametrize(("given", "trigger_source"), ACCEPTED_SOURCES)
def test_source_is_accepted(given: object, trigger_source: str) -> None:
    # Given the sample with this trigger source (or none)
    # When it is parsed
    signal = signal_of(with_detail("source", given))

    # Then it is the trigger source; without one, the envelope's source is
    assert signal.trigger.source == trigger_source


ACCEPTED_STATUSES = [
    pytest.param("firing", SignalStatus.FIRING, id="firing"),
    pytest.param("resolved", SignalStatus.RECOVERING, id="resolved"),
    pytest.param(ABSENT, SignalStatus.FIRING, id="absent-firing"),
]


@pytest.mark.parametrize(("given", "status"), ACCEPTED_STATUSES)
def test_status_is_accepted(given: object, status: SignalStatus) -> None:
    # Given the sample with this status (or none)
    # When it is parsed
    signal = signal_of(with_detail("status", given))

    # Then a resolved event recovers and every other fires, and the state says which
    assert signal.status is status
    assert signal.state == ("firing" if given is ABSENT else given)


def test_fields_the_schema_does_not_name_are_accepted_and_kept() -> None:
    # Given the sample with keys the schema does not name: nested, null, a list, one named like a field's alias
    event = sample()
    event["detail"].update({"service": {"name": "checkout", "tier": 1}, "owner": None, "tags": ["a", 1],
                            "resourceArns": "not read"})  # fmt: skip

    # When it is parsed
    signal = signal_of(event)

    # Then it is accepted, they become detail labels where they are values, and the raw event keeps them all
    assert signal.labels["detail:service.name"] == ("checkout",)
    assert signal.raw_event["detail"]["owner"] is None
    assert signal.raw_event["detail"]["resourceArns"] == "not read"
    assert signal.references == (ARN,)


#: Every accepted variant, by the key it changes (the first value of each case is the one given).
ACCEPTED = {
    "title": ACCEPTED_TITLES,
    "impact": ACCEPTED_IMPACTS,
    "summary": ACCEPTED_SUMMARIES,
    "resource_arns": ACCEPTED_RESOURCE_ARNS,
    "related_urls": ACCEPTED_RELATED_URLS,
    "dedupe_key": ACCEPTED_DEDUPE_KEYS,
    "source": ACCEPTED_SOURCES,
    "status": ACCEPTED_STATUSES,
}

# ---- refused: (key, value given, the path the error names) ----

REFUSED: list[Any] = [
    pytest.param("title", ABSENT, "detail.title", id="title-absent"),
    pytest.param("title", None, "detail.title", id="title-null"),
    pytest.param("title", "", "detail.title", id="title-empty"),
    pytest.param("title", "x" * 1001, "detail.title", id="title-1001"),
    pytest.param("title", 5, "detail.title", id="title-number"),
    pytest.param("title", ["x"], "detail.title", id="title-list"),
    pytest.param("title", "\ud800", "detail.title", id="title-lone-surrogate"),
    pytest.param("impact", 0, "detail.impact", id="impact-0"),
    pytest.param("impact", 6, "detail.impact", id="impact-6"),
    pytest.param("impact", -3, "detail.impact", id="impact-minus-3"),
    pytest.param("impact", 3.5, "detail.impact", id="impact-3.5"),
    pytest.param("impact", False, "detail.impact", id="impact-false"),
    pytest.param("impact", "x", "detail.impact", id="impact-text"),
    pytest.param("impact", "3.5", "detail.impact", id="impact-text-3.5"),
    pytest.param("impact", "", "detail.impact", id="impact-empty-text"),
    pytest.param("impact", "3.", "detail.impact", id="impact-text-3-dot"),
    pytest.param("impact", "1e0", "detail.impact", id="impact-text-exponent"),
    pytest.param("impact", "\N{FULLWIDTH DIGIT THREE}", "detail.impact", id="impact-fullwidth-digit"),
    pytest.param("impact", [], "detail.impact", id="impact-list"),
    pytest.param("impact", {}, "detail.impact", id="impact-object"),
    pytest.param("summary", "s" * 8001, "detail.summary", id="summary-8001"),
    pytest.param("summary", 5, "detail.summary", id="summary-number"),
    pytest.param("resource_arns", None, "detail.resource_arns", id="arns-null"),
    pytest.param("resource_arns", ARN, "detail.resource_arns", id="arns-a-string"),
    pytest.param("resource_arns", [ARN] * 101, "detail.resource_arns", id="arns-101"),
    pytest.param("resource_arns", ["checkout"], "detail.resource_arns.0", id="arn-not-an-arn"),
    pytest.param("resource_arns", [ARN, ARN + "\n"], "detail.resource_arns.1", id="arn-trailing-newline"),
    # ECMA-262's `.` (the schema's, and Incident Manager's Smithy pattern) matches no line terminator; Python's
    # matches all but `\n`. An ARN read from a CRLF file keeps its `\r`, and StartIncident would refuse it.
    pytest.param("resource_arns", [ARN + "\r"], "detail.resource_arns.0", id="arn-trailing-carriage-return"),
    pytest.param("resource_arns", [ARN + "\u2028x"], "detail.resource_arns.0", id="arn-line-separator"),
    pytest.param("resource_arns", [arn_of_length(1001)], "detail.resource_arns.0", id="arn-1001"),
    pytest.param("resource_arns", ["arn:aws-iso:s3:::bucket"], "detail.resource_arns.0", id="arn-iso-partition"),
    pytest.param("resource_arns", ["arn:aws:S3:::bucket"], "detail.resource_arns.0", id="arn-upper-case-service"),
    pytest.param("resource_arns", ["arn:aws:s3::12345678901:b"], "detail.resource_arns.0", id="arn-11-digit-account"),
    pytest.param("resource_arns", [5], "detail.resource_arns.0", id="arn-a-number"),
    pytest.param("related_urls", None, "detail.related_urls", id="urls-null"),
    pytest.param("related_urls", [url()] * 21, "detail.related_urls", id="urls-21"),
    pytest.param("related_urls", ["https://x"], "detail.related_urls.0", id="url-a-string"),
    pytest.param("related_urls", [{"title": "t"}], "detail.related_urls.0.url", id="url-absent"),
    pytest.param("related_urls", [{"title": "t", "url": None}], "detail.related_urls.0.url", id="url-null"),
    pytest.param("related_urls", [{"url": "https://x"}], "detail.related_urls.0.title", id="url-title-absent"),
    pytest.param("related_urls", [{**url(), "kind": "runbook"}], "detail.related_urls.0.kind", id="url-extra-key"),
    pytest.param("related_urls", [url(link="ftp://x")], "detail.related_urls.0.url", id="url-ftp"),
    pytest.param("related_urls", [url(link="HTTPS://x")], "detail.related_urls.0.url", id="url-upper-case-scheme"),
    pytest.param("related_urls", [url(link="https://" + "u" * 993)], "detail.related_urls.0.url", id="url-1001"),
    pytest.param("related_urls", [url(title="")], "detail.related_urls.0.title", id="url-title-empty"),
    pytest.param("related_urls", [url(title="t" * 201)], "detail.related_urls.0.title", id="url-title-201"),
    pytest.param("dedupe_key", "", "detail.dedupe_key", id="dedupe-empty"),
    pytest.param("dedupe_key", "k" * 101, "detail.dedupe_key", id="dedupe-101"),
    pytest.param("dedupe_key", 5, "detail.dedupe_key", id="dedupe-number"),
    pytest.param("source", "aws.x", "detail.source", id="source-aws-dot"),
    pytest.param("source", "aws.", "detail.source", id="source-aws-dot-only"),
    pytest.param("source", "", "detail.source", id="source-empty"),
    pytest.param("source", "s" * 51, "detail.source", id="source-51"),
    pytest.param("status", None, "detail.status", id="status-null"),
    pytest.param("status", "Firing", "detail.status", id="status-capitalized"),
    pytest.param("status", "resolved ", "detail.status", id="status-trailing-blank"),
    pytest.param("status", "closed", "detail.status", id="status-closed"),
    pytest.param("status", 1, "detail.status", id="status-number"),
]


@pytest.mark.parametrize(("key", "given", "path"), REFUSED)
def test_detail_is_refused_naming_the_field(key: str, given: object, path: str) -> None:
    # Given the sample with one detail field changed to a value the schema refuses
    event = with_detail(key, given)

    # When it is parsed
    with pytest.raises(InvalidEvent) as raised:
        parse_event(event)

    # Then it is an InvalidEvent whose first problem names that field
    assert str(raised.value).startswith(PREFIX + path + ": "), str(raised.value)


def test_every_problem_of_a_detail_is_named() -> None:
    # Given the sample with three fields wrong: the title, the impact and the status
    event = with_detail("title", "")
    event["detail"].update({"impact": 9, "status": "closed"})

    # When it is parsed
    with pytest.raises(InvalidEvent) as raised:
        parse_event(event)

    # Then each is named, in the order of the schema's fields
    named = [problem.split(": ", 1)[0] for problem in str(raised.value).removeprefix(PREFIX).split("; ")]
    assert named == ["detail.title", "detail.impact", "detail.status"]
