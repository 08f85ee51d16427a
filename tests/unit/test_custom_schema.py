"""The published JSON Schema of a custom event's `detail` (custom_incident.schema.json, generated from
custom.CustomRequest's declaration) and the reader the Lambda runs agree: on the custom events of events/ and
examples/, on the README's example, and on every variant of the detail contract (test_custom_detail_contract.py),
each made from the demo's custom event with one change. Checked with the `jsonschema` package (requirements-dev.txt).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from incident_bridge.config import RelatedUrl
from incident_bridge.custom import CustomRequest, read_request, schema_document
from incident_bridge.docs import SCHEMA_FILE
from incident_bridge.reader import ModelError
from incident_bridge.sources.payloads import is_application_event
from tests.unit.test_custom_detail_contract import ACCEPTED, REFUSED, sample, with_detail

ROOT = Path(__file__).resolve().parents[2]
#: What pydantic's lax mode read as whole numbers, and the reader still does (producers may rely on it); the schema
#: says integer, which is what producers should send. The only variants on which the two differ, on purpose.
LAX_IMPACTS = {"impact-text-3", "impact-text-3-blanks", "impact-text-plus-3", "impact-text-03", "impact-text-3.00",
               "impact-true"}  # fmt: skip
#: What JSON Schema cannot say: a lone surrogate (JSON's `\ud800` escape) is text no UTF-8 encoder, and so no AWS
#: API, can carry; the reader refuses it, as pydantic did, and the schema cannot.
UNSAYABLE = {"title-lone-surrogate"}


def ecma_pattern(validator: Any, pattern: str, instance: object, schema: dict[str, Any]) -> Iterator[Any]:
    r"""`pattern` as JSON Schema reads it (ECMA-262, where `$` is the end of the text and `.` matches no line
    terminator). python-jsonschema searches with Python's `re`, whose `$` also matches before a final line break
    and whose `.` matches `\r`, U+2028 and U+2029: an ARN ending in one would pass. (The published patterns hold
    no `.` inside a character class.)"""
    python_pattern = re.sub(r"(?<!\\)\.", r"[^\\n\\r\\u2028\\u2029]", re.sub(r"(?<!\\)\$$", r"\\Z", pattern))
    if isinstance(instance, str) and re.search(python_pattern, instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12, as the schema declares, with ECMA-262's `$`.
EcmaValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": ecma_pattern})


def published_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def schema_accepts(detail: object) -> bool:
    return bool(EcmaValidator(published_schema()).is_valid(detail))


def reader_accepts(detail: dict[str, Any]) -> bool:
    try:
        read_request(detail)
    except ModelError:
        return False
    return True


def custom_event_files() -> list[Path]:
    """Every EventBridge event in events/ and examples/ whose source is an application's (not `aws.`)."""
    found = []
    for path in sorted([*(ROOT / "events").rglob("*.json"), *(ROOT / "examples").rglob("*.json")]):
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "detail-type" in document and is_application_event(document):
            found.append(path)
    return found


def test_the_published_schema_is_a_valid_draft_2020_12_schema() -> None:
    # Given the published schema / When the metaschema checks it / Then it is valid, and the file is generated
    jsonschema.Draft202012Validator.check_schema(published_schema())
    assert published_schema() == json.loads(json.dumps(schema_document()))


def test_the_sample_custom_events_are_the_expected_ones() -> None:
    # Given events/ and examples/ / When their application events are collected
    names = [path.name for path in custom_event_files()]

    # Then they are the two Powertools samples and the demo's incident request (a new one joins the checks below)
    assert names == [
        "custom-app-eventbridge-CustomEvent-no-version-powertools.json",
        "custom-app-eventbridge-PaymentCreated-no-resources-powertools.json",
        "07-checkout-custom-event.json",
    ]


@pytest.mark.parametrize("path", custom_event_files(), ids=lambda path: path.name)
def test_schema_and_reader_agree_on_each_sample_custom_event(path: Path) -> None:
    # Given a custom event from events/ or examples/
    detail = json.loads(path.read_text(encoding="utf-8"))["detail"]

    # When the published schema (with the unmodified Draft 2020-12 validator too) and the reader check its detail
    verdicts = (jsonschema.Draft202012Validator(published_schema()).is_valid(detail), schema_accepts(detail))

    # Then they agree: the demo's incident request is one, the Powertools samples (no title) are not
    assert verdicts == (reader_accepts(detail),) * 2
    assert reader_accepts(detail) is (path.parent.name == "demo")


def test_the_readme_example_detail_is_valid() -> None:
    # Given the README's example PutEvents entry for a custom incident
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Custom application events", 1)[1]
    entry = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])

    # When its Detail is checked by the schema and read
    detail = json.loads(entry["Detail"])

    # Then both accept it, and the request carries what it says
    assert schema_accepts(detail)
    assert read_request(detail) == CustomRequest(
        title="Checkout error rate above 5%",
        impact=2,
        resource_arns=("arn:aws:lambda:eu-west-1:123456789012:function:checkout",),
        related_urls=(RelatedUrl(title="Runbook", url="https://wiki.example.com/checkout"),),
        dedupe_key="checkout-errors",
    )


#: (variant, key changed, value given, accepted by the contract), one per case of the contract's tables.
VARIANTS = [
    *((f"{key}-{case.id}", key, case.values[0], True) for key, cases in ACCEPTED.items() for case in cases),
    *((str(case.id), case.values[0], case.values[1], False) for case in REFUSED),
]


@pytest.mark.parametrize(("variant", "key", "given", "accepted"), VARIANTS, ids=[case[0] for case in VARIANTS])
def test_schema_and_reader_agree_on_each_variant(variant: str, key: str, given: object, accepted: bool) -> None:
    # Given the demo's custom event with one detail field changed, which the contract accepts or refuses
    detail = with_detail(key, given)["detail"]

    # When the reader and the published schema check it
    verdicts = (reader_accepts(detail), schema_accepts(detail))

    # Then the reader gives the contract's verdict, and the schema the same, but for the lax impacts it refuses and
    # the lone surrogate it cannot refuse
    if variant in LAX_IMPACTS:
        assert verdicts == (True, False)
    elif variant in UNSAYABLE:
        assert verdicts == (False, True)
    else:
        assert verdicts == (accepted, accepted)


def test_every_lax_impact_is_a_variant_and_the_variants_cover_each_field() -> None:
    # Given the variants / When their ids and keys are listed
    ids = {variant for variant, *_ in VARIANTS}
    keys = {key for _, key, *_ in VARIANTS}

    # Then the known differences are among them (none is stale), and every declared field is varied
    assert ids >= LAX_IMPACTS | UNSAYABLE
    assert keys == set(schema_document()["properties"])
    assert len(VARIANTS) > 100


def test_the_schema_states_what_the_declaration_says() -> None:
    # Given the schema generated from CustomRequest
    schema = schema_document()
    properties = schema["properties"]

    # When its parts are read / Then they are the declared constraints, defaults and required fields
    assert schema["required"] == ["title"]
    assert schema["additionalProperties"] is True
    assert properties["status"]["enum"] == ["firing", "resolved"]
    assert properties["status"]["default"] == "firing"
    assert properties["related_urls"]["items"]["additionalProperties"] is False
    assert properties["related_urls"]["items"]["required"] == ["title", "url"]
    assert properties["source"]["anyOf"][0]["not"] == {"pattern": "^aws\\."}
    assert properties["dedupe_key"]["anyOf"][0] == {"type": "string", "minLength": 1, "maxLength": 100}


def test_a_null_source_is_valid_in_the_schema_as_in_the_reader() -> None:
    # Given the sample with `source: null` (the earlier schema put the `aws.` reservation beside the null branch,
    # so it refused the null that the model accepted)
    detail = copy.deepcopy(sample())["detail"] | {"source": None}

    # When both check it / Then both accept it
    assert (reader_accepts(detail), schema_accepts(detail)) == (True, True)
