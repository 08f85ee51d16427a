"""One event in, one outcome out: parse -> route -> lifecycle. The handler and the CLI both call this."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from incident_bridge import heartbeats
from incident_bridge.config import BridgeConfig
from incident_bridge.errors import InvalidEvent, PermanentApiError, TransientApiError
from incident_bridge.heartbeats import FORWARDER_SILENT_ROUTE, Heartbeat, VerdictKind
from incident_bridge.lifecycle import Firing, Lifecycle, Step, group_key
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.ports import AlarmTags, GroupStore, HeartbeatStore, IncidentManager
from incident_bridge.routing import Routing, route, with_account_alias
from incident_bridge.signal import NotActionable, Signal, SignalStatus
from incident_bridge.sources import housekeeping, parse_event

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
        heartbeats: HeartbeatStore | None = None,
    ) -> None:
        self._config = config
        self._tags = tags if config.lookup_alarm_tags else None
        self._heartbeats = heartbeats
        self._clock = clock
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
        heard: list[tuple[str, Heartbeat]] = []
        checks: list[str] = []
        for key, raw in events:
            try:
                kept = housekeeping(raw)
            except InvalidEvent as error:
                results[key] = Outcome(OutcomeKind.REJECTED, str(error), error_class=type(error).__name__)
                continue
            if kept is not None:
                if isinstance(kept, Heartbeat):
                    heard.append((key, kept))
                else:
                    checks.append(key)
                continue
            decided = self.decide(raw)
            if isinstance(decided, Outcome):
                results[key] = decided
                continue
            if decided.stopped is not None:
                results[key] = decided.stopped
                continue
            signal, routing = decided.signal, decided.routing
            if _coalescible(signal, routing):
                firing = Firing(signal, routing.decisions[0])
                pending.setdefault(group_key(signal, firing.decision), []).append((key, signal, firing))
                continue
            # Recoveries and multi-route events keep their place in the order: what came before goes first.
            self._flush(pending, results)
            results[key] = self._guarded(signal, routing)
        self._flush(pending, results)
        # Heartbeats first, so that a check in the same batch sees them; one check per batch is enough.
        results.update(self._record(heard))
        if checks:
            outcome = self._check_forwarders()
            results.update(dict.fromkeys(checks, outcome))
        return results

    # ---- deciding ----

    def decide(self, raw: object) -> Outcome | Routed:
        """`decide` with this bridge's configuration and tag lookup: what `invoke --explain` shows."""
        return decide(raw, self._config, self._tags)

    # ---- forwarder heartbeats ----

    def _record(self, heard: Sequence[tuple[str, Heartbeat]]) -> dict[str, Outcome | TransientApiError]:
        """Keeps each forwarder's latest heartbeat (one write per forwarder per batch); a heartbeat never pages."""
        if not heard:
            return {}
        if self._heartbeats is None:
            reason = "heartbeats are not kept by this bridge (no heartbeat store)"
            return {key: Outcome(OutcomeKind.IGNORED, reason) for key, _ in heard}
        try:
            self._heartbeats.record(heartbeats.latest(heartbeat for _, heartbeat in heard))
        except TransientApiError as error:
            return {key: error for key, _ in heard}
        return {
            key: Outcome(OutcomeKind.RECORDED, f"heartbeat of forwarder {heartbeat.forwarder} recorded")
            for key, heartbeat in heard
        }

    def _check_forwarders(self) -> Outcome | TransientApiError:
        """Opens an incident for each forwarder newly silent and resolves it for each heard again, through routing
        (`forwarder-silent`) and the lifecycle like any incident. Every step is idempotent, so a redelivered or
        repeated check changes nothing more."""
        if self._heartbeats is None:
            return Outcome(OutcomeKind.IGNORED, "forwarder check: heartbeats are not kept by this bridge")
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
                for decision in route(signal, self._config.route_table).decisions:
                    if signal.status is SignalStatus.RECOVERING:
                        step = self._lifecycle.recover(signal, decision)
                    else:
                        step = self._lifecycle.fire(Firing(signal, decision))
                    steps.append((decision.route_name, step))
                silent_since = verdict.silent_since if verdict.kind is VerdictKind.SILENT else None
                self._heartbeats.mark_silent(verdict.forwarder, silent_since)
        except TransientApiError as error:
            return error  # the check message is redelivered
        except PermanentApiError as error:
            return Outcome(OutcomeKind.REJECTED, f"forwarder check: Incident Manager refused a request: {error}",
                           route_name=FORWARDER_SILENT_ROUTE, error_class=type(error).__name__)  # fmt: skip
        if not steps:
            watched = len(set(records) | set(expected))
            return Outcome(OutcomeKind.IGNORED, f"forwarder check: {watched} forwarder(s) watched, no change",
                           route_name=FORWARDER_SILENT_ROUTE)  # fmt: skip
        weightiest = max((step for _, step in steps), key=lambda step: _WEIGHT.get(step.kind, 0))
        return Outcome(
            weightiest.kind,
            "; ".join(f"forwarder check: {step.reason} (route {name})" for name, step in steps),
            calls=tuple(call for _, step in steps for call in step.calls),
            route_name=",".join(dict.fromkeys(name for name, _ in steps)),
            incident_arn=next((step.incident_arn for _, step in steps if step.incident_arn), None),
        )

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
    """An event the lifecycle acts on: the signal, and where routing sends it."""

    signal: Signal
    routing: Routing

    @property
    def stopped(self) -> Outcome | None:
        """The outcome of an event a `drop` route stopped before any route decided: ignored, naming the route."""
        if self.routing.decisions:
            return None
        name = self.signal.name
        return Outcome(OutcomeKind.IGNORED, f"{name}: dropped by route {self.routing.dropped_by}",
                       alarm_name=name, route_name=self.routing.dropped_by)  # fmt: skip

    @property
    def recovering(self) -> bool:
        """A recovery notes itself on its group's open incident; everything else fires."""
        return self.signal.status is SignalStatus.RECOVERING


def not_json(error: ValueError) -> Outcome:
    """The outcome of a message whose body is not JSON at all (the runtime's and the CLI's reading alike)."""
    return Outcome(OutcomeKind.REJECTED, f"message body is not JSON: {error}", error_class=InvalidEvent.__name__)


def decide(raw: object, config: BridgeConfig, tags: AlarmTags | None = None) -> Outcome | Routed:
    """Everything before the lifecycle, for the handler and every CLI command alike: read the payload into a signal
    (sources/ leave out what is not actionable: configuration changes, INSUFFICIENT_DATA, suppressed composites),
    route it. Returns the outcome of an event that stops before routing (ignored or rejected), or where routing
    sends it; a `drop` route's event is `stopped` there too."""
    try:
        parsed = parse_event(raw)
    except InvalidEvent as error:
        return Outcome(OutcomeKind.REJECTED, str(error), error_class=type(error).__name__)
    if isinstance(parsed, NotActionable):
        return Outcome(OutcomeKind.IGNORED, parsed.reason, alarm_name=parsed.name)
    signal = with_account_alias(parsed, config.accounts)
    if tags is not None and signal.tags_of is not None and not signal.has_tags():
        signal = signal.with_tags(tags.tags_for(signal.tags_of))
    return Routed(signal, route(signal, config.route_table))


def _coalescible(signal: Signal, routing: Routing) -> bool:
    """Firing signals that take one route can be merged with others of their group."""
    return signal.status is SignalStatus.FIRING and len(routing.decisions) == 1


def _outcome(signal: Signal, steps: Sequence[tuple[str, Step]]) -> Outcome:
    name = signal.name
    weightiest = max((step for _, step in steps), key=lambda step: _WEIGHT.get(step.kind, 0))
    return Outcome(
        weightiest.kind,
        "; ".join(f"{name}: {step.reason} (route {route_name})" for route_name, step in steps),
        calls=tuple(call for _, step in steps for call in step.calls),
        alarm_name=name,
        route_name=",".join(route_name for route_name, _ in steps),
        incident_arn=next((step.incident_arn for _, step in steps if step.incident_arn), None),
    )
