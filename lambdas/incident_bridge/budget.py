"""The request budget: this container's share of Incident Manager's request rate, spent before every attempt.

Incident Manager throttles an account's requests (HTTP 429). botocore's adaptive retry mode reacts to throttling
after it happened, per client, and each Lambda container has its own client: two pollers each learn the limit by
being refused, and keep probing it. The budget acts before: every attempt (a botocore retry included) first takes a
token from a bucket filled at this container's share of the rate, so the containers together stay under the limit
and none of them spends its time being throttled.

How the share maps onto real containers: the event source mapping runs at most `maximum concurrency` invocations at
once (infra/bridge_function.py, MAX_CONCURRENCY), one per container, so each container gets a fixed share of
`rate / MAX_CONCURRENCY`. The stack computes it (`request_budget_share`) from the rate it is given and passes it as
REQUEST_BUDGET_PER_SECOND; nothing is shared at run time, so the budget costs no coordination. A direct alarm
action invocation running beside the pollers (reserved concurrency leaves room for one) can push past the rate for
a moment; adaptive retries stay on for that. Incident Manager's request-rate quotas are not published: the rate is a
setting, and `make storm` shows the effect of each (README, Alarm storms).

The bucket holds at most `burst` tokens (one by default: requests are spaced evenly, so a share never bursts into
the other containers' part of the rate). `backlog_seconds` tells the lifecycle when the budget is short, and
`check_allowed` whether a status check fits the share of the budget checks get while joins are deferred.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: While joins are deferred (a storm), status checks (GetIncidentRecord, one per group per interval) may take at
#: most this share of the budget; past it the lifecycle trusts the OPEN status it saw last.
CHECK_SHARE = 0.1


@dataclass
class RequestBudget:
    """A token bucket, filled at `rate` tokens per second up to `burst`; `take` waits for a token."""

    rate: float
    burst: float = 1.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    #: Requests that had to wait for a token, and how long they waited in all (for logs and the simulation).
    waits: int = 0
    waited_seconds: float = 0.0
    _tokens: float = field(default=-1.0, repr=False)
    _filled_at: float | None = field(default=None, repr=False)
    #: The checks' own allowance: CHECK_SHARE of `rate`, at most one at a time (`check_allowed`).
    _check_tokens: float = field(default=1.0, repr=False)
    _checks_filled_at: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"a request budget needs a positive rate and a burst of at least 1 (got {self})")
        self._tokens = self.burst

    def take(self) -> float:
        """Takes one token, waiting until there is one. Returns the seconds waited."""
        self._fill()
        short = 1.0 - self._tokens
        self._tokens -= 1.0  # reserved now: a later caller queues behind this one
        if short <= 0:
            return 0.0
        wait = short / self.rate
        self.waits += 1
        self.waited_seconds += wait
        self.sleep(wait)
        return wait

    def backlog_seconds(self) -> float:
        """How long a request made now would wait for its token (0 when one is ready)."""
        self._fill()
        return max(0.0, (1.0 - self._tokens) / self.rate)

    def check_allowed(self) -> bool:
        """Whether a status check fits CHECK_SHARE of the rate now; if so it is counted (it still takes its token
        from the budget when sent). Never waits."""
        now = self.clock()
        if self._checks_filled_at is not None:
            elapsed = now - self._checks_filled_at
            self._check_tokens = min(1.0, self._check_tokens + elapsed * self.rate * CHECK_SHARE)
        self._checks_filled_at = now
        if self._check_tokens < 1.0:
            return False
        self._check_tokens -= 1.0
        return True

    def before_send(self, **_: object) -> None:
        """botocore's `before-send` event handler: every attempt, retries included, takes a token first. Returns
        None, so botocore sends the request."""
        self.take()

    def _fill(self) -> None:
        now = self.clock()
        if self._filled_at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._filled_at) * self.rate)
        self._filled_at = now
