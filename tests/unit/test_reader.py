"""The typed JSON reader: each refused value is reported as `<path>: <problem>`."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import pytest

from incident_bridge.reader import FieldError, Reader


class Colour(StrEnum):
    RED = "RED"
    GREEN = "GREEN"


def _from(document: dict[str, Any]) -> Reader:
    return Reader({"outer": document}).obj("outer")


@pytest.mark.parametrize(
    ("document", "read", "message"),
    [
        pytest.param({}, lambda r: r.string("name"), "outer.name: required", id="missing"),
        pytest.param({"name": None}, lambda r: r.string("name"), "outer.name: required", id="null"),
        pytest.param({"name": 3}, lambda r: r.string("name"), "outer.name: expected a string, got a number",
                     id="not-a-string"),
        pytest.param({"name": ""}, lambda r: r.string("name", min_length=1),
                     "outer.name: must have at least 1 character", id="too-short"),
        pytest.param({"name": "abcd"}, lambda r: r.string("name", max_length=3),
                     "outer.name: must have at most 3 characters, got 4", id="too-long"),
        pytest.param({"name": "ftp://x"}, lambda r: r.string("name", pattern=re.compile(r"^https?://")),
                     "outer.name: 'ftp://x' does not match '^https?://'", id="pattern"),
        pytest.param({"n": True}, lambda r: r.integer("n", default=1),
                     "outer.n: expected a whole number, got a boolean", id="boolean-is-not-a-number"),
        pytest.param({"n": 0}, lambda r: r.integer("n", default=1, ge=1, le=5), "outer.n: must be at least 1, got 0",
                     id="below"),
        pytest.param({"n": 9}, lambda r: r.integer("n", default=1, ge=1, le=5), "outer.n: must be at most 5, got 9",
                     id="above"),
        pytest.param({"b": "yes"}, lambda r: r.boolean("b", default=False),
                     "outer.b: expected true or false, got a string", id="not-a-boolean"),
        pytest.param({"c": "BLUE"}, lambda r: r.choice("c", Colour), "outer.c: expected one of RED, GREEN, got 'BLUE'",
                     id="not-a-choice"),
        pytest.param({"o": []}, lambda r: r.obj("o"), "outer.o: expected an object, got a list", id="not-an-object"),
        pytest.param({"l": {}}, lambda r: r.objects("l"), "outer.l: expected a list, got an object", id="not-a-list"),
        pytest.param({"l": [{}, 3]}, lambda r: r.objects("l"), "outer.l.1: expected an object, got a number",
                     id="list-item"),
        pytest.param({"s": ["a", None]}, lambda r: r.strings("s"), "outer.s.1: expected a string, got null",
                     id="string-list-item"),
        pytest.param({"m": {"k": 1}}, lambda r: r.string_map("m"), "outer.m.k: expected a string, got a number",
                     id="map-value"),
        pytest.param({"name": "cpu\ud800"}, lambda r: r.string("name"),
                     "outer.name: not valid Unicode text (lone surrogate)", id="lone-surrogate"),
        pytest.param({"s": ["a", "\udfff"]}, lambda r: r.strings("s"),
                     "outer.s.1: not valid Unicode text (lone surrogate)", id="lone-surrogate-in-list"),
        pytest.param({"m": {"k": "\ud800"}}, lambda r: r.string_map("m"),
                     "outer.m.k: not valid Unicode text (lone surrogate)", id="lone-surrogate-map-value"),
        pytest.param({"m": {"\ud800": "v"}}, lambda r: r.string_map("m"),
                     "outer.m: not valid Unicode text (lone surrogate)", id="lone-surrogate-map-key"),
        pytest.param({"x": 1, "typo": 2}, lambda r: r.only({"x"}), "outer.typo: unknown key (known: x)",
                     id="unknown-key"),
        pytest.param({"t": "later"}, lambda r: r.convert("t", lambda v: int(v)),
                     "outer.t: invalid literal for int() with base 10: 'later'", id="conversion"),
    ],
)  # fmt: skip
def test_a_refused_value_names_its_path_and_the_problem(
    document: dict[str, Any], read: Callable[[Reader], object], message: str
) -> None:
    # Given an object nested at `outer` / When one field is read / Then the error is `<path>: <problem>`
    with pytest.raises(FieldError) as raised:
        read(_from(document))
    assert str(raised.value) == message


def test_accepted_values_come_back_typed() -> None:
    # Given an object with one field of each kind
    reader = _from(
        {"name": "cpu", "n": 3, "b": True, "c": "GREEN", "l": [{"k": "v"}], "s": ["a"], "m": {"k": "v"}, "z": None}
    )

    # When each is read / Then each has its type, and null or absent optional fields give None or the default
    assert reader.string("name", min_length=1, max_length=3) == "cpu"
    assert reader.integer("n", default=1, ge=1, le=5) == 3
    assert reader.boolean("b", default=False) is True
    assert reader.choice("c", Colour) is Colour.GREEN
    assert [item.string("k") for item in reader.objects("l")] == ["v"]
    assert reader.strings("s") == ("a",)
    assert reader.string_map("m") == {"k": "v"}
    assert reader.optional_string("z") is None
    assert reader.optional_obj("absent") is None
    assert reader.integer("absent", default=7) == 7
    assert reader.objects("absent") == []
    assert reader.string_map("absent") == {}


def test_a_root_that_is_not_an_object_is_named_root() -> None:
    # Given a list where an object is expected / When it is read / Then the path shows as (root)
    with pytest.raises(FieldError, match=r"^\(root\): expected an object, got a list$"):
        Reader([1, 2])
