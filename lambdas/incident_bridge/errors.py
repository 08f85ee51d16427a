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
