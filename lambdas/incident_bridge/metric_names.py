"""The names the function publishes its metrics under, shared by the Lambda and by infra/ (dashboard, alarms).

The Lambda reads the namespace and service from Powertools' environment variables, which the stack sets from these
constants; the metric names are used as they are.
"""

from __future__ import annotations

#: POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME (Powertools adds `service` as a default dimension).
NAMESPACE = "IncidentBridge"
SERVICE_NAME = "incident-bridge"
#: The dimension every business-outcome metric carries.
ROUTE_DIMENSION = "route"
#: A second series of EventIgnored, by ignore reason (redeliveries, drops).
REASON_DIMENSION = "reason"

# One metric per business outcome (conventions: "Metrics: one per business outcome, dimension by route").
INCIDENT_STARTED = "IncidentStarted"
INCIDENT_UPDATED = "IncidentUpdated"
INCIDENT_RESOLVED = "IncidentResolved"
EVENT_IGNORED = "EventIgnored"
EVENT_REJECTED = "EventRejected"
#: A record handed back to the queue for a later attempt.
EVENT_RETRIED = "EventRetried"
#: Organization intake bookkeeping, never a page by itself: a forwarder heartbeat kept, a silence check that found
#: no change (counted apart from EventIgnored, which they would otherwise drown).
FORWARDER_HOUSEKEEPING = "ForwarderHousekeeping"
#: A record not started (the invocation ran low on time, or Incident Manager throttled the batch), sent back to
#: the queue as a new message.
EVENT_REQUEUED = "EventRequeued"

INCIDENT_METRICS = (INCIDENT_STARTED, INCIDENT_UPDATED, INCIDENT_RESOLVED)
EVENT_METRICS = (EVENT_IGNORED, EVENT_RETRIED, EVENT_REJECTED)
