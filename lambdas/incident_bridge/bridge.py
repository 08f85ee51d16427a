"""One event in, one outcome out: parse -> route -> quiet? -> lifecycle. The handler and the CLI both call this.

Results are values: a batch gives a `BatchResult` with one outcome per event, RETRY for what the queue should
redeliver. Nothing here raises for one bad event: an unexpected error touches only its own event (a group that
fails as a whole is retried one event at a time), so the rest of the batch goes on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from incident_bridge.config import BridgeConfig
from incident_bridge.errors import InvalidEvent, NotStarted, TransientApiError
from incident_bridge.intake import FORWARDER_SILENT_ROUTE
from incident_bridge.lifecycle import Firing, Lifecycle, Step, group_key
from incident_bridge.outcome import ApiCall, BatchResult, IgnoreReason, Outcome, OutcomeKind
from incident_bridge.ports import AlarmTags, GroupStore, HeartbeatStore, IncidentManager
from incident_bridge.quiet import Quiet
from incident_bridge.quiet.ports import QuietEntry
from incident_bridge.quieting import Quieting, RouteQuiet
from incident_bridge.recording import RecordingIncidentManager
from incident_bridge.routing import Routing, route, route_table, with_account_alias
from incident_bridge.signal import NotActionable, Signal, SignalStatus
from incident_bridge.sources import housekeeping, parse_event
from incident_bridge.sources.forwarder import ForwarderCheck

if TYPE_CHECKING:
    from incident_bridge.budget import RequestBudget
    from incident_bridge.heartbeats import Heartbeat

# When one event opens several incidents (routes with `continue`), the outcome reports the weightiest step.
_WEIGHT = {
    OutcomeKind.REJECTED: 6, OutcomeKind.RETRY: 5, OutcomeKind.STARTED: 4, OutcomeKind.RESOLVED: 3,
    OutcomeKind.UPDATED: 2, OutcomeKind.IGNORED: 1,
}  # fmt: skip
#: Time left: a callable giving the seconds the invocation has left (None: no limit, e.g. the CLI).
TimeLeft = Callable[[], float]
#: Once less than this share of the time the invocation had at the batch's start is left, no new group is started:
#: the rest of the batch is returned for retry. With the deployed 300 s timeout that keeps 90 s for the group in
#: progress, more than its slowest operation needs (botocore retrying each throttled call up to 5 times), so a
#: batch never runs into the function's timeout.
STOP_STARTING_SHARE = 0.3
#: The request budget is short when a batch's groups would take longer than this at its rate (about two calls a
#: group): their joins are then deferred and coalesced (Lifecycle.fire_many) instead of made one group at a time.
SHORT_BUDGET_SECONDS = 5.0
#: A group whose deferred calls are not all sent keeps one of its events in the queue, back after this long to send
#: them: long enough for more of the group's alarms to join the same note, short beside a storm.
CARRIER_SECONDS = 120


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Bridge:
    def __init__(
        self,
        config: BridgeConfig,
        incidents: IncidentManager,
        groups: GroupStore,
        tags: AlarmTags | None = None,
        clock: Callable[[], datetime] = _utc_now,
        heartbeats: HeartbeatStore | None = None,
        budget: RequestBudget | None = None,
        quieting: Quieting | None = None,
    ) -> None:
        self._config = config
        route_table(config)  # resolved here, once per container (at init), not on the first event
        #: The container's request budget (budget.py), to tell when joins should wait (None: they never do).
        self._budget = budget
        self._tags = tags if config.lookup_alarm_tags else None
        self._heartbeats = heartbeats
        self._clock = clock
        #: Without ports, only what the configuration says (static silences, intervals) and mute rules apply.
        self.quieting = quieting or Quieting(config)
        #: Ledger entries recoveries dropped (the runtime logs each, then clears this).
        self.forgotten: list[QuietEntry] = []
        # Every Incident Manager call is recorded here, at the port, and given to the outcome it was made for.
        self._calls = RecordingIncidentManager(incidents)
        # Within one batch: Incident Manager throttled us (after botocore's retries), so start nothing more.
        self._throttled = False
        self._last_throttled = False
        self._stop_when_throttled = False
        self._lifecycle = Lifecycle(
            self._calls,
            groups,
            flap_window=timedelta(seconds=config.flap_window_seconds),
            check_interval=timedelta(seconds=config.incident_check_seconds),
            clock=clock,
            may_check=budget.check_allowed if budget is not None else lambda: True,
        )

    def handle(self, raw_event: object, event_key: str = "event") -> Outcome:
        """One event; its outcome (RETRY when a later delivery should finish it)."""
        return self.handle_batch([(event_key, raw_event)])[event_key]

    def handle_batch(
        self,
        events: Sequence[tuple[str, object]],
        time_left: TimeLeft | None = None,
        *,
        stop_when_throttled: bool = False,
    ) -> BatchResult:
        """Handles a batch in order, coalescing ALARMs of one group into one update (the API budget in a storm).

        Keys are the caller's (SQS message ids). With `time_left`, no group is started once less than
        STOP_STARTING_SHARE of the time left now remains; with `stop_when_throttled` (the caller can requeue what
        was not started at no cost), none once Incident Manager throttled a call beyond botocore's retries. The
        events not started come back as RETRY with error class NotStarted.
        """
        if time_left is not None:
            time_left = _deadline(time_left, time_left() * STOP_STARTING_SHARE)
        self._throttled = False
        self._stop_when_throttled = stop_when_throttled
        results: dict[str, Outcome] = {}
        pending: dict[str, list[tuple[str, Signal, Firing]]] = {}
        self.quieting.new_batch()

        heard: list[tuple[str, Heartbeat]] = []
        checks: list[str] = []
        for key, raw in events:
            try:
                kept = housekeeping(raw)
            except InvalidEvent as error:
                results[key] = Outcome(OutcomeKind.REJECTED, str(error), error_class=type(error).__name__)
                continue
            if isinstance(kept, ForwarderCheck):
                checks.append(key)
                continue
            if kept is not None:  # a forwarder's heartbeat
                heard.append((key, kept))
                continue
            if _out_of_time(time_left):
                results[key] = _not_started()
                continue
            decided = self._decided(raw)
            if isinstance(decided, Outcome):
                results[key] = decided
                continue
            try:
                # Earlier events of this batch inhibit later ones: sources are recorded as they come.
                self.quieting.observe(decided.signal)
                stopped = self._stopped(decided)
            except TransientApiError as error:  # the state table: the queue redelivers this event
                results[key] = _retry(error)
                continue
            if stopped is not None:
                results[key] = stopped
                continue
            signal, routing = decided.signal, decided.paging
            if _coalescible(signal, routing):
                firing = Firing(signal, routing.decisions[0])
                pending.setdefault(group_key(signal, firing.decision), []).append((key, signal, firing))
                continue
            # Recoveries and multi-route events keep their place in the order: what came before goes first.
            self._flush(pending, results, time_left)
            if _out_of_time(time_left) or self._throttled:
                results[key] = _not_started()
            else:
                results[key] = self._guarded(signal, routing)
                self._throttled = self._stop_when_throttled and self._last_throttled
        self._flush(pending, results, time_left)
        # Heartbeats first, so that a check in the same batch sees them; one check per batch is enough.
        results.update(self._record(heard))
        if checks:
            outcome = _not_started() if _out_of_time(time_left) else self._check_forwarders()
            results.update(dict.fromkeys(checks, outcome))
        return BatchResult({key: results[key] for key, _ in events})

    # ---- deciding ----

    def decide(self, raw: object, *, reevaluating: bool = False) -> Outcome | Routed:
        """`decide` with this bridge's configuration, tag lookup, quiet state and clock: what `invoke --explain`
        shows."""
        return decide(raw, self._config, self._tags, quieting=self.quieting, now=self._clock(),
                      reevaluating=reevaluating)  # fmt: skip

    def _decided(self, raw: object, *, reevaluating: bool = False) -> Outcome | Routed:
        """`decide`, with one bad event kept to itself: whatever it raises becomes its own rejection (a state table
        that cannot be read now, a retry)."""
        try:
            return self.decide(raw, reevaluating=reevaluating)
        except TransientApiError as error:
            return _retry(error)
        except RecursionError as error:
            return Outcome(OutcomeKind.REJECTED, f"event nested too deeply to read: {error}",
                           error_class=InvalidEvent.__name__)  # fmt: skip
        except Exception as error:
            return _unexpected(error, "preparing the event")

    def _stopped(self, decided: Routed) -> Outcome | None:
        """The outcome of an event that goes no further (dropped, or quiet on every route), after noting what the
        quiet ledger must know: a quieted alarm is kept for the scheduled check; a recovery drops it."""
        if decided.recovering:
            forgotten = self.quieting.forget(decided.signal)
            if forgotten is not None:
                self.forgotten.append(forgotten)
            return decided.stopped  # recoveries are never quiet; only a `drop` route stops them
        stopped = decided.stopped
        if stopped is None or stopped.quiet is None:
            return stopped
        if not self.quieting.remember(decided.signal, stopped.quiet) and self.quieting.ledger is not None:
            return stopped._replace(reason=f"{stopped.reason}; NOT kept for re-evaluation: the quiet ledger is full")
        return stopped

    # ---- when the quiet ends ----

    def recheck(self) -> list[tuple[QuietEntry, Outcome]]:
        """The scheduled check: every alarm that fired while quiet is decided again, now. One that is no longer
        quiet goes to the lifecycle (and pages, as incident.io and PagerDuty do after maintenance) and leaves the
        ledger; one still quiet stays; one that no longer routes anywhere (a `drop` route, a configuration change)
        leaves it too; one whose turn failed for now (RETRY) stays for the next check."""
        ledger = self.quieting.ledger
        if ledger is None:
            return []
        self.quieting.new_batch()
        done: list[tuple[QuietEntry, Outcome]] = []
        for entry in ledger.entries():
            decided = self._decided(entry.raw_event, reevaluating=True)
            if isinstance(decided, Outcome):
                result = decided
            elif (stopped := decided.stopped) is not None:
                result = stopped
            else:
                result = self._guarded(decided.signal, decided.paging)
            still_quiet = result.kind is OutcomeKind.IGNORED and result.quiet is not None
            if result.kind is not OutcomeKind.RETRY and not still_quiet:
                # If the table fails now, the entry stays: the next check finds the incident started already (the
                # start's client token is the same), and forgets it then.
                with contextlib.suppress(TransientApiError):
                    ledger.forget(entry.member, entry.state_time)
            done.append((entry, result))
        return done

    # ---- forwarder heartbeats ----

    def _record(self, heard: Sequence[tuple[str, Heartbeat]]) -> dict[str, Outcome]:
        """Keeps each forwarder's latest heartbeat (one write per forwarder per batch); a heartbeat never pages."""
        if not heard:
            return {}
        if self._heartbeats is None:
            reason = "heartbeats are not kept by this bridge (no heartbeat store)"
            return {key: Outcome(OutcomeKind.IGNORED, reason) for key, _ in heard}
        from incident_bridge import heartbeats  # loaded with the first heartbeat (sources/forwarder.py)

        try:
            self._heartbeats.record(heartbeats.latest(heartbeat for _, heartbeat in heard))
        except TransientApiError as error:
            return {key: Outcome(OutcomeKind.RETRY, str(error), error_class=type(error).__name__) for key, _ in heard}
        return {
            key: Outcome(OutcomeKind.RECORDED, f"heartbeat of forwarder {heartbeat.forwarder} recorded")
            for key, heartbeat in heard
        }

    def _check_forwarders(self) -> Outcome:
        """Opens an incident for each forwarder newly silent and resolves it for each heard again, through routing
        (`forwarder-silent`) and the lifecycle like any incident. A forwarder is marked only once its step is done,
        and every step is idempotent, so a redelivered or repeated check changes nothing more."""
        if self._heartbeats is None:
            return Outcome(OutcomeKind.IGNORED, "forwarder check: heartbeats are not kept by this bridge")
        # Imported on the first check: only a bridge with organization intake schedules one (infra/intake.py).
        from incident_bridge import heartbeats
        from incident_bridge.heartbeats import VerdictKind

        now = self._clock()
        expected = [heartbeats.parse_forwarder(entry) for entry in self._config.expected_forwarders]
        steps: list[tuple[str, Step]] = []
        try:
            records = self._heartbeats.load()
            for verdict in heartbeats.check(records, expected, now):
                if verdict.kind is VerdictKind.WATCH:
                    self._heartbeats.watch(verdict.forwarder, verdict.silent_since)
                    continue
                alias = self._config.account_alias(verdict.forwarder.account)
                signal = heartbeats.silent_signal(verdict, alias, now)
                done = True
                for decision in route(signal, self._config).decisions:
                    if signal.status is SignalStatus.RECOVERING:
                        step = self._lifecycle.recover(signal, decision)
                    else:
                        step = self._lifecycle.fire(Firing(signal, decision))
                    steps.append((decision.route_name, step))
                    # Only a step that acted, or found nothing to do, settles the verdict; any other is tried again.
                    done = done and (step.kind in _ACTED or step.kind is OutcomeKind.IGNORED)
                if done:
                    silent_since = verdict.silent_since if verdict.kind is VerdictKind.SILENT else None
                    self._heartbeats.mark_silent(verdict.forwarder, silent_since)
        except TransientApiError as error:
            self._calls.take()
            return Outcome(OutcomeKind.RETRY, f"forwarder check: {error}", error_class=type(error).__name__)
        calls = self._calls.take()
        if not steps:
            watched = len(set(records) | set(expected))
            return Outcome(OutcomeKind.RECORDED, f"forwarder check: {watched} forwarder(s) watched, no change",
                           route_name=FORWARDER_SILENT_ROUTE)  # fmt: skip
        weightiest = max((step for _, step in steps), key=lambda step: _WEIGHT.get(step.kind, 0))
        return Outcome(
            weightiest.kind,
            "; ".join(f"forwarder check: {step.reason} (route {name})" for name, step in steps),
            calls=tuple(calls),
            route_name=",".join(dict.fromkeys(name for name, _ in steps)),
            incident_arn=next((step.incident_arn for _, step in steps if step.incident_arn), None),
            error_class=weightiest.error_class,
            ignore_reason=weightiest.ignore_reason,
        )

    # ---- acting ----

    def _flush(
        self,
        pending: dict[str, list[tuple[str, Signal, Firing]]],
        results: dict[str, Outcome],
        time_left: TimeLeft | None,
    ) -> None:
        # When the budget is short for the batch's groups, every join is committed without a call (the notes of a
        # new group's other alarms too), so that the batch's starts follow one another at the budget's rate.
        defer = self._budget_short(len(pending))
        # Opening before joining: every group of the batch that needs its incident started (or reopened) goes
        # first; groups whose incident is open are joined after, so a page never waits behind related items.
        joining: list[list[tuple[str, Signal, Firing]]] = []
        for entries in pending.values():
            if not self._fire_entries(entries, results, time_left, joins=False, defer=defer):
                joining.append(entries)
        for entries in joining:
            self._fire_entries(entries, results, time_left, joins=True, defer=defer)
        if defer:
            # A batch that opened incidents shows a storm still finding new problems: more may wait deeper in the
            # queue, behind this batch. It sends none of its joins' calls (their carriers do, later), so the poller
            # is back for the next batch at once: opening before joining, across the queue.
            opened = any(
                results[key].kind is OutcomeKind.STARTED for entries in pending.values() for key, _, _ in entries
            )
            self._flush_deferred(list(pending.values()), results, time_left, send=not opened)
        pending.clear()

    def _budget_short(self, groups: int) -> bool:
        if self._budget is None or groups == 0:
            return False
        return self._budget.backlog_seconds() + 2 * groups / self._budget.rate > SHORT_BUDGET_SECONDS

    def _flush_deferred(
        self,
        batch_groups: list[list[tuple[str, Signal, Firing]]],
        results: dict[str, Outcome],
        time_left: TimeLeft | None,
        *,
        send: bool,
    ) -> None:
        """Sends each group's committed items (a related item is what puts an alarm in its incident), and its notes
        once ten alarms wait for one; with `send` off, none, except a carrier's group (it has waited its turn once: a
        stream of new groups never starves a join) and a group whose record nears its caps. A group with
        something left keeps its newest event in the queue as its carrier: back after CARRIER_SECONDS, it makes the
        group send everything (notes included)."""
        # Carriers come back in the order their groups' calls can be made at this container's rate, not all at once.
        queued_calls = 0
        for entries in batch_groups:
            # The carrier is the group's newest event that comes back as a redelivery (which is what makes it seal and
            # send): one that joined, or a redelivery already. Not one that started the incident (a claim finished by
            # its own redelivery goes first whatever its place in the batch), nor one out of order (it would come
            # back out of order again, forever, its group's lines never sealed).
            carrier = next((entry for entry in reversed(entries) if _may_carry(results.get(entry[0]))), None)
            if carrier is None:
                continue
            key, _, firing = carrier
            outcome = results[key]
            group = group_key(firing.signal, firing.decision)
            # A carrier back from the queue (a redelivery) seals the group's waiting lines into notes and sends them.
            carried = any(results[entry].ignore_reason is IgnoreReason.REDELIVERY for entry, _, _ in entries)
            if send or carried or self._lifecycle.crowded(group):
                done = not _out_of_time(time_left) and self._lifecycle.flush(group, seal=carried)
            else:
                done = self._lifecycle.calls_left(group) == 0
            calls = self._calls.take()
            results[key] = outcome._replace(calls=(*outcome.calls, *calls))
            if not done or self._lifecycle.has_unsealed(group):
                queued_calls += self._lifecycle.calls_left(group)
                rate = self._budget.rate if self._budget is not None else 1.0
                results[key] = results[key]._replace(
                    kind=OutcomeKind.RETRY,
                    reason=f"{outcome.reason}; kept in the queue to send its group's committed calls",
                    error_class=TransientApiError.__name__,
                    retry_after_seconds=max(CARRIER_SECONDS, int(queued_calls / rate)),
                )

    def _fire_entries(
        self,
        entries: list[tuple[str, Signal, Firing]],
        results: dict[str, Outcome],
        time_left: TimeLeft | None,
        *,
        joins: bool,
        defer: bool = False,
    ) -> bool:
        """One group's firings; False when `joins` is off and the group's incident is open (nothing was done)."""
        if _out_of_time(time_left) or self._throttled:
            results.update({key: _not_started() for key, _, _ in entries})
            return True
        steps = self._fire_group([firing for _, _, firing in entries], joins=joins, defer=defer)
        if not steps:
            return False
        # Throttled even after botocore's retries: the rest of the batch would only be throttled too, and spend the
        # budget its retries need; it goes back to the queue unstarted.
        self._throttled = self._stop_when_throttled and any(
            step is not None and step.throttled for step in steps.values()
        )
        if len(entries) > 1 and all(step is None or step.kind is OutcomeKind.REJECTED for step in steps.values()):
            # The group failed as a whole: one event may be the cause. One at a time, each touches only itself.
            steps = {}
            for _, _, firing in entries:
                steps.update(self._fire_group([firing]))
        calls = self._calls.take()
        reported: set[str] = set()
        for key, signal, firing in entries:
            step = steps.get(firing.event_id)
            if step is None or firing.event_id in reported:
                # A second copy of an event in one batch: the first one acted for both.
                step = Step(OutcomeKind.IGNORED, f"event {firing.event_id} appears twice in the batch "
                            "(redelivery)", ignore_reason=IgnoreReason.REDELIVERY)  # fmt: skip
            reported.add(firing.event_id)
            # The group's calls go to the first event that did something; the others name it in their reason.
            mine = calls if step.kind in _ACTED else ()
            calls = () if mine else calls
            results[key] = _outcome(signal, [(firing.decision.route_name, step)], mine)
        return True

    def _fire_group(
        self, firings: Sequence[Firing], *, joins: bool = True, defer: bool = False
    ) -> dict[str, Step | None]:
        try:
            return dict(self._lifecycle.fire_many(firings, joins=joins, defer=defer))
        except Exception as error:
            step = _unexpected_step(error)
            return {firing.event_id: step for firing in firings}

    def _one(self, signal: Signal, routing: Routing) -> Outcome:
        steps: list[tuple[str, Step]] = []
        for decision in routing.decisions:
            if signal.status is SignalStatus.RECOVERING:
                step = self._lifecycle.recover(signal, decision)
            else:
                step = self._lifecycle.fire(Firing(signal, decision))
            steps.append((decision.route_name, step))
        self._last_throttled = any(step.throttled for _, step in steps)
        return _outcome(signal, steps, self._calls.take())

    def _guarded(self, signal: Signal, routing: Routing) -> Outcome:
        try:
            return self._one(signal, routing)
        except Exception as error:  # one bad event must not fail the batch
            self._calls.take()
            return _unexpected(error, f"handling {signal.name}")


_ACTED = frozenset({OutcomeKind.STARTED, OutcomeKind.UPDATED, OutcomeKind.RESOLVED})


def _deadline(left: TimeLeft, reserve: float) -> TimeLeft:
    """Seconds left before the reserve below which nothing new is started."""
    return lambda: left() - reserve


def _may_carry(outcome: Outcome | None) -> bool:
    if outcome is None:
        return False
    return outcome.kind is OutcomeKind.UPDATED or (
        outcome.kind is OutcomeKind.IGNORED and outcome.ignore_reason is IgnoreReason.REDELIVERY
    )


def _out_of_time(time_left: TimeLeft | None) -> bool:
    return time_left is not None and time_left() <= 0


def _not_started() -> Outcome:
    return Outcome(
        OutcomeKind.RETRY,
        "not started: the invocation is running out of time (returned for retry)",
        error_class=NotStarted.__name__,
    )


def _retry(error: TransientApiError) -> Outcome:
    return Outcome(OutcomeKind.RETRY, str(error), error_class=type(error).__name__)


def _unexpected_step(error: Exception) -> Step:
    return Step(OutcomeKind.REJECTED, f"unexpected {type(error).__name__}: {error}", error_class=type(error).__name__)


def _unexpected(error: Exception, what: str) -> Outcome:
    return Outcome(
        OutcomeKind.REJECTED, f"unexpected {type(error).__name__} {what}: {error}", error_class=type(error).__name__
    )


class Routed(NamedTuple):
    """An event the lifecycle acts on: the signal, where routing sends it, and on which routes it is quiet."""

    signal: Signal
    routing: Routing
    #: The routes on which the firing signal pages nobody (mute rule, silence, time interval, inhibition), and why.
    quiet: tuple[RouteQuiet, ...] = ()

    @property
    def stopped(self) -> Outcome | None:
        """The outcome of an event that goes no further: dropped by a `drop` route, or quiet on every route it
        takes (ignored, with the reason naming the rule, silence, interval or source alarm)."""
        name = self.signal.name
        if not self.routing.decisions:
            return Outcome(OutcomeKind.IGNORED, f"{name}: dropped by route {self.routing.dropped_by}",
                           alarm_name=name, route_name=self.routing.dropped_by,
                           ignore_reason=IgnoreReason.DROPPED_BY_ROUTE)  # fmt: skip
        if self.paging.decisions:
            return None
        first: Quiet = self.quiet[0].quiet
        return Outcome(
            OutcomeKind.IGNORED,
            "; ".join(f"{name}: {found.quiet.message} (route {found.route_name})" for found in self.quiet),
            alarm_name=name,
            route_name=",".join(found.route_name for found in self.quiet),
            ignore_reason=IgnoreReason(first.reason.value),
            quiet=first,
        )

    @property
    def paging(self) -> Routing:
        """The routing the lifecycle acts on: the decisions of the routes on which the signal is not quiet."""
        if not self.quiet:
            return self.routing
        quiet_routes = {found.route_name for found in self.quiet}
        decisions = tuple(d for d in self.routing.decisions if d.route_name not in quiet_routes)
        return self.routing._replace(decisions=decisions)

    @property
    def recovering(self) -> bool:
        """A recovery notes itself on its group's open incident; everything else fires."""
        return self.signal.status is SignalStatus.RECOVERING


def not_json(error: ValueError) -> Outcome:
    """The outcome of a message whose body is not JSON at all (the runtime's and the CLI's reading alike)."""
    return Outcome(OutcomeKind.REJECTED, f"message body is not JSON: {error}", error_class=InvalidEvent.__name__)


def decide(
    raw: object,
    config: BridgeConfig,
    tags: AlarmTags | None = None,
    *,
    quieting: Quieting | None = None,
    now: datetime | None = None,
    reevaluating: bool = False,
) -> Outcome | Routed:
    """Everything before the lifecycle, for the handler and every CLI command alike: read the payload into a signal
    (sources/ leave out what is not actionable: configuration changes, INSUFFICIENT_DATA, suppressed composites),
    route it. Returns the outcome of an event that stops before routing (ignored or rejected), or where routing
    sends it; a `drop` route's event is `stopped` there too, and so is a firing event quiet on every route it takes
    (`quieting`: without one, the configuration's silences and intervals, and CloudWatch mute rules)."""
    try:
        parsed = parse_event(raw, config.enabled_aws_events)
    except InvalidEvent as error:
        return Outcome(OutcomeKind.REJECTED, str(error), error_class=type(error).__name__)
    if isinstance(parsed, NotActionable):
        return Outcome(OutcomeKind.IGNORED, parsed.reason, alarm_name=parsed.name,
                       ignore_reason=IgnoreReason.NOT_ACTIONABLE)  # fmt: skip
    signal = with_account_alias(parsed, config.accounts)
    if tags is not None and signal.tags_of is not None and not signal.has_tags():
        signal = signal.with_tags(tags.tags_for(signal.tags_of))
    routing = route(signal, config)
    judge = quieting or Quieting(config)
    quiet = judge.judge(signal, routing, now or _utc_now(), reevaluating=reevaluating)
    return Routed(signal, routing, tuple(quiet))


def _coalescible(signal: Signal, routing: Routing) -> bool:
    """Firing signals that take one route can be merged with others of their group."""
    return signal.status is SignalStatus.FIRING and len(routing.decisions) == 1


def _outcome(signal: Signal, steps: Sequence[tuple[str, Step]], calls: Sequence[ApiCall]) -> Outcome:
    name = signal.name
    weightiest = max((step for _, step in steps), key=lambda step: _WEIGHT.get(step.kind, 0))
    return Outcome(
        weightiest.kind,
        # The lifecycle's reason may name the alarm already ("web-1: recovery recorded"): never name it twice.
        "; ".join(f"{_named(name, step.reason)} (route {route_name})" for route_name, step in steps),
        calls=tuple(calls),
        alarm_name=name,
        route_name=",".join(route_name for route_name, _ in steps),
        incident_arn=next((step.incident_arn for _, step in steps if step.incident_arn), None),
        error_class=weightiest.error_class,
        ignore_reason=weightiest.ignore_reason,
    )


def _named(name: str, reason: str) -> str:
    return reason if name in reason else f"{name}: {reason}"
