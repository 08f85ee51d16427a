"""One error type per failure class; the handler decides retry or dead-letter from the class alone."""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose. Only TransientApiError is worth a redelivery; the
    runtime decides that from the class, in one place (Bridge.handle_batch)."""


class InvalidEvent(BridgeError):
    """The payload is not something the bridge can act on (malformed, wrong shape, unknown kind)."""


class ConfigError(BridgeError):
    """The bridge configuration is invalid. Raised at cold start and at `cdk synth`."""


class ConfigSyntaxError(ConfigError):
    """The configuration file is not YAML (or JSON) at all; `str()` is one line, `<file>:<line>:<column>: <problem>`,
    as compilers and editors expect."""


class PermanentApiError(BridgeError):
    """Incident Manager refused the request in a way a retry cannot fix (access, validation, missing plan)."""


class TransientApiError(BridgeError):
    """Incident Manager (or the network) failed in a way a later retry may fix (throttling, 5xx, timeouts)."""


class Throttled(TransientApiError):
    """Incident Manager refused the call for its request rate (ThrottlingException, HTTP 429) after botocore's own
    retries: the rest of the batch would only be throttled too."""


class NotStarted(TransientApiError):
    """The invocation was running out of time before this event was started: nothing was tried."""


class IncidentNotFound(PermanentApiError):
    """Incident Manager says the incident record does not exist (ResourceNotFoundException): deleted by a human."""


class GroupRecordRejected(BridgeError):
    """The state table refused a group record for good (DynamoDB ValidationException, e.g. an item over 400 KB)."""


class CorruptGroupRecord(BridgeError):
    """A stored group record cannot be read (damaged, or written by an unknown layout)."""
