"""Incident Manager from CloudWatch alarms and application events."""
