"""CDK constructs for incident-bridge: one per concern, composed by `IncidentBridge`."""
