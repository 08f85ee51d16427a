"""Fault injection (issue 12): every boundary x {fail before effect, fail after effect, throttle, crash, a concurrent
delivery}, on the 1st, 2nd and 3rd call of that boundary, through the real handler; then invariants 1-6.

Deterministic: the batch make-up, the order and the duplicates come from seeded generators, the clock is virtual.
Each run is one scenario (tests/faults/harness.py: two groups that fire, recover, auto-resolve and fire again)
with one fault. A run's violations name the invariant they break; the tests assert there are none, and that the
sweep did inject each kind of fault at each boundary (a sweep that never fires proves nothing).

The last test removes a commit point (the calls are made before their intent is written to the group record) and
shows that the same sweep then finds violations: the suite can fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from incident_bridge import groups
from incident_bridge.groups import GroupRecord
from incident_bridge.lifecycle import Lifecycle, _Changed
from tests.faults.emulator import Fault
from tests.faults.harness import BOUNDARIES, Run, Scenario, run_scenario, sweep_cases

# The handler module filters Powertools' "no metrics" warning at import; pytest resets filters for each test.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture(autouse=True)
def _quiet_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    # Powertools logs every decision at INFO; hundreds of runs would drown pytest's report.
    import logging

    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def sweep(scenario: Scenario, cases: Iterable[tuple[str, Fault, int]]) -> tuple[list[str], set[tuple[str, Fault]]]:
    """Runs every case; returns the violations (prefixed with the case) and which (boundary, kind) fired."""
    violations: list[str] = []
    fired: set[tuple[str, Fault]] = set()
    for boundary, kind, occurrence in cases:
        run: Run = run_scenario(scenario, boundary, kind, occurrence)
        if run.fired:
            fired.add((boundary, kind))
        violations += [f"{boundary} {kind} #{occurrence}: {violation}" for violation in run.violations]
    return violations, fired


def test_without_faults_every_invariant_holds() -> None:
    # Given the scenario, delivered in seeded batches to two workers, with no fault
    # When it is drained
    run = run_scenario(Scenario())

    # Then no invariant is broken and nothing was dead-lettered
    assert run.violations == []
    assert run.dead_lettered == {}
    assert run.invocations > 0


def test_every_boundary_and_failure_kind_keeps_the_invariants() -> None:
    # Given every boundary x every failure kind x the 1st/2nd/3rd call
    cases = sweep_cases()

    # When each runs the scenario with that one fault
    violations, fired = sweep(Scenario(), cases)

    # Then no invariant broke, and every kind of fault was injected at every boundary the scenario reaches (the
    # dead-letter send is reached only by poison records, and GetItem only by redeliveries: writes come first and
    # read only when a decision would write nothing; see the tests below)
    assert violations == []
    reached = set(BOUNDARIES) - {"sqs.SendMessage", "dynamodb.GetItem"}
    assert {(boundary, kind) for boundary in reached for kind in Fault} <= fired


@pytest.mark.parametrize("seed", [12])  # the seed that found the two bugs fixed with it
def test_duplicated_and_reordered_deliveries_keep_the_invariants(seed: int) -> None:
    # Given every message sent twice and the sends shuffled (seeded), with each fault on the first call
    scenario = Scenario(seed=seed, duplicated=True, shuffled=True)
    cases = [(boundary, kind, 1) for boundary in BOUNDARIES for kind in Fault]

    # When each runs
    violations, fired = sweep(scenario, cases)

    # Then no invariant broke; redeliveries made the bridge read the group record, and faults hit that read too
    assert violations == []
    assert {("dynamodb.GetItem", kind) for kind in Fault} <= fired


def test_poison_records_and_a_corrupt_group_record_touch_only_themselves() -> None:
    # Given poison messages (a body nested too deep, a lone surrogate), and the payments group's record corrupt,
    # with faults on the dead-letter send and the group writes
    scenario = Scenario(seed=4, poison=True, corrupt_group="payments")
    cases = [
        (boundary, kind, occurrence)
        for boundary in ("sqs.SendMessage", "dynamodb.PutItem", "ssm-incidents.CreateTimelineEvent")
        for kind in Fault
        for occurrence in (1,)
    ]

    # When each runs
    violations, fired = sweep(scenario, cases)
    plain = run_scenario(scenario)

    # Then no invariant broke: the poison and the payments events are dead-lettered with their reasons, checkout's
    # incident lives its life
    assert violations == []
    assert plain.violations == []
    assert {"poison-deep", "poison-surrogate"} <= set(plain.dead_lettered)
    assert all(error_class and reason for error_class, reason in plain.dead_lettered.values())
    assert any(error_class == "CorruptGroupRecord" for error_class, _ in plain.dead_lettered.values())
    assert {("sqs.SendMessage", kind) for kind in Fault} <= fired


def test_an_incident_deleted_by_a_human_is_replaced_even_between_status_checks() -> None:
    # Given checkout's incident deleted mid-run, with status checks skipped for 5 minutes (incident_check_seconds)
    scenario = Scenario(seed=5, delete_incident_of="checkout", incident_check_seconds=300)
    cases = [(boundary, kind, 1) for boundary in BOUNDARIES[:5] for kind in (Fault.AFTER, Fault.CRASH, Fault.RACE)]

    # When it runs, plain and with faults on the Incident Manager calls
    plain = run_scenario(scenario)
    violations, _ = sweep(scenario, cases)

    # Then the invariants hold, nothing is dead-lettered, and checkout's last ALARM started a fresh incident
    assert plain.violations == []
    assert plain.dead_lettered == {}
    assert plain.incidents["checkout"] == 2
    assert violations == []


def test_with_joins_deferred_and_carried_every_boundary_and_failure_kind_keeps_the_invariants() -> None:
    # Given both workers' request budgets too short for the scenario's joins (deferred and coalesced; a batch that
    # opens an incident leaves its joins to carriers; status checks within their share), with every fault
    scenario = Scenario(seed=3, short_budget=True)
    cases = [(boundary, kind, occurrence) for boundary, kind, occurrence in sweep_cases() if occurrence < 3]

    # When each runs
    plain = run_scenario(scenario)
    violations, fired = sweep(scenario, cases)

    # Then no invariant broke, nothing was dead-lettered without faults, and every fault kind reached every boundary
    assert plain.violations == []
    assert plain.dead_lettered == {}
    assert violations == []
    reached = set(BOUNDARIES) - {"sqs.SendMessage", "dynamodb.GetItem"}
    assert {(boundary, kind) for boundary in reached for kind in Fault} <= fired


def test_removing_a_commit_point_breaks_the_invariants(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the lifecycle with its commit point removed: the calls are made first, their intent written after
    def calls_before_intent(self: Lifecycle, record: GroupRecord, expected_version: int) -> GroupRecord | _Changed:
        # The calls are made from the record not yet written (a crash or a race now falls after the effect and
        # before the intent is durable), then the record is written without them.
        items: list[str] = []
        notes: list[str] = []
        status_done = self._send_pending(record, items, notes)
        done = groups.confirmed(record, items, notes, status_done, self._clock())._replace(version=record.version)
        written = self._write(done, expected_version)
        return done if written else _Changed(written.current)

    monkeypatch.setattr(Lifecycle, "_commit", calls_before_intent)

    # When the races and crashes of the sweep run against it
    cases = [case for case in sweep_cases() if case[1] in (Fault.RACE, Fault.CRASH)]
    violations, _ = sweep(Scenario(), cases)

    # Then the suite's invariant checks catch it
    assert violations, "removing the commit point went unnoticed"
    assert any(violation.split(": ", 1)[1][:1] in "234" for violation in violations)
