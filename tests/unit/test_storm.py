"""The alarm storm (tests/storm/simulation.py): a burst of ALARMs through the real batch path, the deployed pollers
and reserved concurrency, a throttling Incident Manager stand-in with 1% 5xx, botocore's adaptive retries, the
request budget and SQS redelivery with per-record backoff, on a virtual clock.

The issue's goals (issue 14), per scenario: time to page max B <= 1.25 x its floor C, time to complete D <= 1.5 x
its floor F, nothing lost, at most 1.5 API calls per alarm. They are asserted here at a reduced size: 1,000 alarms
(the issue's smallest storm takes about two seconds of wall time; what matters for the API budget is how many alarms
of a group share a batch, so the size cannot shrink much without changing what is measured). Every figure comes from
the virtual clock; nothing here is timed.
"""

from __future__ import annotations

import re

import pytest

from tests.storm.simulation import (
    BATCH_SIZE,
    BATCHING_WINDOW_SECONDS,
    FUNCTION_TIMEOUT_SECONDS,
    MAX_CONCURRENCY,
    MAX_RECEIVE_COUNT,
    POLLERS,
    RESERVED_CONCURRENCY,
    SCENARIOS,
    VISIBILITY_TIMEOUT_SECONDS,
    Order,
    Scenario,
    StormFigures,
    floor_calls,
    headline,
    main,
    run_storm,
    storm_config,
    storm_events,
)

PAGE_GOAL = 1.25
COMPLETE_GOAL = 1.5
CALLS_PER_ALARM_GOAL = 1.5


@pytest.fixture(scope="module")
def storm_at_5() -> StormFigures:
    return run_storm(events=1000, groups=50, seed=7, order=Order.SHUFFLED, rate=5.0)


@pytest.fixture(scope="module")
def storm_at_1() -> StormFigures:
    return run_storm(events=1000, groups=40, seed=7, order=Order.SHUFFLED, rate=1.0)


def assert_every_alarm_accounted_for(figures: StormFigures) -> None:
    assert figures.lost == 0
    assert figures.duplicated == 0
    assert figures.incidents_started == figures.groups
    assert figures.missing_from_stand_in == 0
    assert figures.in_incident_and_dlq == 0
    assert len(figures.dlq_reasons) == figures.dlq
    assert all(reason.strip() for reason in figures.dlq_reasons)


@pytest.mark.parametrize("storm", ["storm_at_5", "storm_at_1"])
def test_a_storm_loses_nothing_and_opens_one_incident_per_group(storm: str, request: pytest.FixtureRequest) -> None:
    # Given 1,000 alarms of 40-50 services, interleaved, sent in one burst, at 5 and at 1 request per second
    figures: StormFigures = request.getfixturevalue(storm)

    # Then every alarm is in exactly one incident, one per service, and nothing reached the dead-letter queue
    assert_every_alarm_accounted_for(figures)
    assert figures.dlq == 0
    assert figures.complete_seconds is not None


@pytest.mark.parametrize("storm", ["storm_at_5", "storm_at_1"])
def test_no_poller_spends_time_being_throttled(storm: str, request: pytest.FixtureRequest) -> None:
    # Given the storm, with each poller spending its fixed share of the request budget
    figures: StormFigures = request.getfixturevalue(storm)

    # Then Incident Manager throttled nothing: the budget waited instead, and adaptive mode never had to
    assert figures.throttled == 0
    assert figures.rate_limiter_waits == 0
    assert figures.budget_waits > 0


@pytest.mark.parametrize("storm", ["storm_at_5", "storm_at_1"])
def test_no_record_waits_for_the_visibility_timeout(storm: str, request: pytest.FixtureRequest) -> None:
    # Given the storm, with the runtime's per-record backoff and its deadline from the invocation's remaining time
    figures: StormFigures = request.getfixturevalue(storm)

    # Then every record that came back did so after its own short backoff, and no invocation timed out
    assert figures.waited_visibility_timeout == 0
    assert figures.timeouts == 0
    assert figures.longest_invocation_seconds < FUNCTION_TIMEOUT_SECONDS
    assert figures.simulated_seconds < VISIBILITY_TIMEOUT_SECONDS * (1 if figures.rate >= 5 else 2)


@pytest.mark.parametrize("storm", ["storm_at_5", "storm_at_1"])
def test_a_storm_needs_at_most_one_and_a_half_calls_per_alarm(storm: str, request: pytest.FixtureRequest) -> None:
    # Given the storm, at 5 and at 1 request per second
    figures: StormFigures = request.getfixturevalue(storm)

    # Then it cost at most 1.5 Incident Manager attempts per alarm, failed ones included
    assert figures.api_calls_per_event <= CALLS_PER_ALARM_GOAL


@pytest.mark.parametrize("storm", ["storm_at_5", "storm_at_1"])
def test_every_group_is_paged_within_a_quarter_of_its_floor(storm: str, request: pytest.FixtureRequest) -> None:
    # Given the storm
    figures: StormFigures = request.getfixturevalue(storm)

    # Then the last group was paged within 1.25 x (batching window + groups / rate)
    assert figures.page_max <= PAGE_GOAL * figures.page_floor


@pytest.mark.parametrize("storm", ["storm_at_5", "storm_at_1"])
def test_every_alarm_is_in_its_incident_within_half_again_its_floor(storm: str, request: pytest.FixtureRequest) -> None:
    # Given the storm
    figures: StormFigures = request.getfixturevalue(storm)

    # Then the last alarm's resource was in its incident within 1.5 x (the calls it needs / rate)
    assert figures.complete_seconds is not None
    assert figures.complete_seconds <= COMPLETE_GOAL * figures.complete_floor


def test_the_page_floor_is_the_batching_window_plus_every_start_at_the_rate(storm_at_5: StormFigures) -> None:
    # Given the storm at 5 requests per second
    # Then its floor is 5 s of batching window plus 50 starts at 5 per second
    assert storm_at_5.page_floor == BATCHING_WINDOW_SECONDS + 50 / 5.0
    assert len(storm_at_5.page_seconds) == storm_at_5.groups
    assert storm_at_5.page_p50 <= storm_at_5.page_max


def test_the_call_floor_counts_a_start_per_group_then_one_call_per_later_alarm() -> None:
    # Given 4 alarms of 2 services, clustered (both services' alarms in the first batch of BATCH_SIZE)
    sent = storm_events(4, 2, seed=7, order=Order.CLUSTERED)

    # When the floor is counted
    calls = floor_calls(sent, storm_config())

    # Then each service needs one StartIncident carrying all its alarms' resources, nothing more
    assert calls == 2
    # ... and an alarm delivered in a later batch than its group's first needs one call for its resource
    later = storm_events(BATCH_SIZE + 1, BATCH_SIZE + 1, seed=7, order=Order.CLUSTERED)
    later[-1]["detail"]["alarmTags"] = dict(later[0]["detail"]["alarmTags"])  # the last one joins the first's group
    assert floor_calls(later, storm_config()) == BATCH_SIZE + 1


def test_the_simulation_uses_the_deployed_delivery_settings() -> None:
    # Given the infrastructure's settings (the simulation reads them from the same modules)
    from infra import bridge_function
    from infra.ingest import MAX_RECEIVE_COUNT as DEPLOYED_MAX_RECEIVE_COUNT

    # Then the simulated queue and pollers match them (infra/ingest.py: visibility timeout 6 x function timeout)
    assert bridge_function.BATCH_SIZE == BATCH_SIZE
    assert bridge_function.BATCHING_WINDOW.to_seconds() == BATCHING_WINDOW_SECONDS
    assert bridge_function.MAX_CONCURRENCY == MAX_CONCURRENCY
    assert getattr(bridge_function, "RESERVED_CONCURRENCY", None) == RESERVED_CONCURRENCY
    assert min(MAX_CONCURRENCY, RESERVED_CONCURRENCY or MAX_CONCURRENCY) == POLLERS
    assert bridge_function.TIMEOUT.to_seconds() == FUNCTION_TIMEOUT_SECONDS
    assert 6 * bridge_function.TIMEOUT.to_seconds() == VISIBILITY_TIMEOUT_SECONDS
    assert DEPLOYED_MAX_RECEIVE_COUNT == MAX_RECEIVE_COUNT


def test_make_storm_runs_the_issues_scenarios() -> None:
    # Given the scenarios `make storm` runs
    # Then they are at least the issue's three
    assert {Scenario(1000, 50, 5.0), Scenario(5000, 200, 5.0), Scenario(5000, 200, 1.0)} <= set(SCENARIOS)


def test_the_script_prints_the_issues_five_lines_first(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a small storm run as the script runs it
    exit_code = main(["--events", "40", "--groups", "4", "--rate", "5", "--order", "clustered"])

    # Then it exits 0 and prints exactly the issue's five lines, in order, before anything else
    lines = capsys.readouterr().out.splitlines()
    assert exit_code == 0
    assert lines[0] == "scenario: 40 events, 4 groups, 5 req/s"
    assert re.fullmatch(r"time to page: p50 [0-9.]+ s, max [0-9.]+ s, floor 5\.8 s", lines[1])  # 5 s + 4 starts / 5
    assert re.fullmatch(r"time to complete: [0-9.]+ s, floor [0-9.]+ s", lines[2])
    assert lines[3] == "lost: 0"
    assert lines[4].startswith("api calls per event: ")
    assert all(line.startswith("  ") for line in lines[5:])


def test_the_headline_is_the_issues_format() -> None:
    # Given a storm's figures
    figures = run_storm(events=40, groups=4, seed=7, order=Order.CLUSTERED, rate=1.0)

    # When its headline is printed
    lines = headline(figures)

    # Then it is the issue's five lines with the numbers in place
    assert lines == [
        "scenario: 40 events, 4 groups, 1 req/s",
        f"time to page: p50 {figures.page_p50:.1f} s, max {figures.page_max:.1f} s, floor 9.0 s",
        f"time to complete: {figures.complete_seconds:.1f} s, floor {figures.complete_floor:.1f} s",
        "lost: 0",
        f"api calls per event: {figures.api_calls_per_event:.2f}",
    ]
