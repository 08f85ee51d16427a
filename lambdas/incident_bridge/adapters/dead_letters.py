"""Sends a message the bridge cannot act on to the dead-letter queue, with the reason attached."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_REASON = 1_000
# What SQS accepts in a message body or attribute: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
# (SQS API Reference, SendMessage). Anything else (a lone surrogate from a JSON escape, a control character) is
# replaced, so the send of a poison record cannot fail because of what made it poison.
_NOT_SQS_TEXT = "[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


@functools.cache
def _not_sqs_text() -> re.Pattern[str]:
    # Compiled on the first rejection, not at init: its ranges over all of Unicode take about 3 ms (`make bench`).
    return re.compile(_NOT_SQS_TEXT)


def sqs_text(text: str) -> str:
    return _not_sqs_text().sub("\ufffd", text)


class _SqsQueue:
    def __init__(self, client: SQSClient | None, queue_url: str) -> None:
        # None: the client is created on first use, off the cold-start path (most containers never dead-letter,
        # retry or requeue anything).
        self._client = client
        self._queue_url = queue_url

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client


class SqsDeadLetters(_SqsQueue):
    def send(self, body: str, *, error_class: str, reason: str, source_message_id: str) -> None:
        """Raises on failure, so the message stays on the source queue and is redelivered, never dropped."""
        self.client.send_message(
            QueueUrl=self._queue_url,
            # SQS refuses an empty body; a direct invocation's body is its JSON, so this only guards odd callers.
            MessageBody=sqs_text(body) or "(empty)",
            MessageAttributes={
                "ErrorClass": {"DataType": "String", "StringValue": sqs_text(error_class) or "Unknown"},
                "ErrorReason": {"DataType": "String", "StringValue": sqs_text(reason[:MAX_REASON]) or "unknown"},
                "SourceMessageId": {"DataType": "String", "StringValue": sqs_text(source_message_id) or "none"},
            },
        )


class SqsSourceQueue(_SqsQueue):
    """The queue the records come from: a record named for retry comes back after its own backoff
    (ChangeMessageVisibility); a record not started is sent back as a new message (SendMessage)."""

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        self.client.change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def requeue(self, body: str, delay_seconds: int) -> None:
        self.client.send_message(QueueUrl=self._queue_url, MessageBody=body, DelaySeconds=delay_seconds)
