"""Validate request parameters against botocore's own service model, as strictly as the live API does.

botocore's ``ParamValidator`` (run by every client call, and therefore by ``Stubber`` too) only checks
types, required members, tagged unions and ``min`` constraints. The services themselves also enforce
``max`` lengths/counts/values, ``pattern`` and ``enum``, so a request that sails through a stubbed client
can still be refused with a ``ValidationException`` in production. The dry-run mode
(``incident-bridge invoke`` without AWS) must refuse exactly what the real API would refuse, so this module
walks the operation's input shape from the *loaded* model (the same JSON botocore ships; no network, no
credentials) and reports every violation, not just the first one.

The walker is generic (any service, any operation). A few rules the live API enforces are documented but
not present in the model; they live in ``EXTRA_SERVICE_RULES`` so they stay visible and reviewable.
"""

from __future__ import annotations

import datetime
import decimal
import difflib
import functools
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import botocore.session
from botocore import xform_name
from botocore.exceptions import UnknownServiceError
from botocore.model import (
    ListShape,
    MapShape,
    OperationModel,
    OperationNotFoundError,
    ServiceModel,
    Shape,
    StringShape,
    StructureShape,
)
from botocore.utils import is_json_value_header, parse_to_aware_datetime

from incident_bridge.aws import RESERVED_SOURCE_PREFIX, length

__all__ = [
    "EXTRA_SERVICE_RULES",
    "ModelViolation",
    "RequestRejected",
    "ensure_valid",
    "violations",
]

_LOG = logging.getLogger(__name__)

DEFAULT_SERVICE: Final = "ssm-incidents"

# Smithy `integer`/`long` are 32/64-bit on the wire; a bigger Python int is refused by the service even
# when the model declares no explicit range.
_INT_BOUNDS: Final[Mapping[str, tuple[int, int]]] = {
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True, slots=True)
class ModelViolation:
    """One way a request breaks the service model.

    ``path`` uses boto3 parameter names, e.g. ``relatedItems[3].identifier.value.arn``; it is ``""`` for
    the request as a whole. ``problem`` is meant for humans (CLI output, logs).
    """

    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path or '(request)'}: {self.problem}"


class RequestRejected(Exception):
    """The request would be refused by the service; carries every violation found."""

    def __init__(
        self,
        operation: str,
        violations: Sequence[ModelViolation],
        service: str = DEFAULT_SERVICE,
    ) -> None:
        self.operation = operation
        self.violations: tuple[ModelViolation, ...] = tuple(violations)
        self.service = service
        super().__init__(self._message())

    def _message(self) -> str:
        count = len(self.violations)
        noun = "violation" if count == 1 else "violations"
        lines = [f"{self.service} {self.operation} request rejected ({count} {noun}):"]
        lines.extend(f"  - {violation}" for violation in self.violations)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._message()

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle through ``self.args`` by default, which would not round-trip our signature.
        return (type(self), (self.operation, self.violations, self.service))


# --- Extra rules: enforced by the live API, documented, but absent from the model -------------------------

ExtraRule = Callable[[Mapping[str, object]], list[ModelViolation]]


def _trigger_source_not_reserved(params: Mapping[str, object]) -> list[ModelViolation]:
    # TriggerDetails.source docs: "Customer-generated events can have any value here, as long as it
    # doesn't begin with 'aws.'" -- the prefix identifies events sourced from AWS services themselves.
    details = params.get("triggerDetails")
    if not isinstance(details, Mapping):
        return []
    source = details.get("source")
    if isinstance(source, str) and source.startswith(RESERVED_SOURCE_PREFIX):
        return [
            ModelViolation(
                "triggerDetails.source",
                f"{source!r} starts with 'aws.', a prefix reserved for AWS services",
            )
        ]
    return []


EXTRA_SERVICE_RULES: Final[Mapping[tuple[str, str], tuple[ExtraRule, ...]]] = {
    ("ssm-incidents", "StartIncident"): (_trigger_source_not_reserved,),
}


# --- Public API --------------------------------------------------------------------------------------------


def violations(
    operation: str,
    params: Mapping[str, object],
    service: str = DEFAULT_SERVICE,
) -> list[ModelViolation]:
    """Every way ``params`` breaks ``service``'s model for ``operation`` (empty list: the request is valid).

    ``operation`` is the API name (``StartIncident``) or the boto3 method name (``start_incident``).
    Raises ``ValueError`` for an unknown service or operation.
    """
    op_model = _operation_model(service, operation)
    found: list[ModelViolation] = []
    input_shape = op_model.input_shape
    if input_shape is None:
        # Operation takes no input: anything passed is unknown to the service.
        found.extend(ModelViolation(str(name), f"unknown member {name!r}") for name in params)
    else:
        _check(dict(params), input_shape, "", found)
    for rule in EXTRA_SERVICE_RULES.get((service, op_model.name), ()):
        found.extend(rule(params))
    return found


def ensure_valid(
    operation: str,
    params: Mapping[str, object],
    service: str = DEFAULT_SERVICE,
) -> None:
    """Raise ``RequestRejected`` listing every violation if the service would refuse ``params``."""
    found = violations(operation, params, service)
    if found:
        raise RequestRejected(_operation_model(service, operation).name, found, service)


# --- Model loading -----------------------------------------------------------------------------------------


@functools.cache
def _service_model(service: str) -> ServiceModel:
    # Loads the JSON model shipped inside botocore: no network, no credentials. Cached because loading
    # and parsing a model costs milliseconds we do not want on every Lambda invocation.
    try:
        return botocore.session.get_session().get_service_model(service)
    except UnknownServiceError as exc:
        raise ValueError(f"unknown AWS service {service!r}") from exc


@functools.cache
def _operation_model(service: str, operation: str) -> OperationModel:
    model = _service_model(service)
    by_python_name = {xform_name(name): name for name in model.operation_names}
    name = by_python_name.get(operation, operation)
    try:
        return model.operation_model(name)
    except OperationNotFoundError as exc:
        close = difflib.get_close_matches(operation, model.operation_names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"{service} has no operation {operation!r}{hint}") from exc


# --- Pattern handling --------------------------------------------------------------------------------------


def _to_python_regex(pattern: str) -> str:
    r"""Translate the few model regex idioms whose meaning differs in Python's ``re``.

    * A bare ``$`` in Python also matches *before a trailing newline*, so ``"arn:...:x\n"`` would pass
      ``^arn:...$``. Smithy patterns are ECMA-262, where ``$`` (no multiline) is the true end of input,
      so we rewrite it to ``\Z``.
    * ``\z`` (end of input in Java) does not exist in Python; it is ``\Z`` there.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            out.append("\\Z" if escaped == "z" and not in_class else char + escaped)
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            # A ']' right after '[' or '[^' is a literal member, not the end of the class.
            lead = 2 if pattern.startswith("^]", i + 1) else 1 if pattern.startswith("]", i + 1) else 0
            out.append(pattern[i : i + 1 + lead])
            i += 1 + lead
            continue
        elif char == "$":
            out.append("\\Z")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    # AWS patterns are written for Java/ECMA engines; some (``\p{L}``, ``\x{0022}``) do not compile in
    # Python's ``re``. We would rather skip such a check than refuse a request the service accepts.
    # re.ASCII: ``\d``/``\w`` are ASCII-only in Java and ECMA-262, Unicode-aware in Python by default.
    try:
        return re.compile(_to_python_regex(pattern), re.ASCII)
    except re.error:
        _LOG.debug("pattern %r is not supported by Python's re; not checked", pattern)
        return None


# --- The walker --------------------------------------------------------------------------------------------


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _type_name(value: object) -> str:
    return type(value).__name__


def _check(value: object, shape: Shape, path: str, out: list[ModelViolation]) -> None:
    if is_json_value_header(shape):
        # A string header that botocore JSON-encodes for us: any JSON-serialisable value is fine.
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            out.append(ModelViolation(path, f"value must be JSON-serialisable: {exc}"))
        return
    kind = shape.type_name
    if kind == "structure" and isinstance(shape, StructureShape):
        if shape.is_document_type:
            _check_document(value, path, out)
        else:
            _check_structure(value, shape, path, out)
    elif kind == "list" and isinstance(shape, ListShape):
        _check_list(value, shape, path, out)
    elif kind == "map" and isinstance(shape, MapShape):
        _check_map(value, shape, path, out)
    elif kind == "string":
        _check_string(value, shape, path, out)
    elif kind in ("integer", "long"):
        _check_integer(value, shape, path, out)
    elif kind in ("double", "float"):
        _check_number(value, shape, path, out)
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(ModelViolation(path, f"expected boolean, got {_type_name(value)}"))
    elif kind == "timestamp":
        _check_timestamp(value, path, out)
    elif kind == "blob":
        _check_blob(value, shape, path, out)
    else:
        # New type in a future model: say so rather than silently accepting.
        out.append(ModelViolation(path, f"cannot validate shape type {kind!r} ({shape.name})"))


def _check_structure(value: object, shape: StructureShape, path: str, out: list[ModelViolation]) -> None:
    # boto3 serialises only real dicts for structures (botocore's validator insists on dict as well).
    if not isinstance(value, dict):
        out.append(ModelViolation(path, f"expected structure (dict), got {_type_name(value)}"))
        return
    members = shape.members
    if shape.is_tagged_union:
        set_members = [name for name in value if name in members]
        if len(set_members) != 1:
            detail = f" ({', '.join(set_members)})" if set_members else ""
            out.append(
                ModelViolation(
                    path,
                    f"union {shape.name} must set exactly one member, got {len(set_members)}{detail}; "
                    f"members: {', '.join(members)}",
                )
            )
    for required in shape.required_members:
        if required not in value:
            out.append(ModelViolation(_join(path, required), f"missing required member {required!r}"))
    for name, member_value in value.items():
        member_path = _join(path, str(name))
        if name not in members:
            out.append(ModelViolation(member_path, f"unknown member {name!r}; expected one of {', '.join(members)}"))
        else:
            _check(member_value, members[name], member_path, out)


def _check_list(value: object, shape: ListShape, path: str, out: list[ModelViolation]) -> None:
    if not isinstance(value, list | tuple):
        out.append(ModelViolation(path, f"expected list, got {_type_name(value)}"))
        return
    _check_size(len(value), shape, path, "item count", out)
    for index, item in enumerate(value):
        _check(item, shape.member, f"{path}[{index}]", out)


def _check_map(value: object, shape: MapShape, path: str, out: list[ModelViolation]) -> None:
    if not isinstance(value, dict):
        out.append(ModelViolation(path, f"expected map (dict), got {_type_name(value)}"))
        return
    _check_size(len(value), shape, path, "entry count", out)
    for key, item in value.items():
        entry_path = f"{path}[{key!r}]"
        key_problems: list[ModelViolation] = []
        _check(key, shape.key, entry_path, key_problems)
        out.extend(ModelViolation(v.path, f"map key {v.problem}") for v in key_problems)
        _check(item, shape.value, entry_path, out)


def _check_string(value: object, shape: Shape, path: str, out: list[ModelViolation]) -> None:
    if not isinstance(value, str):
        out.append(ModelViolation(path, f"expected string, got {_type_name(value)}"))
        return
    # Smithy measures string length in Unicode scalar values; aws.length counts them, for builders and here alike.
    _check_size(length(value), shape, path, "length", out)
    enum = shape.enum if isinstance(shape, StringShape) else []
    if enum and value not in enum:
        out.append(ModelViolation(path, f"{value!r} is not one of {', '.join(enum)}"))
    pattern = shape.metadata.get("pattern")
    if isinstance(pattern, str):
        compiled = _compiled(pattern)
        # AWS patterns carry their own anchors (or deliberately none), hence search(), not fullmatch().
        if compiled is not None and compiled.search(value) is None:
            out.append(ModelViolation(path, f"does not match pattern {pattern}"))


def _check_integer(value: object, shape: Shape, path: str, out: list[ModelViolation]) -> None:
    # bool is an int subclass; botocore lets True through as 1, the JSON wire format sends `true`.
    if isinstance(value, bool) or not isinstance(value, int):
        out.append(ModelViolation(path, f"expected integer, got {_type_name(value)}"))
        return
    _check_size(value, shape, path, "value", out)
    low, high = _INT_BOUNDS[shape.type_name]
    if not low <= value <= high:
        out.append(ModelViolation(path, f"value {value} does not fit a {shape.type_name} ({low}..{high})"))


def _check_number(value: object, shape: Shape, path: str, out: list[ModelViolation]) -> None:
    if isinstance(value, bool) or not isinstance(value, float | int | decimal.Decimal):
        out.append(ModelViolation(path, f"expected number, got {_type_name(value)}"))
        return
    _check_size(value, shape, path, "value", out)


def _check_timestamp(value: object, path: str, out: list[ModelViolation]) -> None:
    if isinstance(value, datetime.datetime):
        return
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        out.append(
            ModelViolation(path, f"expected timestamp (datetime, ISO-8601 string or epoch), got {_type_name(value)}")
        )
        return
    # Same conversion boto3's serializer applies, so we accept exactly the strings/epochs it can send.
    try:
        # The stubs say str only; at runtime botocore also takes int/float epochs (it does so itself).
        parse_to_aware_datetime(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, AttributeError, OverflowError, OSError, RuntimeError):
        out.append(ModelViolation(path, f"{value!r} is not a timestamp boto3 can serialise"))


def _check_blob(value: object, shape: Shape, path: str, out: list[ModelViolation]) -> None:
    if isinstance(value, bytes | bytearray):
        size: int | None = len(value)
    elif isinstance(value, str):
        size = len(value.encode("utf-8"))  # boto3 sends str blobs UTF-8 encoded
    elif hasattr(value, "read"):
        size = None  # streaming body: reading it here would consume it
    else:
        out.append(ModelViolation(path, f"expected bytes or file-like object, got {_type_name(value)}"))
        return
    if size is not None:
        _check_size(size, shape, path, "size", out)


def _check_document(value: object, path: str, out: list[ModelViolation]) -> None:
    # Document types carry arbitrary JSON.
    if value is None or isinstance(value, str | bool | int | float):
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_document(item, f"{path}[{index}]", out)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                out.append(ModelViolation(path, f"document keys must be strings, got {_type_name(key)}"))
            _check_document(item, _join(path, str(key)), out)
    else:
        out.append(ModelViolation(path, f"document values must be JSON types, got {_type_name(value)}"))


def _check_size(
    measured: int | float | decimal.Decimal,
    shape: Shape,
    path: str,
    what: str,
    out: list[ModelViolation],
) -> None:
    metadata = shape.metadata
    minimum = metadata.get("min")
    # botocore gives host-label members an implicit min of 1 (an empty label would build a bad hostname).
    if minimum is None and shape.serialization.get("hostLabel"):
        minimum = 1
    maximum = metadata.get("max")
    if minimum is not None and measured < minimum:
        out.append(ModelViolation(path, f"{what} {measured} is below min {minimum}"))
    if maximum is not None and measured > maximum:
        out.append(ModelViolation(path, f"{what} {measured} exceeds max {maximum}"))
