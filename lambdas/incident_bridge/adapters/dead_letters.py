"""Sends a message the bridge cannot act on to the dead-letter queue, with the reason attached."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_REASON = 1_000


class SqsDeadLetters:
    def __init__(self, client: SQSClient | None, queue_url: str) -> None:
        # None: the client is created on the first rejection, off the cold-start path (most containers never
        # dead-letter anything).
        self._client = client
        self._queue_url = queue_url

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    def send(self, body: str, *, error_class: str, reason: str, source_message_id: str) -> None:
        """Raises on failure, so the message stays on the source queue and is redelivered, never dropped."""
        self.client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=body,
            MessageAttributes={
                "ErrorClass": {"DataType": "String", "StringValue": error_class},
                "ErrorReason": {"DataType": "String", "StringValue": reason[:MAX_REASON] or "unknown"},
                "SourceMessageId": {"DataType": "String", "StringValue": source_message_id or "none"},
            },
        )
