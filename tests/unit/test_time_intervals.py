"""Time intervals in Alertmanager's format: fields, window edges, time zones and daylight-saving change days."""

from __future__ import annotations

import shutil
import sys
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from incident_bridge.quiet import intervals
from incident_bridge.quiet.intervals import NamedTimeInterval, read_named_intervals
from incident_bridge.reader import FieldError, Reader


def interval(**entry: Any) -> NamedTimeInterval:
    return read_named_intervals(Reader({"time_intervals": [{"name": "window", "time_intervals": [entry]}]}))[0]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_times_include_their_start_and_exclude_their_end() -> None:
    # Given a window from 02:00 to 03:30 UTC
    window = interval(times=[{"start_time": "02:00", "end_time": "03:30"}])

    # When moments around its edges are tested, Then the start is in and the end is out
    assert not window.contains(utc("2026-12-01T01:59:59"))
    assert window.contains(utc("2026-12-01T02:00:00"))
    assert window.contains(utc("2026-12-01T03:29:59"))
    assert not window.contains(utc("2026-12-01T03:30:00"))


def test_end_time_24_00_reaches_midnight() -> None:
    # Given an evening window ending at 24:00
    window = interval(times=[{"start_time": "22:00", "end_time": "24:00"}])

    # Then the last minute of the day is in and midnight (the next day) is out
    assert window.contains(utc("2026-12-01T23:59:00"))
    assert not window.contains(utc("2026-12-02T00:00:00"))


def test_weekday_ranges_are_inclusive_and_start_on_sunday_as_in_alertmanager() -> None:
    # Given a weekend and a working-week interval (2026-12-05 is a Saturday, 2026-12-07 a Monday)
    weekend = interval(weekdays=["saturday", "Sunday"])
    working_week = interval(weekdays=["monday:friday"])

    # Then Saturday and Sunday are the weekend, Monday and Friday the working week
    assert weekend.contains(utc("2026-12-05T12:00:00"))
    assert weekend.contains(utc("2026-12-06T23:59:00"))
    assert not weekend.contains(utc("2026-12-07T00:00:00"))
    assert working_week.contains(utc("2026-12-07T00:00:00"))
    assert working_week.contains(utc("2026-12-11T23:59:00"))
    assert not working_week.contains(utc("2026-12-12T00:00:00"))


def test_negative_days_of_month_count_from_the_months_end() -> None:
    # Given the last three days of every month
    month_end = interval(days_of_month=["-3:-1"])

    # Then February (28 days in 2026) and December (31) each have their own last three days
    assert month_end.contains(utc("2026-02-26T00:00:00"))
    assert not month_end.contains(utc("2026-02-25T23:59:00"))
    assert month_end.contains(utc("2026-12-31T10:00:00"))
    assert not month_end.contains(utc("2026-12-28T10:00:00"))


def test_a_day_past_the_months_end_never_matches_and_mixed_signs_span_the_month() -> None:
    # Given day 31 only, and the whole month written 1:-1
    day_31 = interval(days_of_month=["31"])
    whole_month = interval(days_of_month=["1:-1"])

    # Then day 31 is absent from April, and 1:-1 covers April's 30th
    assert not day_31.contains(utc("2026-04-30T12:00:00"))
    assert day_31.contains(utc("2026-05-31T12:00:00"))
    assert whole_month.contains(utc("2026-04-30T12:00:00"))


def test_months_by_name_or_number_and_years() -> None:
    # Given the first quarter of 2026 and 2027, months spelled both ways
    quarter = interval(months=["january:3"], years=["2026:2027"])

    # Then March 2027 is in, April 2026 and January 2028 are out
    assert quarter.contains(utc("2027-03-31T23:00:00"))
    assert not quarter.contains(utc("2026-04-01T00:00:00"))
    assert not quarter.contains(utc("2028-01-15T00:00:00"))


def test_all_fields_must_hold_together() -> None:
    # Given weekday business hours in December
    business = interval(times=[{"start_time": "09:00", "end_time": "17:00"}], weekdays=["monday:friday"],
                        months=["december"])  # fmt: skip

    # Then a December Saturday at 10:00 is out, a December Monday at 10:00 in, a November Monday out
    assert not business.contains(utc("2026-12-05T10:00:00"))
    assert business.contains(utc("2026-12-07T10:00:00"))
    assert not business.contains(utc("2026-11-30T10:00:00"))


def test_an_entry_without_fields_always_matches_and_an_interval_without_entries_never() -> None:
    # Given an always-interval and an empty one
    always = interval()
    never = read_named_intervals(Reader({"time_intervals": [{"name": "never", "time_intervals": []}]}))[0]

    # Then
    assert always.contains(utc("2026-12-01T00:00:00"))
    assert not never.contains(utc("2026-12-01T00:00:00"))


def test_location_moves_the_wall_clock_and_the_weekday() -> None:
    # Given a Monday-morning window in Tokyo (UTC+9)
    tokyo = interval(times=[{"start_time": "08:00", "end_time": "10:00"}], weekdays=["monday"], location="Asia/Tokyo")

    # Then Sunday 23:30 UTC is Monday 08:30 in Tokyo: in; Monday 08:30 UTC is 17:30 there: out
    assert tokyo.contains(utc("2026-12-06T23:30:00"))
    assert not tokyo.contains(utc("2026-12-07T08:30:00"))


def test_spring_forward_day_keeps_the_wall_clock_in_berlin() -> None:
    # Given a 09:00-10:00 window in Berlin; on 2026-03-29 clocks go from 02:00 CET to 03:00 CEST
    window = interval(times=[{"start_time": "09:00", "end_time": "10:00"}], location="Europe/Berlin")

    # Then the day before, 09:00 Berlin is 08:00 UTC; on the change day it is 07:00 UTC
    assert window.contains(utc("2026-03-28T08:00:00"))
    assert not window.contains(utc("2026-03-28T07:00:00"))
    assert window.contains(utc("2026-03-29T07:00:00"))
    assert window.contains(utc("2026-03-29T07:59:00"))
    assert not window.contains(utc("2026-03-29T08:00:00"))


def test_spring_forward_skipped_hour_is_never_inside_a_window_of_that_hour() -> None:
    # Given a window over the hour Berlin skips (02:00-03:00 local) and one across it (01:00-04:00)
    skipped = interval(times=[{"start_time": "02:00", "end_time": "03:00"}], location="Europe/Berlin")
    across = interval(times=[{"start_time": "01:00", "end_time": "04:00"}], location="Europe/Berlin")

    # When every minute of 2026-03-29 00:00-03:00 UTC is tested
    minutes = [utc(f"2026-03-29T{hour:02d}:{minute:02d}:00") for hour in range(3) for minute in range(60)]

    # Then the skipped hour holds no real minute, and the window across it lasts two real hours, not three
    assert not any(skipped.contains(moment) for moment in minutes)
    assert sum(across.contains(moment) for moment in minutes) == 120


def test_fall_back_repeated_hour_is_inside_twice() -> None:
    # Given a 02:00-03:00 window in Berlin; on 2026-10-25 clocks go from 03:00 CEST back to 02:00 CET
    window = interval(times=[{"start_time": "02:00", "end_time": "03:00"}], location="Europe/Berlin")

    # When every minute of 2026-10-24 23:00 to 2026-10-25 03:00 UTC is tested
    minutes = [utc(f"2026-10-24T23:{minute:02d}:00") for minute in range(60)]
    minutes += [utc(f"2026-10-25T{hour:02d}:{minute:02d}:00") for hour in range(3) for minute in range(60)]

    # Then 02:00-03:00 local happens twice (00:00-01:00 UTC in CEST, 01:00-02:00 UTC in CET): two real hours
    assert sum(window.contains(moment) for moment in minutes) == 120
    assert window.contains(utc("2026-10-25T00:00:00"))
    assert window.contains(utc("2026-10-25T01:59:00"))
    assert not window.contains(utc("2026-10-25T02:00:00"))


def test_new_york_change_day_moves_the_utc_edge_by_an_hour() -> None:
    # Given business hours starting 09:00 in New York; on 2026-03-08 EST (UTC-5) becomes EDT (UTC-4)
    window = interval(times=[{"start_time": "09:00", "end_time": "17:00"}], location="America/New_York")

    # Then 09:00 local is 14:00 UTC on the Saturday before, and 13:00 UTC on the Monday after
    assert window.contains(utc("2026-03-07T14:00:00"))
    assert not window.contains(utc("2026-03-07T13:59:00"))
    assert window.contains(utc("2026-03-09T13:00:00"))
    assert not window.contains(utc("2026-03-09T12:59:00"))


def test_a_weekday_in_a_zone_follows_its_local_midnight_on_a_change_day() -> None:
    # Given Sundays in New York; 2026-11-01 is a Sunday when EDT ends (midnight local = 04:00 UTC)
    sundays = interval(weekdays=["sunday"], location="America/New_York")

    # Then Sunday starts at 04:00 UTC and (now EST) ends at 05:00 UTC on Monday
    assert not sundays.contains(utc("2026-11-01T03:59:00"))
    assert sundays.contains(utc("2026-11-01T04:00:00"))
    assert sundays.contains(utc("2026-11-02T04:59:00"))
    assert not sundays.contains(utc("2026-11-02T05:00:00"))


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"location": "Mars/Olympus_Mons"}, "time_intervals.0.time_intervals.0.location: unknown time zone 'Mars/"),
        ({"location": "Local"}, "time_intervals.0.time_intervals.0.location: unknown time zone 'Local'"),
        ({"weekdays": ["funday"]}, "time_intervals.0.time_intervals.0.weekdays.0: 'funday' is not one of sunday"),
        ({"weekdays": ["friday:monday"]}, "weekdays.0: 'friday:monday': the range's start comes after its end"),
        ({"days_of_month": ["0"]}, "days_of_month.0: '0' is not a day of the month"),
        ({"days_of_month": ["-1:-3"]}, "days_of_month.0: '-1:-3': the range's start comes after its end"),
        ({"months": ["13"]}, "months.0: '13' is not one of january"),
        ({"years": ["2027:2026"]}, "years.0: '2027:2026': the range's start comes after its end"),
        ({"times": [{"start_time": "10:00", "end_time": "09:00"}]}, "times.0: start_time 10:00 must come before"),
        ({"times": [{"start_time": "9:00", "end_time": "10:00"}]}, "times.0.start_time: '9:00' is not a time of day"),
        ({"times": [{"start_time": "00:00", "end_time": "24:01"}]}, "end_time: '24:01' is not a time of day between"),
        ({"timezone": "UTC"}, "time_intervals.0.time_intervals.0.timezone: unknown key"),
    ],
)
def test_mistakes_name_the_field(entry: dict[str, Any], expected: str) -> None:
    # Given an interval entry with one mistake, When it is read, Then the error names the field and the problem
    with pytest.raises(FieldError) as caught:
        interval(**entry)
    assert expected in str(caught.value)


def test_interval_names_must_be_unique() -> None:
    # Given two intervals with one name
    document = {"time_intervals": [{"name": "night", "time_intervals": []}, {"name": "night", "time_intervals": []}]}

    # When read, Then the duplicate is named
    with pytest.raises(FieldError, match="time_intervals: time interval names must be unique: night"):
        read_named_intervals(Reader(document))


def test_numbers_read_by_yaml_are_accepted_as_months_and_years() -> None:
    # Given months and years written as YAML numbers
    window = interval(months=[12], years=[2026])

    # Then they mean what the strings would
    assert window.contains(utc("2026-12-24T00:00:00"))
    assert not window.contains(utc("2027-12-24T00:00:00"))


def test_a_zone_the_runtime_lacks_is_read_from_the_asset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a machine with no time zone database (as the Lambda image may be), and the asset's copy of Berlin
    shipped = tmp_path / "zoneinfo"
    (shipped / "Europe").mkdir(parents=True)
    berlin = intervals.zone_file("Europe/Berlin")
    assert berlin is not None
    shutil.copyfile(berlin, shipped / "Europe" / "Berlin")
    monkeypatch.setattr(intervals, "SHIPPED_ZONES", shipped)
    monkeypatch.setitem(sys.modules, "tzdata", None)  # the PyPI fallback is absent too
    zoneinfo.reset_tzpath(to=[])
    ZoneInfo.clear_cache()
    intervals.load_zone.cache_clear()
    try:
        # When Berlin and Paris are loaded
        zone = intervals.load_zone("Europe/Berlin")
        with pytest.raises(ValueError, match="unknown time zone 'Europe/Paris'"):
            intervals.load_zone("Europe/Paris")
    finally:
        zoneinfo.reset_tzpath()
        ZoneInfo.clear_cache()
        intervals.load_zone.cache_clear()

    # Then Berlin comes from the asset with its rules (CET in winter), and Paris, not shipped, is refused
    assert datetime(2026, 12, 1, 12, tzinfo=UTC).astimezone(zone).utcoffset() == timedelta(hours=1)
