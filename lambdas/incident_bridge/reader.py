"""Reads a JSON object one typed field at a time; every error names the path of the field that is wrong.

The Lambda validates its configuration, its settings and every payload (alarms, SNS classic alarms, custom
events) with this rather than with pydantic, whose import and model building would be most of a cold start (see the
README's Performance section); the function does not depend on pydantic at all. Models are declared as frozen
dataclasses whose fields carry how they are read (`declared`, or the constrained fields at the end, which also give
the field's JSON Schema: the custom event's published schema comes from them). The messages follow one pattern,
`<path>: <problem>`, e.g. `detail.state.value: expected one of ALARM, OK, INSUFFICIENT_DATA, got 'FIRE'`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import MISSING, Field, fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple, TypeVar

from incident_bridge.aws import ECMA_DOT

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


class Spec(NamedTuple):
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
    """Every field `model` declares, read from `owner` in declaration order; unknown keys (when `strict`), fields
    that are wrong and missing fields without a default are noted in `problems`, and left out (so the model's
    defaults apply, or its construction is skipped). An environment is read with `strict=False`: it holds far more
    than the model."""
    if strict:
        problems.read(None, owner.only, known_keys(model))
    given: dict[str, Any] = {}
    for spec in fields(model):
        key = document_key(spec)
        if not owner.has(key) and owner.has(spec.name):
            key = spec.name  # the attribute's own spelling, always accepted too
        before = len(problems.found)
        value = problems.read(None, spec.metadata[_SPEC].read, owner, key, problems)
        if value is not None:
            given[spec.name] = value
        elif len(problems.found) == before and spec.default is MISSING and spec.default_factory is MISSING:
            problems.found.append(FieldError(owner.at(key), "required"))  # a field without a default
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
    if isinstance(value, datetime):
        return value.isoformat()  # silences' starts_at / ends_at
    return value


# ---- constrained fields: one declaration gives a field's read and its JSON Schema ----
#
# `text`, `whole`, `flag`, `one_of`, `texts` and `models` declare a field by its constraints; from them come both
# the read (on Reader, the messages above) and the field's JSON Schema (`schema_of`, for documents published to
# producers). `parsed` (a value read through a parse function) and `declared` fields have no schema: the
# configuration, which uses them, publishes none. A model's rules across its fields (a silence ends after it
# starts) are a `check` given to `models` / `read_model`, applied to each item built.
# A field without a default is required. Absent and JSON null read as missing, except where `nullable=False`
# refuses an explicit null (a list or an enum with a default, as the custom event's schema always said).

#: Field metadata key: a function giving the field's JSON Schema (told whether the field is required), called only
#: when a schema is generated.
_SCHEMA = "incident_bridge.reader.schema"
#: pydantic's lax reading of a whole number written as text: blanks around, a sign, `_` between digits, `.0`.
#: Compiled on first use (re's cache), not at import: only custom events read numbers this way.
_LAX_WHOLE = r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?"


def _constrained(
    read: Callable[[Reader, str, Problems], Any], schema: Callable[[], dict[str, Any]], *, nullable: bool,
    description: str | None, key: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    def read_field(owner: Reader, key: str, problems: Problems) -> Any:
        if owner.has(key):
            return read(owner, key, problems)
        if not nullable and key in set(owner.fields()):
            raise FieldError(owner.at(key), "must not be null (leave the key out for the default)")
        return None

    def field_schema(required: bool) -> dict[str, Any]:
        found = schema()
        if nullable and not required:  # a required field's null reads as missing: refused
            found = {"anyOf": [found, {"type": "null"}]}
        return {**found, "description": description} if description else found

    return {**declared(read_field, key=key), _SCHEMA: field_schema}


def ecma_pattern(pattern: re.Pattern[str]) -> str:
    """A Python pattern as JSON Schema writes it (ECMA-262): its end anchor `\\Z` is ECMA's `$` (the true end of
    text; Python's `$` would also match before a final line break), and aws.ECMA_DOT is ECMA's `.` (no line
    terminator; Python's `.` matches `\\r`). The patterns declared here use nothing else the two dialects read
    differently."""
    written = pattern.pattern.replace(ECMA_DOT, ".")
    return written.removesuffix(r"\Z") + "$" if written.endswith(r"\Z") else written


def _text_schema(
    min_length: int, max_length: int | None, pattern: re.Pattern[str] | None, reserved_prefix: str | None
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if min_length:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    if pattern is not None:
        schema["pattern"] = ecma_pattern(pattern)
    if reserved_prefix is not None:
        schema["not"] = {"pattern": "^" + re.escape(reserved_prefix)}
    return schema


def _checked_text(
    owner: Reader, key: str, min_length: int, max_length: int | None, pattern: re.Pattern[str] | None,
    reserved_prefix: str | None,
) -> str | None:  # fmt: skip
    value = owner.optional_string(key, min_length=min_length, max_length=max_length)
    if value is not None and pattern is not None and pattern.search(value) is None:
        # Quoted as the JSON Schema publishes it, for whoever compares the two.
        raise FieldError(owner.at(key), f"{shown(value)} does not match {ecma_pattern(pattern)!r}")
    if value is not None and reserved_prefix is not None and value.startswith(reserved_prefix):
        raise FieldError(owner.at(key), f"{shown(value)}: the prefix {reserved_prefix!r} is reserved for AWS")
    return value


def text(
    *, min_length: int = 0, max_length: int | None = None, pattern: re.Pattern[str] | None = None,
    reserved_prefix: str | None = None, nullable: bool = True, description: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A string: at least `min_length` and at most `max_length` characters (code points), matching `pattern`
    (searched), not starting with `reserved_prefix`."""
    return _constrained(
        lambda owner, key, _: _checked_text(owner, key, min_length, max_length, pattern, reserved_prefix),
        lambda: _text_schema(min_length, max_length, pattern, reserved_prefix),
        nullable=nullable,
        description=description,
    )


def _lax_whole(path: str, value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(_LAX_WHOLE, value.strip()):
        return int(value.strip().split(".")[0])
    if isinstance(value, int):
        return value
    raise FieldError(path, f"expected a whole number, got {shown(value) if isinstance(value, str) else kind_of(value)}")


def _read_whole(owner: Reader, key: str, ge: int | None, le: int | None, lax: bool) -> int | None:
    if not lax:
        return owner.optional_integer(key, ge=ge, le=le)
    return Reader({key: _lax_whole(owner.at(key), owner.raw(key))}, owner.path).optional_integer(key, ge=ge, le=le)


def whole(
    *, ge: int | None = None, le: int | None = None, lax: bool = False, nullable: bool = True,
    description: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A whole number from `ge` to `le`. `lax` also reads what pydantic's lax mode read as one (true, 2.0, "2",
    " 2.0 "); the schema still says integer (JSON Schema counts 2.0 as one), which is what producers should send."""

    def schema() -> dict[str, Any]:
        bounds = {"minimum": ge, "maximum": le}
        return {"type": "integer", **{name: bound for name, bound in bounds.items() if bound is not None}}

    return _constrained(
        lambda owner, key, _: _read_whole(owner, key, ge, le, lax), schema, nullable=nullable, description=description
    )


def flag(*, key: str | None = None, description: str | None = None) -> dict[str, Any]:
    """true or false; `key` where the document spells the field otherwise (`continue`)."""
    return _constrained(
        lambda owner, given, _: owner.boolean(given, default=False),
        lambda: {"type": "boolean"},
        nullable=True,
        description=description,
        key=key,
    )


def _read_one_of(owner: Reader, key: str, values: tuple[str, ...]) -> str:
    value = owner.raw(key)
    if value not in values:
        raise FieldError(owner.at(key), f"expected one of {', '.join(values)}, got {shown(value)}")
    return str(value)


def one_of(*values: str, nullable: bool = True, description: str | None = None) -> dict[str, Any]:
    """One of these strings, exactly."""
    return _constrained(
        lambda owner, key, _: _read_one_of(owner, key, values),
        lambda: {"type": "string", "enum": list(values)},
        nullable=nullable,
        description=description,
    )


def _counted(owner: Reader, key: str, max_items: int | None) -> list[tuple[str, Any]]:
    items = owner.items(key)
    if max_items is not None and len(items) > max_items:
        raise FieldError(owner.at(key), f"must have at most {max_items} items, got {len(items)}")
    return items


def _read_texts(
    owner: Reader, key: str, problems: Problems, max_items: int | None, constraints: dict[str, Any]
) -> tuple[str, ...]:
    found = []
    for index, (path, value) in enumerate(_counted(owner, key, max_items)):
        if value is None:
            problems.found.append(FieldError(path, "expected a string, got null"))
            continue
        item = problems.read(None, _checked_text, Reader({str(index): value}, owner.at(key)), str(index), **constraints)
        if item is not None:
            found.append(item)
    return tuple(found)


def texts(
    *, max_items: int | None = None, min_length: int = 0, max_length: int | None = None,
    pattern: re.Pattern[str] | None = None, nullable: bool = True, description: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A list of strings (at most `max_items`), each constrained as `text` constrains one."""
    constraints: dict[str, Any] = {
        "min_length": min_length, "max_length": max_length, "pattern": pattern, "reserved_prefix": None
    }  # fmt: skip

    def schema() -> dict[str, Any]:
        found: dict[str, Any] = {"type": "array", "items": _text_schema(**constraints)}
        return found if max_items is None else {**found, "maxItems": max_items}

    return _constrained(
        lambda owner, key, problems: _read_texts(owner, key, problems, max_items, constraints),
        schema,
        nullable=nullable,
        description=description,
    )


def _object_fields(model: type[Any], value: object, path: str, problems: Problems) -> dict[str, Any]:
    return read_fields(model, Reader(value, path), problems)  # Reader refuses a value that is not an object


def read_models(
    owner: Reader, key: str, problems: Problems, model: type[T], *, max_items: int | None = None,
    check: Callable[[T], None] | None = None,
) -> tuple[T, ...]:  # fmt: skip
    """The list under `key` (absent: none), each item read as the declared `model` (unknown keys refused), every
    problem noted with its path. Only an item without problems is built, and then given to `check`, the model's
    rules across its fields: a ValueError it raises is the item's problem."""
    found = []
    for path, value in _counted(owner, key, max_items):
        before = len(problems.found)
        given = problems.read(None, _object_fields, model, value, path, problems)
        if given is not None and len(problems.found) == before:
            item = problems.read(None, _built, model, given, path, check)
            if item is not None:
                found.append(item)
    return tuple(found)


def _built(model: type[T], given: dict[str, Any], path: str, check: Callable[[T], None] | None) -> T:
    item = model(**given)
    if check is not None:
        try:
            check(item)
        except FieldError:
            raise
        except ValueError as error:
            raise FieldError(path, str(error)) from None
    return item


def refuse_duplicates(path: str, what: str, names: Collection[str]) -> None:
    """Names a list's items must not share (route names, silence ids, interval names), refused at the list."""
    listed = list(names)
    duplicates = sorted({name for name in listed if listed.count(name) > 1})
    if duplicates:
        raise FieldError(path, f"{what} must be unique: {', '.join(duplicates)}")


def models(
    model: type[Any], *, max_items: int | None = None, nullable: bool = True, description: str | None = None,
    check: Callable[[Any], None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A list (at most `max_items`) of objects, each read as the declared `model`, unknown keys refused, and each
    built one given to `check` (its rules across fields; see `read_models`)."""

    def schema() -> dict[str, Any]:
        found: dict[str, Any] = {"type": "array", "items": schema_of(model)}
        return found if max_items is None else {**found, "maxItems": max_items}

    return _constrained(
        lambda owner, key, problems: read_models(owner, key, problems, model, max_items=max_items, check=check),
        schema,
        nullable=nullable,
        description=description,
    )


def parsed(parse: Callable[[Any], Any]) -> dict[str, Any]:
    """A required value read through `parse` (a timestamp, a time of day): a ValueError it raises is the field's
    problem, worded by `parse`."""
    return declared(lambda owner, key, _problems: owner.convert(key, parse))


def schema_of(model: type[Any], *, extra_keys: bool = False, **annotations: Any) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a model declared with the constrained fields above: the fields in order,
    the ones without a default required, unknown keys refused unless `extra_keys`; `annotations` (title,
    description, ...) are added at its top."""
    properties: dict[str, Any] = {}
    required = []
    for spec in fields(model):
        is_required = spec.default is MISSING and spec.default_factory is MISSING
        properties[document_key(spec)] = property_schema = spec.metadata[_SCHEMA](is_required)
        if is_required:
            required.append(document_key(spec))
        else:
            factory: Any = spec.default_factory  # a callable when `default` is MISSING
            property_schema["default"] = _json_ready(spec.default if spec.default is not MISSING else factory())
    schema: dict[str, Any] = {**annotations, "type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = extra_keys
    return schema


class ModelError(ValueError):
    """Every problem of a document read as a declared model; `str()` lists them, `<path>: <problem>; ...`."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(str(problems))
        self.problems = problems.found


def read_model(
    model: type[T], data: object, *, path: str = "", strict: bool = True, check: Callable[[T], None] | None = None
) -> T:
    """`data` read as the declared `model` (then given to `check`, see `read_models`), or ModelError naming every
    field that is wrong."""
    problems = Problems()
    given = problems.read(None, lambda: read_fields(model, Reader(data, path), problems, strict=strict))
    if given is not None and not problems.found:
        item: T | None = problems.read(None, _built, model, given, path, check)
        if item is not None:
            return item
    raise ModelError(problems)
