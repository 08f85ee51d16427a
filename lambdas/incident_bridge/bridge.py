"""One event in, one outcome out: parse -> route -> quiet? -> lifecycle. The handler and the CLI both call this."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from incident_bridge.config import BridgeConfig
from incident_bridge.errors import InvalidEvent, PermanentApiError, TransientApiError
from incident_bridge.lifecycle import Firing, Lifecycle, Step, group_key
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.ports import AlarmTags, GroupStore, IncidentManager
from incident_bridge.quiet.ports import QuietEntry
from incident_bridge.quieting import Quieting, RouteQuiet
from incident_bridge.routing import Routing, route
from incident_bridge.signal import NotActionable, Signal, SignalStatus
from incident_bridge.sources import parse_event

# When one event opens several incidents (routes with `continue`), the outcome reports the weightiest step.
_WEIGHT = {OutcomeKind.STARTED: 4, OutcomeKind.RESOLVED: 3, OutcomeKind.UPDATED: 2, OutcomeKind.IGNORED: 1}


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
        quieting: Quieting | None = None,
    ) -> None:
        self._config = config
        self._tags = tags if config.lookup_alarm_tags else None
        self._clock = clock
        #: Without ports, only what the configuration says (static silences, intervals) and mute rules apply.
        self.quieting = quieting or Quieting(config)
        #: Ledger entries recoveries dropped (the runtime logs each, then clears this).
        self.forgotten: list[QuietEntry] = []
        self._lifecycle = Lifecycle(
            incidents,
            groups,
            flap_window=timedelta(seconds=config.flap_window_seconds),
            check_interval=timedelta(seconds=config.incident_check_seconds),
            clock=clock,
        )

    def handle(self, raw_event: object, event_key: str = "event") -> Outcome:
        """Rejections (bad input, permanent API refusals) come back as outcomes; transient errors raise."""
        outcome = self.handle_batch([(event_key, raw_event)])[event_key]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def handle_batch(self, events: Sequence[tuple[str, object]]) -> dict[str, Outcome | TransientApiError]:
        """Handles a batch in order, coalescing ALARMs of one group into one update (the API budget in a storm).

        Keys are the caller's (SQS message ids); a key maps to its outcome, or to the transient error that should
        make the queue redeliver it.
        """
        results: dict[str, Outcome | TransientApiError] = {}
        pending: dict[str, list[tuple[str, Signal, Firing]]] = {}
        self.quieting.new_batch()
        for key, raw in events:
            try:
                decided = self.decide(raw)
                if isinstance(decided, Outcome):
                    results[key] = decided
                    continue
                # Earlier events of this batch inhibit later ones: sources are recorded as they come.
                self.quieting.observe(decided.signal)
                stopped = self._stopped(decided)
            except TransientApiError as error:  # the state table: the queue redelivers this event
                results[key] = error
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
            self._flush(pending, results)
            results[key] = self._guarded(signal, routing)
        self._flush(pending, results)
        return results

    # ---- deciding ----

    def decide(self, raw: object, *, reevaluating: bool = False) -> Outcome | Routed:
        """`decide` with this bridge's configuration, tag lookup, quiet state and clock: what `invoke --explain`
        shows."""
        return decide(raw, self._config, self._tags, quieting=self.quieting, now=self._clock(),
                      reevaluating=reevaluating)  # fmt: skip

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
            return replace(stopped, reason=f"{stopped.reason}; NOT kept for re-evaluation: the quiet ledger is full")
        return stopped

    # ---- when the quiet ends ----

    def recheck(self) -> list[tuple[QuietEntry, Outcome | TransientApiError]]:
        """The scheduled check: every alarm that fired while quiet is decided again, now. One that is no longer
        quiet goes to the lifecycle (and pages, as incident.io and PagerDuty do after maintenance) and leaves the
        ledger; one still quiet stays; one that no longer routes anywhere (a `drop` route, a configuration
        change) leaves it too. Returns what became of each entry."""
        ledger = self.quieting.ledger
        if ledger is None:
            return []
        self.quieting.new_batch()
        done: list[tuple[QuietEntry, Outcome | TransientApiError]] = []
        for entry in ledger.entries():
            try:
                decided = self.decide(entry.raw_event, reevaluating=True)
                if isinstance(decided, Outcome):
                    result: Outcome | TransientApiError = decided
                elif (stopped := decided.stopped) is not None:
                    result = stopped
                    if stopped.quiet is not None:
                        done.append((entry, stopped))
                        continue  # still quiet: it stays in the ledger
                else:
                    result = self._guarded(decided.signal, decided.paging)
                if isinstance(result, TransientApiError):
                    done.append((entry, result))
                    continue
                ledger.forget(entry.member, entry.state_time)
            except TransientApiError as error:
                result = error
            done.append((entry, result))
        return done

    # ---- acting ----

    def _flush(
        self, pending: dict[str, list[tuple[str, Signal, Firing]]], results: dict[str, Outcome | TransientApiError]
    ) -> None:
        for entries in pending.values():
            signals = {key: signal for key, signal, _ in entries}
            try:
                steps = self._lifecycle.fire_many([firing for _, _, firing in entries])
            except (PermanentApiError, TransientApiError) as error:
                for key, signal in signals.items():
                    results[key] = self._failure(signal, error)
                continue
            for (key, signal, firing), step in zip(entries, steps, strict=True):
                results[key] = _outcome(signal, [(firing.decision.route_name, step)])
        pending.clear()

    def _one(self, signal: Signal, routing: Routing) -> Outcome:
        steps: list[tuple[str, Step]] = []
        for decision in routing.decisions:
            if signal.status is SignalStatus.RECOVERING:
                step = self._lifecycle.recover(signal, decision)
            else:
                step = self._lifecycle.fire(Firing(signal, decision))
            steps.append((decision.route_name, step))
        return _outcome(signal, steps)

    def _guarded(self, signal: Signal, routing: Routing) -> Outcome | TransientApiError:
        try:
            return self._one(signal, routing)
        except (PermanentApiError, TransientApiError) as error:
            return self._failure(signal, error)

    @staticmethod
    def _failure(signal: Signal, error: PermanentApiError | TransientApiError) -> Outcome | TransientApiError:
        if isinstance(error, TransientApiError):
            return error
        return Outcome(
            OutcomeKind.REJECTED,
            f"Incident Manager refused a request for {signal.name}: {error}",
            alarm_name=signal.name,
            error_class=type(error).__name__,
        )


@dataclass(frozen=True)
class Routed:
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
                           alarm_name=name, route_name=self.routing.dropped_by)  # fmt: skip
        if self.paging.decisions:
            return None
        return Outcome(
            OutcomeKind.IGNORED,
            "; ".join(f"{name}: {found.quiet.message} (route {found.route_name})" for found in self.quiet),
            alarm_name=name,
            route_name=",".join(found.route_name for found in self.quiet),
            quiet=self.quiet[0].quiet,
        )

    @property
    def paging(self) -> Routing:
        """The routing the lifecycle acts on: the decisions of the routes on which the signal is not quiet."""
        if not self.quiet:
            return self.routing
        quiet_routes = {found.route_name for found in self.quiet}
        decisions = tuple(d for d in self.routing.decisions if d.route_name not in quiet_routes)
        return replace(self.routing, decisions=decisions)

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
        parsed = parse_event(raw)
    except InvalidEvent as error:
        return Outcome(OutcomeKind.REJECTED, str(error), error_class=type(error).__name__)
    if isinstance(parsed, NotActionable):
        return Outcome(OutcomeKind.IGNORED, parsed.reason, alarm_name=parsed.name)
    signal = parsed
    if tags is not None and signal.tags_of is not None and not signal.has_tags():
        signal = signal.with_tags(tags.tags_for(signal.tags_of))
    routing = route(signal, config.route_table)
    judge = quieting or Quieting(config)
    quiet = judge.judge(signal, routing, now or _utc_now(), reevaluating=reevaluating)
    return Routed(signal, routing, tuple(quiet))


def _coalescible(signal: Signal, routing: Routing) -> bool:
    """Firing signals that take one route can be merged with others of their group."""
    return signal.status is SignalStatus.FIRING and len(routing.decisions) == 1


def _outcome(signal: Signal, steps: Sequence[tuple[str, Step]]) -> Outcome:
    name = signal.name
    weightiest = max((step for _, step in steps), key=lambda step: _WEIGHT.get(step.kind, 0))
    return Outcome(
        weightiest.kind,
        # The lifecycle's reason may name the alarm already ("web-1: recovery recorded"): never name it twice.
        "; ".join(f"{_named(name, step.reason)} (route {route_name})" for route_name, step in steps),
        calls=tuple(call for _, step in steps for call in step.calls),
        alarm_name=name,
        route_name=",".join(route_name for route_name, _ in steps),
        incident_arn=next((step.incident_arn for _, step in steps if step.incident_arn), None),
    )


def _named(name: str, reason: str) -> str:
    return reason if name in reason else f"{name}: {reason}"
