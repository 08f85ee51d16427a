"""The configuration's quiet sections (time_intervals, silences, inhibit_rules, route intervals) and muteDetail."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from incident_bridge.config import Match, load_config, parse_config
from incident_bridge.errors import ConfigError
from incident_bridge.quiet.mute import MuteWindow
from incident_bridge.signal import Signal
from incident_bridge.sources import parse_event
from tests.conftest import PLAN_ARN, load_event

QUIET_DOCUMENT: dict[str, Any] = {
    "default": {"response_plan_arn": PLAN_ARN, "mute_time_intervals": ["nightly-backup"]},
    "time_intervals": [
        {"name": "nightly-backup", "time_intervals": [{"times": [{"start_time": "02:00", "end_time": "03:00"}]}]},
        {"name": "office-hours", "time_intervals": [
            {"weekdays": ["monday:friday"], "times": [{"start_time": "09:00", "end_time": "17:00"}],
             "location": "Europe/Berlin"}]},
    ],
    "routes": [{"name": "tickets", "match": {"alarm_name": "low-*"}, "active_time_intervals": ["office-hours"]}],
    "silences": [{"id": "deploy-web", "match": {"alarm_name": "web-*", "tags": {"team": "web"}},
                  "starts_at": "2026-12-01T22:00:00Z", "ends_at": "2026-12-02T00:00:00+00:00",
                  "created_by": "alice", "comment": "deploy"}],
    "inhibit_rules": [{"source_matchers": {"alarm_name": "region-health-*"}, "target_matchers": {"namespace": "AWS/*"},
                       "equal": ["region", "tag:service"]}],
}  # fmt: skip


def test_quiet_sections_are_read_into_the_model() -> None:
    # Given a configuration with every quiet section
    # When it is parsed
    config = parse_config(QUIET_DOCUMENT, origin="test")

    # Then intervals, route interval names, silences and inhibit rules are all there, typed
    assert [interval.name for interval in config.time_intervals] == ["nightly-backup", "office-hours"]
    assert config.default.mute_time_intervals == ("nightly-backup",)
    assert config.routes[0].active_time_intervals == ("office-hours",)
    assert config.routes[0].mute_time_intervals == ()
    silence = config.silences[0]
    assert (silence.id, silence.ends_at) == ("deploy-web", datetime(2026, 12, 2, tzinfo=UTC))
    assert silence.match == Match(alarm_name=("web-*",), tags={"team": ("web",)})
    assert config.inhibit_rules[0].equal == ("region", "tag:service")
    assert config.inhibit_rules[0].source_matchers == Match(alarm_name=("region-health-*",))


def test_quiet_sections_survive_the_assets_json(tmp_path: Path) -> None:
    # Given the configuration written as `cdk synth` ships it
    config = parse_config(QUIET_DOCUMENT, origin="test")
    path = tmp_path / "bridge_config.json"
    path.write_text(json.dumps(config.to_document()), encoding="utf-8")

    # When the Lambda loads it, Then nothing was lost
    assert load_config(path) == config


def test_yaml_timestamps_are_read_as_the_moments_they_name(tmp_path: Path) -> None:
    # Given a YAML silence whose times YAML itself reads as datetimes (unquoted)
    path = tmp_path / "bridge.yaml"
    path.write_text(
        f"default:\n  response_plan_arn: {PLAN_ARN}\nsilences:\n  - id: s1\n    match: {{alarm_name: 'web-*'}}\n"
        "    starts_at: 2026-12-01T23:00:00+01:00\n    ends_at: 2026-12-02T00:00:00Z\n"
        "    created_by: alice\n    comment: deploy\n",
        encoding="utf-8",
    )

    # When loaded, Then the start is 22:00 UTC
    assert load_config(path).silences[0].starts_at == datetime(2026, 12, 1, 22, tzinfo=UTC)


def muted_copy(start: str, end: str) -> dict[str, Any]:
    """The documented single-metric ALARM event, with the muteDetail CloudWatch adds during a mute window."""
    event = copy.deepcopy(load_event("eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"))
    event["detail"]["muteDetail"] = {
        "mutedByArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:nightly",
        "muteWindowStart": start,
        "muteWindowEnd": end,
    }
    return event


def test_mute_detail_becomes_the_alarms_mute_window() -> None:
    # Given an ALARM event sent during a mute window
    event = muted_copy("2019-10-02T17:00:00Z", "2019-10-02T18:00:00.000+0000")

    # When parsed
    alarm = parse_event(event)

    # Then the alarm's signal carries the window and the time the event was sent
    assert isinstance(alarm, Signal)
    assert alarm.mute_window == MuteWindow(
        muted_by_arn="arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:nightly",
        starts_at=datetime(2019, 10, 2, 17, tzinfo=UTC),
        ends_at=datetime(2019, 10, 2, 18, tzinfo=UTC),
    )
    assert alarm.sent_at == datetime(2019, 10, 2, 17, 4, 40, tzinfo=UTC)


def test_an_unreadable_mute_detail_mutes_nothing() -> None:
    # Given a muteDetail whose end is not a timestamp
    event = muted_copy("2019-10-02T17:00:00Z", "soon")

    # When parsed, Then the alarm has no mute window (it will page: the safe side of a doubt)
    alarm = parse_event(event)
    assert isinstance(alarm, Signal)
    assert alarm.mute_window is None


def test_an_event_without_mute_detail_has_no_window() -> None:
    alarm = parse_event(load_event("eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"))
    assert isinstance(alarm, Signal)
    assert alarm.mute_window is None


def test_the_readmes_quiet_hours_example_is_a_valid_configuration() -> None:
    # Given the YAML example of the README's "Quiet hours and maintenance" section
    import yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quiet hours and maintenance", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]

    # When it is read with a default route added
    config = parse_config({"default": {"response_plan_arn": PLAN_ARN}, **yaml.safe_load(example)}, origin="README")

    # Then every quiet section is there as the text describes it
    assert [interval.name for interval in config.time_intervals] == ["weekend", "office-hours", "month-end-batch"]
    assert config.routes[0].active_time_intervals == ("office-hours",)
    assert config.routes[1].mute_time_intervals == ("weekend", "month-end-batch")
    assert config.silences[0].id == "db-upgrade-2026-12"
    assert config.inhibit_rules[0].equal == ("region",)


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("silences", "silences.0.reason: unknown key (known: comment, created_by, ends_at, id, match, starts_at)"),
        ("inhibit_rules", "inhibit_rules.0.reason: unknown key (known: equal, source_matchers, target_matchers)"),
    ],
)
def test_an_unknown_key_of_a_silence_or_an_inhibit_rule_is_refused_with_the_models_fields(
    section: str, problem: str
) -> None:
    # Given the quiet configuration whose first silence (or inhibit rule) carries a key its model does not declare
    document = copy.deepcopy(QUIET_DOCUMENT)
    document[section][0]["reason"] = "maintenance"

    # When it is parsed
    with pytest.raises(ConfigError) as raised:
        parse_config(document, origin="test")

    # Then the key is refused, and the keys it may have are the model's fields (Silence, InhibitRule)
    assert str(raised.value) == f"test: {problem}"
