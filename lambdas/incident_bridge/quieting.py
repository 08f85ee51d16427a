"""The quiet step of the decision path, between routing and the lifecycle: is this firing signal quiet, and why?

It asks, in order, the questions of `incident_bridge.quiet` (mute rule, silence, the route's time intervals,
inhibition) with what the configuration says and what the ports know now (live silences, firing inhibition
sources), and keeps what it learns from every signal: inhibition sources firing and recovering, and the ledger of
alarms that fired while quiet, which the scheduled check re-evaluates (`Bridge.recheck`). No I/O of its own: the
ports do it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple

from incident_bridge.config import BridgeConfig, Match
from incident_bridge.quiet import Quiet, QuietRules
from incident_bridge.quiet.ports import InhibitionSources, QuietEntry, QuietLedger, SilenceSource
from incident_bridge.quiet.silences import Silence
from incident_bridge.routing import Matcher, Routing, compile_match, evaluate
from incident_bridge.signal import Signal, SignalStatus

#: What the scheduled rule sends the function every minute (infra/quiet_check.py): run the quiet check.
QUIET_CHECK_EVENT = {"incident-bridge": "quiet-check"}
#: Compiled matchers kept per Match object; live silences bring new ones each batch, so the cache is bounded.
_MAX_COMPILED = 2000


class RouteQuiet(NamedTuple):
    """A route on which a firing signal pages nobody, and why."""

    route_name: str
    quiet: Quiet


class Quieting:
    def __init__(
        self,
        config: BridgeConfig,
        *,
        silences: SilenceSource | None = None,
        sources: InhibitionSources | None = None,
        ledger: QuietLedger | None = None,
    ) -> None:
        self._rules = QuietRules.of(config.time_intervals, config.silences, config.inhibit_rules)
        self._silences = silences
        self._sources = sources
        self.ledger = ledger
        self._live: tuple[Silence, ...] | None = None
        self._compiled: dict[int, tuple[Match, tuple[Matcher, ...]]] = {}

    def new_batch(self) -> None:
        """Live silences are read once per batch (one GetItem), not once per event."""
        self._live = None

    def judge(self, signal: Signal, routing: Routing, now: datetime, *, reevaluating: bool = False) -> list[RouteQuiet]:
        """The routes on which the firing `signal` is quiet now. A recovery is never quiet: it always applies.

        A mute window is judged at the event's send time; when the ledger re-evaluates an alarm, at `now` (the
        window may have ended since)."""
        if signal.status is not SignalStatus.FIRING or not routing.decisions:
            return []
        matches = self._matches(signal)
        sent_at = now if reevaluating else (signal.sent_at or signal.state_time)
        quiet = self._rules.signal_quiet(now=now, event_time=sent_at, mute_window=signal.mute_window,
                                         live_silences=self._live_silences(), matches=matches)  # fmt: skip
        found = []
        for decision in routing.decisions:
            answer = (
                quiet
                or self._rules.route_quiet(decision.mute_time_intervals, decision.active_time_intervals, now)
                or self._inhibited(signal, matches)
            )
            if answer is not None:
                found.append(RouteQuiet(decision.route_name, answer))
        return found

    def observe(self, signal: Signal) -> None:
        """Remembers the signal as an inhibition source (firing or recovered) under every rule it is a source of."""
        if self._sources is None or not self._rules.inhibit_rules:
            return
        # Imported here, not at init: only a configuration with inhibit_rules gets this far (`make bench`).
        from incident_bridge.quiet.inhibition import FiringSource, source_keys

        firing = signal.status is SignalStatus.FIRING
        for key, also_target in source_keys(self._rules.inhibit_rules, signal.labels, self._matches(signal)):
            source = FiringSource(member=signal.member, name=signal.name, since=signal.state_time,
                                  also_target=also_target)  # fmt: skip
            self._sources.record(key, source, firing=firing)

    def remember(self, signal: Signal, quiet: Quiet) -> bool:
        """Keeps a quieted firing signal for the scheduled check; False when there is no ledger or it is full."""
        if self.ledger is None:
            return False
        entry = QuietEntry(member=signal.member, name=signal.name, state_time=signal.state_time, reason=quiet.reason,
                           applied=quiet.applied, raw_event=dict(signal.raw_event))  # fmt: skip
        return self.ledger.remember(entry)

    def forget(self, signal: Signal) -> QuietEntry | None:
        """A recovery drops its alarm from the ledger (if it fired at or before it)."""
        if self.ledger is None:
            return None
        return self.ledger.forget(signal.member, signal.state_time)

    # ---- helpers ----

    def _inhibited(self, signal: Signal, matches: Callable[[Match], bool]) -> Quiet | None:
        if self._sources is None or not self._rules.inhibit_rules:
            return None
        return self._rules.inhibited(signal.labels, signal.member, matches, self._sources.firing)

    def _live_silences(self) -> tuple[Silence, ...]:
        if self._silences is None:
            return ()
        if self._live is None:
            self._live = self._silences.live()
        return self._live

    def _matches(self, signal: Signal) -> Callable[[Match], bool]:
        labels: Mapping[str, tuple[str, ...]] = signal.labels

        def matches(match: Match) -> bool:
            return evaluate(self._compile(match), labels)[0]

        return matches

    def _compile(self, match: Match) -> tuple[Matcher, ...]:
        cached = self._compiled.get(id(match))
        if cached is not None and cached[0] is match:
            return cached[1]
        if len(self._compiled) >= _MAX_COMPILED:
            self._compiled.clear()
        compiled = compile_match(match)
        self._compiled[id(match)] = (match, compiled)
        return compiled
