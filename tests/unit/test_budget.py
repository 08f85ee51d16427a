"""The request budget (budget.py): a container's fixed share of Incident Manager's rate, taken before each attempt."""

from __future__ import annotations

import pytest

from incident_bridge.budget import CHECK_SHARE, RequestBudget
from incident_bridge.settings import Settings


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_requests_are_spaced_at_the_share_without_bursting() -> None:
    # Given a budget of 2 requests per second on a fake clock
    clock = FakeTime()
    budget = RequestBudget(2.0, clock=lambda: clock.now, sleep=clock.sleep)

    # When four requests are sent back to back
    waits = [budget.take() for _ in range(4)]

    # Then the first goes at once and each next one waits half a second
    assert waits == [0.0, 0.5, 0.5, 0.5]
    assert clock.now == pytest.approx(1.5)
    assert budget.waits == 3
    assert budget.waited_seconds == pytest.approx(1.5)


def test_an_idle_budget_refills_to_its_burst_only() -> None:
    # Given a budget of 1 request per second with a burst of 2, idle for a minute
    clock = FakeTime()
    budget = RequestBudget(1.0, burst=2.0, clock=lambda: clock.now, sleep=clock.sleep)
    budget.take()
    clock.now += 60

    # When three requests are sent
    waits = [budget.take() for _ in range(3)]

    # Then two go at once (the burst), the third waits a second: idling does not bank more
    assert waits == [0.0, 0.0, 1.0]


def test_the_backlog_says_how_long_the_next_request_would_wait() -> None:
    # Given a budget of 4 requests per second that has just been used
    clock = FakeTime()
    budget = RequestBudget(4.0, clock=lambda: clock.now, sleep=clock.sleep)
    budget.take()

    # When we ask now and after a tenth of a second
    at_once = budget.backlog_seconds()
    clock.now += 0.1
    later = budget.backlog_seconds()

    # Then the wait shrinks as the bucket fills
    assert at_once == pytest.approx(0.25)
    assert later == pytest.approx(0.15)


def test_botocores_before_send_hook_takes_a_token_and_lets_the_request_go() -> None:
    # Given a budget of 1 request per second
    clock = FakeTime()
    budget = RequestBudget(1.0, clock=lambda: clock.now, sleep=clock.sleep)

    # When botocore emits before-send twice (an attempt and its retry; a handler returning None lets each go)
    budget.before_send(request=object())
    budget.before_send(request=object())

    # Then the retry waited for its token
    assert clock.slept == [1.0]


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.5)])
def test_a_budget_that_could_never_send_is_refused(rate: float, burst: float) -> None:
    # Given a rate that is not positive or a burst below one request
    # When the budget is made
    # Then it is refused at once, not at the first request
    with pytest.raises(ValueError, match="positive rate"):
        RequestBudget(rate, burst=burst)


def test_the_environment_gives_the_containers_share() -> None:
    # Given the stack's variable for the share
    # When the settings are read
    settings = Settings.from_environment({"REQUEST_BUDGET_PER_SECOND": "2.5"})

    # Then the share is read as a rate
    assert settings.request_budget_per_second == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "fast", "nan", "inf"])
def test_a_share_that_is_not_a_positive_rate_is_a_clear_error(value: str) -> None:
    # Given a share that is not a positive, finite rate
    # When the settings are read
    # Then the error names the variable and what it expects
    with pytest.raises(Exception, match=r"REQUEST_BUDGET_PER_SECOND.*positive number of requests per second"):
        Settings.from_environment({"REQUEST_BUDGET_PER_SECOND": value})


def test_status_checks_get_a_tenth_of_the_budget_and_never_wait() -> None:
    # Given a budget of 2 requests per second on a fake clock
    clock = FakeTime()
    budget = RequestBudget(2.0, clock=lambda: clock.now, sleep=clock.sleep)

    # When checks are asked for at once, then again once their share has refilled
    at_once = [budget.check_allowed() for _ in range(3)]
    clock.now += 1 / (2.0 * CHECK_SHARE)
    refilled = budget.check_allowed()

    # Then one fits at once, the next only after 1 / (rate x CHECK_SHARE) seconds, and nobody waited
    assert CHECK_SHARE == 0.1
    assert at_once == [True, False, False]
    assert refilled is True
    assert clock.slept == []
