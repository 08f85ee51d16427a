"""Reads a JSON object one typed field at a time; every error names the path of the field that is wrong.

The Lambda validates its configuration and the alarm payloads with this rather than with pydantic, whose import
and model building would be most of a cold start (see the README's Performance section). The messages follow one
pattern, `<path>: <problem>`, e.g. `detail.state.value: expected one of ALARM, OK, INSUFFICIENT_DATA, got 'FIRE'`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import Field, dataclass, fields, is_dataclass
from enum import Enum
from typing import Any, TypeVar

E = TypeVar("E", bound=Enum)
T = TypeVar("T")

_SHOWN = 60  # characters of a refused value quoted in a message


class FieldError(ValueError):
    """A field that is missing, of the wrong type or out of bounds; `str()` is `<path>: <problem>`."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or '(root)'}: {problem}")
        self.path = path
        self.problem = problem


def kind_of(value: object) -> str:
    """JSON's name for a value's type, as a message shows it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _text(path: str, value: str) -> str:
    # JSON's `\ud800` escape reads as a lone surrogate: no UTF-8 encoder, so no AWS API, can carry it.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(path, "not valid Unicode text (lone surrogate)") from None
    return value


def shown(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    return repr(text[:_SHOWN] + ("..." if len(text) > _SHOWN else ""))


class Reader:
    """One JSON object. Absent keys and JSON nulls read as missing: optional readers give None (or the default),
    required ones raise."""

    def __init__(self, data: object, path: str = "") -> None:
        if not isinstance(data, Mapping):
            raise FieldError(path, f"expected an object, got {kind_of(data)}")
        self._data: Mapping[str, Any] = data
        self.path = path

    def at(self, key: str | int) -> str:
        """The path of `key` inside this object."""
        return f"{self.path}.{key}" if self.path else str(key)

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def raw(self, key: str) -> Any:
        return self._data.get(key)

    def fields(self) -> Iterator[str]:
        """The object's keys."""
        return (str(key) for key in self._data)

    def only(self, allowed: Collection[str]) -> None:
        """Refuses keys outside `allowed` (strict documents such as the configuration)."""
        for key in self.fields():
            if key not in allowed:
                raise FieldError(self.at(key), f"unknown key (known: {', '.join(sorted(allowed))})")

    # ---- scalars ----

    def optional_string(
        self, key: str, *, min_length: int = 0, max_length: int | None = None, pattern: re.Pattern[str] | None = None
    ) -> str | None:
        value = self._data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise FieldError(self.at(key), f"expected a string, got {kind_of(value)}")
        _text(self.at(key), value)
        if len(value) < min_length:
            raise FieldError(self.at(key), f"must have at least {min_length} character{'s' * (min_length != 1)}")
        if max_length is not None and len(value) > max_length:
            raise FieldError(self.at(key), f"must have at most {max_length} characters, got {len(value)}")
        if pattern is not None and pattern.search(value) is None:
            raise FieldError(self.at(key), f"{shown(value)} does not match {pattern.pattern!r}")
        return value

    def string(
        self, key: str, *, min_length: int = 0, max_length: int | None = None, pattern: re.Pattern[str] | None = None
    ) -> str:
        value = self.optional_string(key, min_length=min_length, max_length=max_length, pattern=pattern)
        return self._required(key, value)

    def optional_integer(self, key: str, *, ge: int | None = None, le: int | None = None) -> int | None:
        value = self._data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(self.at(key), f"expected a whole number, got {kind_of(value)}")
        if ge is not None and value < ge:
            raise FieldError(self.at(key), f"must be at least {ge}, got {value}")
        if le is not None and value > le:
            raise FieldError(self.at(key), f"must be at most {le}, got {value}")
        return value

    def integer(self, key: str, *, default: int, ge: int | None = None, le: int | None = None) -> int:
        value = self.optional_integer(key, ge=ge, le=le)
        return default if value is None else value

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise FieldError(self.at(key), f"expected true or false, got {kind_of(value)}")
        return value

    def choice(self, key: str, choices: type[E]) -> E:
        value = self._required(key, self._data.get(key))
        try:
            return choices(value)
        except ValueError:
            names = ", ".join(str(member.value) for member in choices)
            raise FieldError(self.at(key), f"expected one of {names}, got {shown(value)}") from None

    def optional_choice(self, key: str, choices: type[E]) -> E | None:
        return None if self._data.get(key) is None else self.choice(key, choices)

    def convert(self, key: str, parse: Callable[[Any], T]) -> T:
        """A required value through `parse`; a ValueError it raises becomes this field's error."""
        value = self._required(key, self._data.get(key))
        try:
            return parse(value)
        except FieldError:
            raise
        except ValueError as error:
            raise FieldError(self.at(key), str(error)) from None

    # ---- structures ----

    def obj(self, key: str) -> Reader:
        return Reader(self._required(key, self._data.get(key)), self.at(key))

    def optional_obj(self, key: str) -> Reader | None:
        value = self._data.get(key)
        return None if value is None else Reader(value, self.at(key))

    def items(self, key: str) -> list[tuple[str, Any]]:
        """The elements of a list (absent: none), each with its path."""
        value = self._data.get(key)
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            raise FieldError(self.at(key), f"expected a list, got {kind_of(value)}")
        return [(self.at(f"{key}.{index}"), item) for index, item in enumerate(value)]

    def objects(self, key: str) -> list[Reader]:
        return [Reader(item, path) for path, item in self.items(key)]

    def strings(self, key: str) -> tuple[str, ...]:
        found = []
        for path, item in self.items(key):
            if not isinstance(item, str):
                raise FieldError(path, f"expected a string, got {kind_of(item)}")
            found.append(_text(path, item))
        return tuple(found)

    def string_map(self, key: str) -> dict[str, str]:
        """An object of string values (absent: empty)."""
        value = self._data.get(key)
        if value is None:
            return {}
        mapping = Reader(value, self.at(key))
        for name in mapping.fields():
            _text(mapping.path, name)  # a key that cannot be encoded cannot be shown in a path either
            if not isinstance(mapping.raw(name), str):
                raise FieldError(mapping.at(name), f"expected a string, got {kind_of(mapping.raw(name))}")
            _text(mapping.at(name), mapping.raw(name))
        return {name: mapping.raw(name) for name in mapping.fields()}

    def _required(self, key: str, value: T | None) -> T:
        if value is None:
            raise FieldError(self.at(key), "required")
        return value


# ---- declared models: each field says how it is read; one reader for them all ----

#: Reads one field: the object holding it, the key it is given under, and where problems go. None: not given.
FieldRead = Callable[[Reader, str, "Problems"], Any]
_SPEC = "incident_bridge.reader.spec"
#: Problems one message lists; a document that is wrong everywhere is more likely the wrong document.
MAX_PROBLEMS = 20


class Problems:
    """The mistakes found so far. Reading goes on past one, so a check lists them all in one run."""

    def __init__(self) -> None:
        self.found: list[FieldError] = []

    def read(self, fallback: T, read: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`read(*args, **kwargs)`; when it raises a FieldError, notes it and gives `fallback` instead."""
        try:
            return read(*args, **kwargs)
        except FieldError as error:
            self.found.append(error)
            return fallback

    def __str__(self) -> str:
        shown_problems = [str(problem) for problem in self.found[:MAX_PROBLEMS]]
        if len(self.found) > MAX_PROBLEMS:
            shown_problems.append(f"and {len(self.found) - MAX_PROBLEMS} more")
        return "; ".join(shown_problems)


@dataclass(frozen=True)
class Spec:
    """How one field of a declared model is read: its reader, and its key where the document spells it otherwise
    than the attribute (`continue`, `detail-type`)."""

    read: FieldRead
    key: str | None = None


def declared(read: FieldRead, *, key: str | None = None) -> dict[str, Spec]:
    """Field metadata declaring how the field is read: `field(default=..., metadata=declared(...))`."""
    return {_SPEC: Spec(read, key)}


def document_key(spec: Field[Any]) -> str:
    declared_spec = spec.metadata.get(_SPEC)
    return declared_spec.key if declared_spec is not None and declared_spec.key else spec.name


def known_keys(model: type[Any]) -> frozenset[str]:
    """The document's keys, plus the attribute names where they differ: both spellings are accepted."""
    return frozenset(document_key(spec) for spec in fields(model)) | {spec.name for spec in fields(model)}


def read_fields(model: type[Any], owner: Reader, problems: Problems, *, strict: bool = True) -> dict[str, Any]:
    """Every field `model` declares, read from `owner` in declaration order; unknown keys (when `strict`), and
    fields that are wrong, are noted in `problems` and left out (so the model's defaults apply, or its construction
    is skipped). An environment is read with `strict=False`: it holds far more than the model."""
    if strict:
        problems.read(None, owner.only, known_keys(model))
    given: dict[str, Any] = {}
    for spec in fields(model):
        key = document_key(spec)
        if not owner.has(key) and owner.has(spec.name):
            key = spec.name  # the attribute's own spelling, always accepted too
        value = problems.read(None, spec.metadata[_SPEC].read, owner, key, problems)
        if value is not None:
            given[spec.name] = value
    return given


def document_of(model: Any) -> dict[str, Any]:
    """A declared model as JSON-ready data under its document's keys (reading it back gives it equal)."""
    return {document_key(spec): _json_ready(getattr(model, spec.name)) for spec in fields(model)}


def _json_ready(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return document_of(value)
    if isinstance(value, tuple | list):
        return [_json_ready(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    return value
