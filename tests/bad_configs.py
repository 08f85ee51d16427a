"""Configuration mistakes and the exact problem each must be reported with (without the file name that
prefixes it), shared by the model tests and the `config check` tests."""

from __future__ import annotations

from typing import Any

PLATFORM_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/platform-oncall"
PAYMENTS_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/payments-oncall"

KNOWN_FIELDS = (
    "account, account_alias, alarm_name, description, detail_type, kind, metric_name, namespace, reason, region, "
    "route, source, state, summary, title, tag_<key>, detail_<key>"
)
# What an unknown key's message lists as known, per object: both spellings of `continue` and `detail-type` are.
CONFIG_KEYS = (
    "accounts, aws_events, default, expected_forwarders, fallback_response_plan_arn, flap_window_seconds, "
    "incident_check_seconds, lookup_alarm_tags, routes, sns_topic_arns"
)
ROUTE_KEYS = (
    "auto_resolve, continue, continue_, drop, group_by, impact, impact_tag, match, name, related_url_tags, "
    "related_urls, response_plan_arn, title"
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
]  # fmt: skip
