"""Incident Manager from CloudWatch alarms and application events."""

__version__ = "0.1.0"
