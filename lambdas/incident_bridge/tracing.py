"""Powertools' Tracer, with the X-Ray SDK imported only when X-Ray SDK tracing is on.

Powertools builds its default provider from the X-Ray SDK even when tracing is disabled, and that import is a
large share of a cold start (see `make bench`). The stack leaves SDK tracing off unless asked (context
`tracing=sdk`); Lambda's own active tracing still records each invocation. When the SDK is off, the Tracer gets
a provider that does nothing, so its decorator stays in place at no cost.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.shared.functions import strtobool
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

#: Only boto calls are worth a subsegment here; patching every library X-Ray knows costs cold-start time.
PATCHED_MODULES = ("botocore",)


def xray_sdk_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Powertools' own rule: on inside Lambda, unless POWERTOOLS_TRACE_DISABLED is true or an emulator runs."""
    if strtobool(environ.get("POWERTOOLS_TRACE_DISABLED", "false")):
        return False
    in_emulator = environ.get("AWS_SAM_LOCAL") or environ.get("AWS_CHALICE_CLI_MODE")
    return bool(environ.get("LAMBDA_TASK_ROOT")) and not in_emulator


def build_tracer(environ: Mapping[str, str] = os.environ) -> Tracer:
    if xray_sdk_enabled(environ):
        return Tracer(patch_modules=PATCHED_MODULES)
    return Tracer(disabled=True, auto_patch=False, provider=UntracedProvider())


class UntracedSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class UntracedProvider(BaseProvider):
    """Records nothing: what the Tracer's decorators call when the X-Ray SDK is off."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield UntracedSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield UntracedSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None
