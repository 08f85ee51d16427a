"""Through the Lambda handler: a silenced alarm arrives from the queue, and the scheduled invocation (the rule's
fixed input) pages it once the silence has ended."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from incident_bridge import handler
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.adapters.memory_quiet import MemoryInhibitionSources, MemoryQuietLedger
from incident_bridge.bridge import Bridge
from incident_bridge.config import parse_config
from incident_bridge.outcome import OutcomeKind
from incident_bridge.quieting import QUIET_CHECK_EVENT, Quieting
from incident_bridge.runtime import MemoryDeadLetters, Runtime
from tests.conftest import PLAN_ARN, load_event
from tests.handler.conftest import lambda_context, sqs_batch, sqs_record

SILENCE_END = datetime(2019, 10, 2, 19, tzinfo=UTC)


def test_the_scheduled_check_pages_a_silenced_alarm_still_firing_when_its_silence_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the function with a silence on ServerCpu* until 19:00, its clock at the alarm's time
    config = parse_config(
        {
            "default": {"response_plan_arn": PLAN_ARN},
            "silences": [{"id": "deploy-web", "match": {"alarm_name": "ServerCpu*"},
                          "starts_at": "2019-10-02T17:00:00Z", "ends_at": SILENCE_END.isoformat(),
                          "created_by": "alice", "comment": "deploy"}],
        },
        origin="test",
    )  # fmt: skip
    now = [datetime(2019, 10, 2, 17, 5, tzinfo=UTC)]
    incidents = DryRunIncidentManager()
    quieting = Quieting(config, sources=MemoryInhibitionSources(), ledger=MemoryQuietLedger())
    bridge = Bridge(config, incidents, MemoryGroupStore(), clock=lambda: now[0], quieting=quieting)
    runtime = Runtime(bridge, MemoryDeadLetters(), emit_metrics=False)
    monkeypatch.setattr(handler, "RUNTIME", runtime)

    # When the documented alarm arrives from the queue during the silence
    event = load_event("eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json")
    response = handler.lambda_handler(sqs_batch(sqs_record(json.dumps(event), "msg-1")), lambda_context())

    # Then it is processed (not retried), ignored as silenced, and nothing is started
    assert response == {"batchItemFailures": []}
    assert runtime.outcomes[-1].kind is OutcomeKind.IGNORED
    assert incidents.incidents == {}

    # When the rule invokes the function a minute before the silence ends, and again when it has ended
    now[0] = SILENCE_END - timedelta(minutes=1)
    during = handler.lambda_handler(dict(QUIET_CHECK_EVENT), lambda_context("check-1"))
    now[0] = SILENCE_END + timedelta(seconds=30)
    after = handler.lambda_handler(dict(QUIET_CHECK_EVENT), lambda_context("check-2"))

    # Then the first check keeps it quiet, the second pages it: one incident, for that alarm
    assert during == {"paged": 0, "quiet": 1, "dropped": 0, "retry": 0}
    assert after == {"paged": 1, "quiet": 0, "dropped": 0, "retry": 0}
    assert len(incidents.incidents) == 1
    paged = runtime.outcomes[-1]
    assert (paged.kind, paged.alarm_name) == (OutcomeKind.STARTED, "ServerCpuTooHigh")
