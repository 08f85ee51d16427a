"""Moves messages from the dead-letter queue back to a queue the bridge reads, after a fix (`incident-bridge redrive`).

A message is deleted from the dead-letter queue only after its copy was sent, and is held invisible while it is being
moved, so a crash part-way leaves it in the dead-letter queue (it reappears when the visibility timeout ends).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueOutputTypeDef, MessageAttributeValueTypeDef

# What the bridge attaches when it dead-letters a message (adapters/dead_letters.py), and what EventBridge attaches
# when it cannot deliver to the queue (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
# They describe the failed attempt, so a redriven message goes without them: a fresh attempt.
ERROR_ATTRIBUTES = frozenset({"ErrorClass", "ErrorReason", "ERROR_CODE", "ERROR_MESSAGE"})
#: SQS ReceiveMessage takes at most 10 messages per call.
RECEIVE_BATCH_MAX = 10
#: Long enough to send and delete a batch; if the tool dies, the messages it held come back after this.
VISIBILITY_TIMEOUT_SECONDS = 120
LONG_POLL_SECONDS = 1


class RedriveError(Exception):
    """The redrive cannot start or continue (no such queue, no unique source queue, no permission)."""


@dataclass(frozen=True)
class RedrivenMessage:
    """One dead-lettered message and what happened to it."""

    message_id: str
    #: The bridge's ErrorClass (or EventBridge's ERROR_CODE); None when the queue's redrive policy moved it there.
    error_class: str | None
    error_reason: str | None
    body: str
    #: True once sent to the target and deleted from the dead-letter queue; always False in a dry run.
    moved: bool
    #: Why it could not be moved (it stays in the dead-letter queue); None when it moved or in a dry run.
    failure: str | None = None


class DeadLetterRedrive:
    def __init__(
        self,
        client: SQSClient,
        dead_letter_queue_url: str,
        *,
        visibility_timeout_seconds: int = VISIBILITY_TIMEOUT_SECONDS,
        wait_time_seconds: int = LONG_POLL_SECONDS,
    ) -> None:
        self._client = client
        self._dead_letter_queue_url = dead_letter_queue_url
        self._visibility_timeout = visibility_timeout_seconds
        self._wait_time = wait_time_seconds

    def source_queue_url(self) -> str:
        """The one queue whose redrive policy names this dead-letter queue (the queue does not know it otherwise)."""
        try:
            paginator = self._client.get_paginator("list_dead_letter_source_queues")
            sources = [
                url for page in paginator.paginate(QueueUrl=self._dead_letter_queue_url) for url in page["queueUrls"]
            ]
        except (ClientError, BotoCoreError) as error:
            raise RedriveError(f"cannot list the source queues of {self._dead_letter_queue_url}: {error}") from error
        if len(sources) != 1:
            found = ", ".join(sources) if sources else "none"
            raise RedriveError(
                f"{self._dead_letter_queue_url} is the dead-letter queue of {len(sources)} queue(s) ({found}): "
                "name the queue to move the messages to with --to-queue-url"
            )
        return sources[0]

    def visible_count(self) -> int:
        try:
            attributes = self._client.get_queue_attributes(
                QueueUrl=self._dead_letter_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
        except (ClientError, BotoCoreError) as error:
            raise RedriveError(f"cannot read {self._dead_letter_queue_url}: {error}") from error
        return int(attributes.get("ApproximateNumberOfMessages", "0"))

    def run(
        self, target_queue_url: str, *, max_messages: int | None = None, dry_run: bool = False
    ) -> Iterator[RedrivenMessage]:
        """Yields each message as it is handled, up to `max_messages` (default: those visible when it starts).

        Messages not moved (a failed send, or all of them in a dry run) are made visible again at the end, so they
        can be inspected or redriven again at once.
        """
        # Bounded by what is visible now: messages the bridge dead-letters again during the run are not chased.
        limit = self.visible_count() if max_messages is None else max_messages
        #: message id -> latest receipt handle, for messages held but not deleted.
        held: dict[str, str] = {}
        handled: set[str] = set()
        try:
            while len(handled) < limit:
                batch = self._receive(min(RECEIVE_BATCH_MAX, limit - len(handled)))
                for message in batch:
                    if message.message_id in held:  # held before and came back: only the newest handle works
                        held[message.message_id] = message.receipt_handle
                fresh = [message for message in batch if message.message_id not in handled]
                if not fresh:
                    return  # empty, or only messages already handled in this run
                for message in fresh[: limit - len(handled)]:
                    handled.add(message.message_id)
                    result = self._handle(message, target_queue_url, dry_run=dry_run)
                    if not result.moved:
                        held[message.message_id] = message.receipt_handle
                    yield result
        finally:
            self._release(held.values())

    # ---- one message ----

    def _receive(self, count: int) -> list[_Message]:
        try:
            response = self._client.receive_message(
                QueueUrl=self._dead_letter_queue_url,
                MaxNumberOfMessages=count,
                WaitTimeSeconds=self._wait_time,
                VisibilityTimeout=self._visibility_timeout,
                MessageAttributeNames=["All"],
            )
        except (ClientError, BotoCoreError) as error:
            raise RedriveError(f"cannot receive from {self._dead_letter_queue_url}: {error}") from error
        return [
            _Message(
                message_id=message["MessageId"],
                receipt_handle=message["ReceiptHandle"],
                body=message.get("Body", ""),
                attributes=message.get("MessageAttributes", {}),
            )
            for message in response.get("Messages", [])
        ]

    def _handle(self, message: _Message, target_queue_url: str, *, dry_run: bool) -> RedrivenMessage:
        attributes = message.attributes
        found = RedrivenMessage(
            message.message_id,
            error_class=_string(attributes, "ErrorClass") or _string(attributes, "ERROR_CODE"),
            error_reason=_string(attributes, "ErrorReason") or _string(attributes, "ERROR_MESSAGE"),
            body=message.body,
            moved=False,
        )
        if dry_run:
            return found
        try:
            self._client.send_message(
                QueueUrl=target_queue_url, MessageBody=message.body, MessageAttributes=_kept_attributes(attributes)
            )
        except (ClientError, BotoCoreError) as error:
            return replace(found, failure=f"not sent to {target_queue_url}: {error}")
        try:
            self._client.delete_message(QueueUrl=self._dead_letter_queue_url, ReceiptHandle=message.receipt_handle)
        except (ClientError, BotoCoreError) as error:
            # Sent but still here: a second redrive sends it again (the bridge's client tokens absorb a repeat).
            return replace(found, failure=f"sent, but not deleted from the dead-letter queue: {error}")
        return replace(found, moved=True)

    def _release(self, receipt_handles: Iterable[str]) -> None:
        for receipt_handle in list(receipt_handles):
            # Best effort: if this fails, the message becomes visible anyway when its visibility timeout ends.
            with contextlib.suppress(ClientError, BotoCoreError):
                self._client.change_message_visibility(
                    QueueUrl=self._dead_letter_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
                )


@dataclass(frozen=True)
class _Message:
    message_id: str
    receipt_handle: str
    body: str
    attributes: Mapping[str, MessageAttributeValueOutputTypeDef]


def _string(attributes: Mapping[str, MessageAttributeValueOutputTypeDef], name: str) -> str | None:
    value = attributes.get(name)
    return value.get("StringValue") if value is not None else None


def _kept_attributes(
    attributes: Mapping[str, MessageAttributeValueOutputTypeDef],
) -> dict[str, MessageAttributeValueTypeDef]:
    """The message's own attributes, minus the ones describing the failure, in the shape SendMessage takes."""
    kept: dict[str, MessageAttributeValueTypeDef] = {}
    for name, value in attributes.items():
        if name in ERROR_ATTRIBUTES:
            continue
        if "BinaryValue" in value:
            kept[name] = {"DataType": value["DataType"], "BinaryValue": value["BinaryValue"]}
        elif "StringValue" in value:
            kept[name] = {"DataType": value["DataType"], "StringValue": value["StringValue"]}
    return kept
