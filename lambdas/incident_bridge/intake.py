"""The names the organization intake's traffic carries, shared by the configuration, routing and the sources.

Kept apart from heartbeats.py so that a bridge that only routes alarms does not import the heartbeat domain at
cold start (`make bench`; tests/handler/test_lazy_imports.py): heartbeats.py is imported where a heartbeat or a
forwarder check is handled.
"""

#: The route that decides silent-forwarder incidents (config.py builds it in; a route of this name overrides it).
FORWARDER_SILENT_ROUTE = "forwarder-silent"
#: The source and detail-type a silent forwarder's incident carries, as a custom incident would.
FORWARDER_SOURCE = "incident-bridge.forwarder"
SILENT_DETAIL_TYPE = "Forwarder Silent"
#: The forwarder's scheduled rule, by the same name in every member account and region (infra/forwarder.py).
HEARTBEAT_RULE_NAME = "incident-bridge-heartbeat"
