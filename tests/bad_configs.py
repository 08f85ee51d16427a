"""Configuration mistakes and the exact problem each must be reported with (without the file name that
prefixes it), shared by the model tests and the `config check` tests."""

from __future__ import annotations

from typing import Any

PLATFORM_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/platform-oncall"
PAYMENTS_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/payments-oncall"

KNOWN_FIELDS = (
    "account, alarm_name, description, detail_type, kind, metric_name, namespace, reason, region, route, source, "
    "state, summary, title, tag_<key>, detail_<key>"
)
SNS_PATTERN = r"^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"

BAD_CONFIGS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown-route-key", {"routes": [{"name": "a", "plan": PAYMENTS_PLAN}]},
     "routes.0.plan: Extra inputs are not permitted"),
    ("unknown-matcher", {"routes": [{"name": "a", "match": {"alarm": "x"}}]},
     "routes.0.match.alarm: Extra inputs are not permitted"),
    ("bad-regex", {"routes": [{"name": "a", "match": {"alarm_name_regex": "(unclosed"}}]},
     "routes.0.match.alarm_name_regex: Value error, not a valid regular expression '(unclosed': "
     "missing ), unterminated subpattern at position 0"),
    ("unknown-title-field", {"routes": [{"name": "a", "title": "{alarm_nmae} fired"}]},
     f"routes.0.title: Value error, unknown field {{alarm_nmae}} (known: {KNOWN_FIELDS})"),
    ("impact-0", {"routes": [{"name": "a", "impact": 0}]},
     "routes.0.impact: Input should be greater than or equal to 1"),
    ("impact-6", {"routes": [{"name": "a", "impact": 6}]},
     "routes.0.impact: Input should be less than or equal to 5"),
    ("ftp-related-url", {"routes": [{"name": "a", "related_urls": [{"title": "t", "url": "ftp://example.com/x"}]}]},
     "routes.0.related_urls.0.url: String should match pattern '^https?://'"),
    ("relative-related-url", {"routes": [{"name": "a", "related_urls": [{"title": "t", "url": "wiki/runbook"}]}]},
     "routes.0.related_urls.0.url: String should match pattern '^https?://'"),
    ("default-with-match", {"default": {"response_plan_arn": PLATFORM_PLAN, "match": {"alarm_name": "x"}}},
     "default: Value error, the default route catches what no other route does: it takes no `match`"),
    ("duplicate-names", {"routes": [{"name": "a"}, {"name": "b"}, {"name": "a"}, {"name": "b"}, {"name": "c"}]},
     "(root): Value error, route names must be unique: a, b"),
    ("detail-path-without-dollar", {"routes": [{"name": "a", "match": {"detail": {"severity": "critical"}}}]},
     "routes.0.match.detail: Value error, 'severity' is not a path like $.severity or $.service.name"),
    ("sns-topic-arn", {"sns_topic_arns": ["arn:aws:sqs:us-east-1:123456789012:alarms"]},
     f"sns_topic_arns.0: String should match pattern '{SNS_PATTERN}'"),
    ("routes-not-a-list", {"routes": {"name": "a"}}, "routes: Input should be a valid tuple"),
]  # fmt: skip
