"""Time intervals in Alertmanager's format: when a route is muted (`mute_time_intervals`) or active
(`active_time_intervals`).

```yaml
time_intervals:
  - name: weekend
    time_intervals:
      - weekdays: ['saturday', 'sunday']
        location: Europe/Berlin
  - name: nightly-backup
    time_intervals:
      - times: [{start_time: '02:00', end_time: '03:30'}]
```

The semantics follow Alertmanager's `timeinterval` package: every field an entry leaves out matches any time; a
`times` range includes its start and excludes its end (`end_time` may be `24:00`); ranges of weekdays, days of
the month, months and years are inclusive (`monday:friday`); a negative day of the month counts from its end
(`-1` is the last day); fields are compared on the wall clock of `location` (an IANA time zone, default UTC), so
`09:00` means nine o'clock local time on both sides of a daylight-saving change. A named interval contains a
moment when any of its entries does.

Declared as the rest of the configuration is (reader.py): each field below says how it is read, unknown keys are
refused naming the allowed ones, and every mistake is noted with its path. Pure: `contains` takes the moment to
test (the caller's clock).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from incident_bridge.reader import (
    FieldError,
    Problems,
    Reader,
    declared,
    kind_of,
    models,
    parsed,
    read_models,
    refuse_duplicates,
    text,
)

# Alertmanager numbers weekdays from Sunday (Go's time.Weekday); Python's weekday() from Monday.
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")  # fmt: skip
_CLOCK = re.compile(r"^([0-9]{2}):([0-9]{2})\Z")
MINUTES_PER_DAY = 24 * 60
#: IANA's name for Coordinated Universal Time, Alertmanager's default location.
UTC_LOCATION = "UTC"

Range = tuple[int, int]


def _calendar(parse: Callable[[str], Range]) -> dict[str, Any]:
    """A list of ranges of weekdays, days, months or years, held as the document spells them (trimmed, lower
    case; YAML reads `months: [1, 2]` and `years: [2026]` as numbers, taken as text), each parsed here so a
    mistake names its item."""
    return declared(lambda owner, key, problems: _calendar_items(owner, key, problems, parse))


@dataclass(frozen=True, kw_only=True)
class TimeRange:
    """`start_time` (included) to `end_time` (excluded), `HH:MM` on the interval's wall clock."""

    start_time: str = field(metadata=parsed(lambda value: _clock_text(value)))
    end_time: str = field(metadata=parsed(lambda value: _clock_text(value)))

    @functools.cached_property
    def minutes(self) -> Range:
        return _minute_of_day(self.start_time), _minute_of_day(self.end_time)


@dataclass(frozen=True, kw_only=True)
class TimeInterval:
    """One entry of a named interval. Each field holds the document's spelling (`monday:friday`), so the
    configuration writes back as it was read; the parsed ranges are computed once, on first use."""

    times: tuple[TimeRange, ...] = field(default=(), metadata=models(TimeRange, check=lambda span: _ordered(span)))
    weekdays: tuple[str, ...] = field(
        default=(), metadata=_calendar(lambda text: _named_range(text, WEEKDAYS, first=0))
    )
    days_of_month: tuple[str, ...] = field(default=(), metadata=_calendar(lambda text: _day_range(text)))
    months: tuple[str, ...] = field(default=(), metadata=_calendar(lambda text: _named_range(text, MONTHS, first=1)))
    years: tuple[str, ...] = field(default=(), metadata=_calendar(lambda text: _year_range(text)))
    #: An IANA time zone; absent, null or empty: UTC.
    location: str = field(default=UTC_LOCATION, metadata=declared(lambda owner, key, _: _zone_name(owner, key)))

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` (aware) falls inside this entry, compared on the wall clock of `location`."""
        local = moment.astimezone(self._zone)
        if self.times:
            minute = local.hour * 60 + local.minute
            if not any(start <= minute < end for start, end in (span.minutes for span in self.times)):
                return False
        if self.weekdays:
            # Python counts Monday as 0; Alertmanager (Go) Sunday as 0.
            weekday = (local.weekday() + 1) % 7
            if not _in_any(weekday, self._weekdays):
                return False
        if self.days_of_month and not _day_of_month_matches(local, self._days_of_month):
            return False
        if self.months and not _in_any(local.month, self._months):
            return False
        return not self.years or _in_any(local.year, self._years)

    @functools.cached_property
    def _zone(self) -> tzinfo:
        return load_zone(self.location)

    @functools.cached_property
    def _weekdays(self) -> tuple[Range, ...]:
        return tuple(_named_range(text, WEEKDAYS, first=0) for text in self.weekdays)

    @functools.cached_property
    def _days_of_month(self) -> tuple[Range, ...]:
        return tuple(_day_range(text) for text in self.days_of_month)

    @functools.cached_property
    def _months(self) -> tuple[Range, ...]:
        return tuple(_named_range(text, MONTHS, first=1) for text in self.months)

    @functools.cached_property
    def _years(self) -> tuple[Range, ...]:
        return tuple(_year_range(text) for text in self.years)


@dataclass(frozen=True, kw_only=True)
class NamedTimeInterval:
    """A `time_intervals:` item: routes name it in `mute_time_intervals` / `active_time_intervals`."""

    name: str = field(metadata=text(min_length=1, max_length=128))
    time_intervals: tuple[TimeInterval, ...] = field(default=(), metadata=models(TimeInterval))

    def contains(self, moment: datetime) -> bool:
        # Alertmanager: an interval with no entries never matches; an entry with no fields always does.
        return any(entry.contains(moment) for entry in self.time_intervals)


# ---- time zones ----


#: Where `cdk synth` puts the zones the configuration names (infra/asset.py): the Lambda runtime's image is not
#: documented to carry the IANA database, so the asset brings what it needs.
SHIPPED_ZONES = Path(__file__).resolve().parent.parent / "zoneinfo"


@functools.cache
def load_zone(name: str) -> tzinfo:
    """The IANA zone `name`. ValueError naming it when neither this machine nor the asset knows it."""
    if name == UTC_LOCATION:
        return UTC  # Alertmanager's default, and most configurations': no zoneinfo import on the cold start
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        shipped = SHIPPED_ZONES / name
        if shipped.is_file():  # `name` passed ZoneInfo's own check: no absolute path, no `..`
            with shipped.open("rb") as data:
                return ZoneInfo.from_file(data, key=name)
    except (ValueError, OSError):
        # ValueError: a key zoneinfo refuses outright (an absolute path, `..`); OSError: an unreadable file.
        pass
    raise ValueError(f"unknown time zone {name!r} (expected an IANA name such as Europe/Berlin)")


def zone_file(name: str) -> Path | None:
    """The TZif file of zone `name` on this machine (system database or the tzdata package), for the asset."""
    import zoneinfo

    for root in zoneinfo.TZPATH:
        candidate = Path(root) / name
        if candidate.is_file():
            return candidate
    try:
        import importlib.resources

        *areas, city = name.split("/")
        found = importlib.resources.files(".".join(["tzdata", "zoneinfo", *areas])).joinpath(city)
        return Path(str(found)) if found.is_file() else None
    except (ModuleNotFoundError, ValueError, TypeError):
        return None


# ---- parsing the document's spellings ----


def _minute_of_day(text: str) -> int:
    found = _CLOCK.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a time of day HH:MM")
    hours, minutes = int(found.group(1)), int(found.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return hours * 60 + minutes


def _bounds(text: str) -> tuple[str, str]:
    start, separator, end = text.partition(":")
    return (start, end) if separator else (start, start)


def _named_range(text: str, names: Sequence[str], *, first: int) -> Range:
    """`monday`, `monday:friday`, or (months) `1:3`, `january:3`, case-insensitive."""

    def number(part: str) -> int:
        spelled = part.strip().lower()
        if spelled in names:
            return names.index(spelled) + first
        if first == 1 and spelled.isdigit() and 1 <= int(spelled) <= len(names):
            return int(spelled)  # months may be numbers, weekdays may not (as in Alertmanager)
        raise ValueError(f"{part!r} is not one of {', '.join(names)}")

    start, end = (number(part) for part in _bounds(text))
    if start > end:
        raise ValueError(f"{text!r}: the range's start comes after its end")
    return start, end


def _day_range(text: str) -> Range:
    def number(part: str) -> int:
        try:
            day = int(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a day of the month (1 to 31, or -31 to -1 from the end)") from None
        if day == 0 or not -31 <= day <= 31:
            raise ValueError(f"{part!r} is not a day of the month (1 to 31, or -31 to -1 from the end)")
        return day

    start, end = (number(part) for part in _bounds(text))
    # Mixed signs ('1:-1': the whole month) are resolved per month; same signs must be in order.
    if (start > 0) == (end > 0) and start > end:
        raise ValueError(f"{text!r}: the range's start comes after its end")
    return start, end


def _year_range(text: str) -> Range:
    def number(part: str) -> int:
        if not part.isdigit():
            raise ValueError(f"{part!r} is not a year")
        return int(part)

    start, end = (number(part) for part in _bounds(text))
    if start > end:
        raise ValueError(f"{text!r}: the range's start comes after its end")
    return start, end


def _in_any(value: int, ranges: Iterable[Range]) -> bool:
    return any(start <= value <= end for start, end in ranges)


def _days_in_month(year: int, month: int) -> int:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - timedelta(days=1)).day


def _day_of_month_matches(local: datetime, ranges: Iterable[Range]) -> bool:
    days_in_month = _days_in_month(local.year, local.month)
    for start, end in ranges:
        # As Alertmanager: negative days count back from the month's last day; a start past the month's end never
        # matches (day 31 in April), and the end is clamped to the month.
        first = days_in_month + start + 1 if start < 0 else start
        last = days_in_month + end + 1 if end < 0 else end
        if first > days_in_month:
            continue
        if max(first, 1) <= local.day <= min(last, days_in_month):
            return True
    return False


# ---- reading the configuration: the field readers the declarations above name ----


def read_named_intervals(
    config: Reader, key: str = "time_intervals", problems: Problems | None = None
) -> tuple[NamedTimeInterval, ...]:
    """The top-level `time_intervals:` list; names must be unique. Every mistake is noted in `problems`; without
    it, the first one is raised."""
    noted = Problems() if problems is None else problems
    named = read_models(config, key, noted, NamedTimeInterval)
    noted.read(None, refuse_duplicates, config.at(key), "time interval names", [interval.name for interval in named])
    if problems is None and noted.found:
        raise noted.found[0]
    return named


def _ordered(span: TimeRange) -> None:
    if span.minutes[0] >= span.minutes[1]:
        raise ValueError(f"start_time {span.start_time} must come before end_time {span.end_time}")


def _zone_name(entry: Reader, key: str) -> str | None:
    location = entry.optional_string(key)
    if not location:
        return None  # absent, null or empty: the default, UTC
    try:
        load_zone(location)
    except ValueError as error:
        raise FieldError(entry.at(key), str(error)) from None
    return location


def _clock_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a time of day HH:MM, got {kind_of(value)}")
    _minute_of_day(value)
    return value


def _calendar_items(
    entry: Reader, key: str, problems: Problems, parse: Callable[[str], Range]
) -> tuple[str, ...] | None:
    found = []
    for path, item in entry.items(key):
        spelled = problems.read(None, _calendar_item, path, item, parse)
        if spelled is not None:
            found.append(spelled)
    return tuple(found) if found else None


def _calendar_item(path: str, item: object, parse: Callable[[str], Range]) -> str:
    if isinstance(item, bool) or not isinstance(item, str | int):
        raise FieldError(path, f"expected a string, got {kind_of(item)}")
    spelled = str(item).strip().lower()
    try:
        parse(spelled)
    except ValueError as error:
        raise FieldError(path, str(error)) from None
    return spelled
