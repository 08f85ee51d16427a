"""Configuration mistakes and the exact problem each must be reported with (without the file name that
prefixes it), shared by the model tests and the `config check` tests."""

from __future__ import annotations

from typing import Any

PLATFORM_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/platform-oncall"
PAYMENTS_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/payments-oncall"

KNOWN_FIELDS = (
    "account, account_alias, alarm_name, description, detail_type, kind, metric_name, namespace, profile, reason, "
    "region, route, source, state, summary, title, tag_<key>, detail_<key>"
)
# What an unknown key's message lists as known, per object: both spellings of `continue` and `detail-type` are.
CONFIG_KEYS = (
    "accounts, aws_events, default, expected_forwarders, fallback_response_plan_arn, flap_window_seconds, "
    "incident_check_seconds, inhibit_rules, lookup_alarm_tags, routes, silences, sns_topic_arns, time_intervals"
)
ROUTE_KEYS = (
    "active_time_intervals, auto_resolve, continue, continue_, drop, group_by, impact, impact_tag, match, "
    "mute_time_intervals, name, related_url_tags, related_urls, response_plan_arn, title"
)
MATCH_KEYS = (
    "account, account_alias, alarm_name, alarm_name_regex, detail, detail-type, detail_type, dimensions, metric_name, "
    "namespace, region, source, state, tags"
)
# As a message quotes them (repr: backslashes doubled).
SNS_PATTERN = r"'^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?\\Z'"
#: How every message about a response plan ARN ends: the shape it should have, no regular expression.
PLAN_SHAPE = "(expected arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME)"

BAD_CONFIGS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown-route-key", {"routes": [{"name": "a", "plan": PAYMENTS_PLAN}]},
     f"routes.0.plan: unknown key (known: {ROUTE_KEYS})"),
    ("unknown-matcher", {"routes": [{"name": "a", "match": {"alarm": "x"}}]},
     f"routes.0.match.alarm: unknown key (known: {MATCH_KEYS})"),
    ("bad-regex", {"routes": [{"name": "a", "match": {"alarm_name_regex": "(unclosed"}}]},
     "routes.0.match.alarm_name_regex: not a valid regular expression '(unclosed': "
     "missing ), unterminated subpattern at position 0"),
    ("unknown-title-field", {"routes": [{"name": "a", "title": "{alarm_nmae} fired"}]},
     f"routes.0.title: unknown field {{alarm_nmae}} (known: {KNOWN_FIELDS})"),
    ("impact-0", {"routes": [{"name": "a", "impact": 0}]}, "routes.0.impact: must be at least 1, got 0"),
    ("impact-6", {"routes": [{"name": "a", "impact": 6}]}, "routes.0.impact: must be at most 5, got 6"),
    ("ftp-related-url", {"routes": [{"name": "a", "related_urls": [{"title": "t", "url": "ftp://example.com/x"}]}]},
     "routes.0.related_urls.0.url: 'ftp://example.com/x' does not match '^https?://'"),
    ("relative-related-url", {"routes": [{"name": "a", "related_urls": [{"title": "t", "url": "wiki/runbook"}]}]},
     "routes.0.related_urls.0.url: 'wiki/runbook' does not match '^https?://'"),
    ("default-with-match", {"default": {"response_plan_arn": PLATFORM_PLAN, "match": {"alarm_name": "x"}}},
     "default: the default route catches what no other route does: it takes no `match`"),
    ("duplicate-names", {"routes": [{"name": "a"}, {"name": "b"}, {"name": "a"}, {"name": "b"}, {"name": "c"}]},
     "(root): route names must be unique: a, b"),
    ("detail-path-without-dollar", {"routes": [{"name": "a", "match": {"detail": {"severity": "critical"}}}]},
     "routes.0.match.detail: 'severity' is not a path like $.severity or $.service.name"),
    ("sns-topic-arn", {"sns_topic_arns": ["arn:aws:sqs:us-east-1:123456789012:alarms"]},
     f"sns_topic_arns.0: 'arn:aws:sqs:us-east-1:123456789012:alarms' does not match {SNS_PATTERN}"),
    ("routes-not-a-list", {"routes": {"name": "a"}}, "routes: expected a list, got an object"),
    ("unknown-mute-interval", {"time_intervals": [{"name": "nightly", "time_intervals": []}],
                               "routes": [{"name": "a", "mute_time_intervals": ["nigthly"]}]},
     "routes.0.mute_time_intervals.0: unknown time interval 'nigthly' (known: nightly)"),
    ("unknown-active-interval", {"routes": [{"name": "a", "active_time_intervals": ["office"]}]},
     "routes.0.active_time_intervals.0: unknown time interval 'office' (known: none defined under time_intervals)"),
    ("bad-time-zone", {"time_intervals": [{"name": "n", "time_intervals": [{"location": "Europe/Berln"}]}]},
     "time_intervals.0.time_intervals.0.location: unknown time zone 'Europe/Berln' (expected an IANA name such as "
     "Europe/Berlin)"),
    ("bad-weekday", {"time_intervals": [{"name": "n", "time_intervals": [{"weekdays": ["mon"]}]}]},
     "time_intervals.0.time_intervals.0.weekdays.0: 'mon' is not one of sunday, monday, tuesday, wednesday, "
     "thursday, friday, saturday"),
    ("silence-without-matcher", {"silences": [{"id": "s", "starts_at": "2026-12-01T22:00:00Z",
                                               "ends_at": "2026-12-02T00:00:00Z", "created_by": "a", "comment": "c"}]},
     "silences.0.match: a silence needs at least one matcher"),
    ("silence-ends-first", {"silences": [{"id": "s", "match": {"alarm_name": "web-*"},
                                          "starts_at": "2026-12-01T22:00:00Z", "ends_at": "2026-12-01T21:00:00Z",
                                          "created_by": "a", "comment": "c"}]},
     "silences.0: ends_at 2026-12-01T21:00:00+00:00 must come after starts_at"),
    ("silence-naive-time", {"silences": [{"id": "s", "match": {"alarm_name": "web-*"},
                                          "starts_at": "2026-12-01T22:00:00", "ends_at": "2026-12-02T00:00:00Z",
                                          "created_by": "a", "comment": "c"}]},
     "silences.0.starts_at: 2026-12-01T22:00:00 has no UTC offset (write 2026-12-01T22:00:00Z or +01:00)"),
    ("inhibit-unknown-label", {"inhibit_rules": [{"source_matchers": {"alarm_name": "h"},
                                                  "target_matchers": {"alarm_name": "s"}, "equal": ["regoin"]}]},
     "inhibit_rules.0.equal.0: unknown label 'regoin' (known: account, account_alias, alarm_arn, alarm_name, "
     "detail_type, metric_name, namespace, profile, region, source, state, tag:<key>, dimension:<name>, "
     "detail:<path>)"),
    # A label absent on both sides counts as equal (Alertmanager): `detail:$.service`, the matchers' spelling, names
    # no label, so every source would inhibit every target, whatever its service.
    ("inhibit-equal-detail-as-matcher", {"inhibit_rules": [{"source_matchers": {"source": "aws.health"},
                                                           "target_matchers": {"alarm_name": "*"},
                                                           "equal": ["detail:$.service"]}]},
     "inhibit_rules.0.equal.0: 'detail:$.service' spells the path as a matcher does (equal names the label: "
     "'detail:service')"),
    ("inhibit-without-target", {"inhibit_rules": [{"source_matchers": {"alarm_name": "h"}}]},
     "inhibit_rules.0.target_matchers: required (a matcher object, as a route's match)"),
]  # fmt: skip
