"""The alarm storm (tests/storm/simulation.py): a burst of ALARMs through the real batch path, two pollers, a
5 rps Incident Manager stand-in with 1% 5xx, botocore's adaptive retries and SQS redelivery, on a virtual clock.

Reduced runs (200 alarms in 10 groups) check that nothing is lost or doubled; the full storm of the issue
(1,000 alarms in 50 groups) runs too, because it takes about a second and because only at that size does a
batch of 100 hold as few alarms per group (about two) as the real storm does, which is what the API budget
depends on.
"""

from __future__ import annotations

import pytest

from tests.storm.simulation import (
    BATCH_SIZE,
    BATCHING_WINDOW_SECONDS,
    FUNCTION_TIMEOUT_SECONDS,
    MAX_CONCURRENCY,
    MAX_RECEIVE_COUNT,
    VISIBILITY_TIMEOUT_SECONDS,
    Order,
    StormFigures,
    main,
    run_storm,
)

API_BUDGET_PER_EVENT = 2.0


@pytest.fixture(scope="module")
def full_shuffled_storm() -> StormFigures:
    return run_storm(events=1000, groups=50, seed=7, order=Order.SHUFFLED)


def assert_every_alarm_accounted_for(figures: StormFigures) -> None:
    assert figures.lost == 0
    assert figures.duplicated == 0
    assert figures.incidents_started == figures.groups
    assert figures.missing_from_stand_in == 0
    assert figures.in_incident_and_dlq == 0
    assert len(figures.dlq_reasons) == figures.dlq
    assert all(reason.strip() for reason in figures.dlq_reasons)


def test_a_shuffled_storm_puts_every_alarm_in_its_groups_one_incident() -> None:
    # Given 200 alarms of 10 services, interleaved, sent in one burst
    # When two pollers take them through the handler against the throttling stand-in
    figures = run_storm(events=200, groups=10, seed=7, order=Order.SHUFFLED)

    # Then every alarm is in exactly one incident, one per service, and none went to the dead-letter queue
    assert_every_alarm_accounted_for(figures)
    assert figures.dlq == 0
    # ... and the stand-in did throttle, so the run exercised the retry path
    assert figures.throttled > 0
    assert figures.sdk_retries > 0


def test_a_clustered_storm_puts_every_alarm_in_its_groups_one_incident_within_budget() -> None:
    # Given 200 alarms of 10 services, each service's alarms sent together
    # When two pollers take them through the handler against the throttling stand-in
    figures = run_storm(events=200, groups=10, seed=7, order=Order.CLUSTERED)

    # Then every alarm is in exactly one incident, one per service, within the API budget
    assert_every_alarm_accounted_for(figures)
    assert figures.dlq == 0
    assert figures.api_calls_per_event <= API_BUDGET_PER_EVENT


def test_the_full_shuffled_storm_loses_nothing_and_starts_fifty_incidents(full_shuffled_storm: StormFigures) -> None:
    # Given the issue's storm: 1,000 alarms of 50 services, interleaved, in one burst
    figures = full_shuffled_storm

    # Then every alarm is in exactly one incident or in the dead-letter queue with a reason
    assert figures.events == 1000
    assert_every_alarm_accounted_for(figures)
    # ... throttling was absorbed by retries and redelivery, not by dropping
    assert figures.throttled > 0
    assert figures.dlq == 0


def test_the_full_shuffled_storm_needs_at_most_two_calls_per_alarm(full_shuffled_storm: StormFigures) -> None:
    # Given the issue's storm, interleaved
    figures = full_shuffled_storm

    # Then it cost at most 2.0 Incident Manager calls per alarm, throttled and failed attempts included
    assert figures.api_calls_per_event <= API_BUDGET_PER_EVENT


def test_the_full_clustered_storm_needs_at_most_two_calls_per_alarm() -> None:
    # Given the issue's storm with each service's alarms sent together
    figures = run_storm(events=1000, groups=50, seed=7, order=Order.CLUSTERED)

    # Then nothing is lost or doubled, within the API budget
    assert_every_alarm_accounted_for(figures)
    assert figures.api_calls_per_event <= API_BUDGET_PER_EVENT


def test_a_storm_at_one_request_per_second_loses_nothing_and_dead_letters_nothing_without_a_reason() -> None:
    # Given the issue's storm against an Incident Manager that takes 1 request per second (a fifth of the default)
    # When two pollers take it through the handler, with per-record backoff, requeueing of records not started,
    # and dead-lettering on the last receive
    figures = run_storm(events=1000, groups=50, seed=7, order=Order.SHUFFLED, rate=1.0)

    # Then nothing is lost, nothing reached the DLQ through the redrive policy (without a reason), every
    # dead-lettered alarm carries its reason, no invocation timed out, and no alarm is noted twice
    assert figures.lost == 0
    assert figures.dlq_max_receive == 0
    assert len(figures.dlq_reasons) == figures.dlq
    assert all(reason.strip() for reason in figures.dlq_reasons)
    assert figures.timeouts == 0
    assert figures.duplicated == 0
    assert figures.noted_twice == 0
    assert figures.incidents_started == figures.groups
    # ... and the per-record backoff stayed within seconds to minutes
    assert 0 < figures.longest_backoff_seconds <= 300


def test_a_smaller_storm_at_one_request_per_second_dead_letters_nothing() -> None:
    # Given 300 alarms of 15 services at 1 request per second
    figures = run_storm(events=300, groups=15, seed=7, order=Order.SHUFFLED, rate=1.0)

    # Then every alarm is in its group's one incident
    assert_every_alarm_accounted_for(figures)
    assert figures.dlq == 0


def test_the_simulation_uses_the_deployed_delivery_settings() -> None:
    # Given the infrastructure's settings (imports the CDK, so only here)
    from infra.bridge_function import BATCH_SIZE as DEPLOYED_BATCH_SIZE
    from infra.bridge_function import BATCHING_WINDOW, TIMEOUT
    from infra.bridge_function import MAX_CONCURRENCY as DEPLOYED_CONCURRENCY
    from infra.ingest import MAX_RECEIVE_COUNT as DEPLOYED_MAX_RECEIVE_COUNT

    # Then the simulated queue and pollers match them (infra/ingest.py: visibility timeout 6 x function timeout)
    assert BATCH_SIZE == DEPLOYED_BATCH_SIZE
    assert BATCHING_WINDOW.to_seconds() == BATCHING_WINDOW_SECONDS
    assert MAX_CONCURRENCY == DEPLOYED_CONCURRENCY
    assert TIMEOUT.to_seconds() == FUNCTION_TIMEOUT_SECONDS
    assert 6 * TIMEOUT.to_seconds() == VISIBILITY_TIMEOUT_SECONDS
    assert MAX_RECEIVE_COUNT == DEPLOYED_MAX_RECEIVE_COUNT


def test_the_script_prints_the_figures_the_issue_asks_for(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a small storm run as the script runs it
    exit_code = main(["--events", "40", "--groups", "4", "--order", "clustered"])

    # Then it exits 0 and prints each figure on its own line with the issue's prefix
    lines = capsys.readouterr().out.splitlines()
    assert exit_code == 0
    assert "events: 40" in lines
    assert any(line.startswith("order: clustered") for line in lines)
    for prefix in ("incidents started: ", "updates: ", "dlq: ", "lost: ", "api calls per event: ", "wall seconds: "):
        assert any(line.startswith(prefix) for line in lines), prefix
