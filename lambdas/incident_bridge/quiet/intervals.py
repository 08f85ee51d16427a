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

Pure: parsing raises `FieldError` naming the field; `contains` takes the moment to test (the caller's clock).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from incident_bridge.reader import FieldError, Reader, kind_of

# Alertmanager numbers weekdays from Sunday (Go's time.Weekday); Python's weekday() from Monday.
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")  # fmt: skip
_CLOCK = re.compile(r"^([0-9]{2}):([0-9]{2})\Z")
MINUTES_PER_DAY = 24 * 60
#: IANA's name for Coordinated Universal Time, Alertmanager's default location.
UTC_LOCATION = "UTC"
INTERVAL_KEYS = frozenset({"times", "weekdays", "days_of_month", "months", "years", "location"})
NAMED_INTERVAL_KEYS = frozenset({"name", "time_intervals"})
TIME_RANGE_KEYS = frozenset({"start_time", "end_time"})

Range = tuple[int, int]


@dataclass(frozen=True, kw_only=True)
class TimeRange:
    """`start_time` (included) to `end_time` (excluded), `HH:MM` on the interval's wall clock."""

    start_time: str
    end_time: str

    @functools.cached_property
    def minutes(self) -> Range:
        return _minute_of_day(self.start_time), _minute_of_day(self.end_time)


@dataclass(frozen=True, kw_only=True)
class TimeInterval:
    """One entry of a named interval. Each field holds the document's spelling (`monday:friday`), so the
    configuration writes back as it was read; the parsed ranges are computed once, on first use."""

    times: tuple[TimeRange, ...] = ()
    weekdays: tuple[str, ...] = ()
    days_of_month: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    location: str = UTC_LOCATION

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

    name: str
    time_intervals: tuple[TimeInterval, ...] = ()

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


# ---- reading the configuration ----


def read_named_intervals(config: Reader, key: str = "time_intervals") -> tuple[NamedTimeInterval, ...]:
    """The top-level `time_intervals:` list; names must be unique."""
    named = []
    for item in config.objects(key):
        item.only(NAMED_INTERVAL_KEYS)
        name = item.string("name", min_length=1, max_length=128)
        entries = tuple(read_interval(entry) for entry in item.objects("time_intervals"))
        named.append(NamedTimeInterval(name=name, time_intervals=entries))
    names = [interval.name for interval in named]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise FieldError(config.at(key), f"time interval names must be unique: {', '.join(duplicates)}")
    return tuple(named)


def read_interval(entry: Reader) -> TimeInterval:
    entry.only(INTERVAL_KEYS)
    times = []
    for span in entry.objects("times"):
        span.only(TIME_RANGE_KEYS)
        start = span.convert("start_time", _clock_text)
        end = span.convert("end_time", _clock_text)
        time_range = TimeRange(start_time=start, end_time=end)
        if time_range.minutes[0] >= time_range.minutes[1]:
            raise FieldError(span.path, f"start_time {start} must come before end_time {end}")
        times.append(time_range)
    location = entry.optional_string("location") or UTC_LOCATION
    try:
        load_zone(location)
    except ValueError as error:
        raise FieldError(entry.at("location"), str(error)) from None
    return TimeInterval(
        times=tuple(times),
        weekdays=_checked(entry, "weekdays", lambda text: _named_range(text, WEEKDAYS, first=0)),
        days_of_month=_checked(entry, "days_of_month", _day_range),
        months=_checked(entry, "months", lambda text: _named_range(text, MONTHS, first=1)),
        years=_checked(entry, "years", _year_range),
        location=location,
    )


def _clock_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a time of day HH:MM, got {kind_of(value)}")
    _minute_of_day(value)
    return value


def _checked(entry: Reader, key: str, parse: Any) -> tuple[str, ...]:
    """The list's items as text (YAML reads `months: [1, 2]` and `years: [2026]` as numbers), each parsed once
    here so a mistake names its item."""
    found = []
    for path, item in entry.items(key):
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise FieldError(path, f"expected a string, got {kind_of(item)}")
        text = str(item).strip().lower()
        try:
            parse(text)
        except ValueError as error:
            raise FieldError(path, str(error)) from None
        found.append(text)
    return tuple(found)
