"""The CLI's side of live silences: add, expire and list them in the state table (`incident-bridge silence ...`).

Kept apart from adapters/silence_table.py, which the function ships with and only reads: these writes run with the
operator's credentials (GetItem, and PutItem through TransactWriteItems, on the table: README gives the policy),
never with the function's role.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from incident_bridge.adapters.group_table import version_condition
from incident_bridge.adapters.silence_table import (
    ATTEMPTS,
    INDEX_KEY,
    ITEM_PREFIX,
    MAX_LIVE_SILENCES,
    DynamoSilenceStore,
    SilenceError,
    epoch_seconds,
    silence_json,
)
from incident_bridge.errors import TransientApiError
from incident_bridge.quiet.silences import Silence, SilenceState


class DynamoSilenceAdmin(DynamoSilenceStore):
    # ---- the CLI's writes ----

    def add(self, silence: Silence) -> None:
        for _ in range(ATTEMPTS):
            index = self._index()
            now = self._clock()
            kept = {i: s for i, s in index.silences.items() if s.state(now) is not SilenceState.EXPIRED}
            if silence.id in kept:
                raise SilenceError(f"a silence with id {silence.id} exists already")
            if len(kept) >= MAX_LIVE_SILENCES:
                raise SilenceError(f"{len(kept)} silences are live already (at most {MAX_LIVE_SILENCES}); expire some")
            kept[silence.id] = silence
            if self._write(silence, kept, index.version, new_item=True):
                return
        raise TransientApiError(f"the silences of {self._table} kept changing; try again")

    def expire(self, silence_id: str) -> Silence:
        """Ends the silence now (Alertmanager's expire); returns it as stored."""
        for _ in range(ATTEMPTS):
            index = self._index()
            now = self._clock()
            current = index.silences.get(silence_id)
            if current is None or current.state(now) is SilenceState.EXPIRED:
                raise SilenceError(f"no pending or active silence has id {silence_id}")
            expired = current.expired_at(now)
            kept = {
                i: s for i, s in index.silences.items() if i != silence_id and s.state(now) is not SilenceState.EXPIRED
            }
            if self._write(expired, kept, index.version, new_item=False):
                return expired
        raise TransientApiError(f"the silences of {self._table} kept changing; try again")

    def listed(self) -> tuple[Silence, ...]:
        """Every silence the index holds, pending and active first, newest end last (`silence list`)."""
        return tuple(sorted(self.live(), key=lambda s: (s.starts_at, s.ends_at, s.id)))

    def _write(self, silence: Silence, index: dict[str, Silence], version: int | None, *, new_item: bool) -> bool:
        condition = version_condition(version)
        last_end = max((s.ends_at for s in index.values()), default=silence.ends_at)
        index_item = {
            "group_key": {"S": INDEX_KEY},
            "version": {"N": str((version or 0) + 1)},
            "silences": {"M": {i: {"S": silence_json(s)} for i, s in index.items()}},
            # The index outlives its last silence by nothing: DynamoDB drops it when all are over.
            "expires_at": {"N": str(epoch_seconds(last_end))},
        }
        silence_item = {
            "group_key": {"S": ITEM_PREFIX + silence.id},
            "silence": {"S": silence_json(silence)},
            "expires_at": {"N": str(epoch_seconds(silence.ends_at))},  # the table's TTL: the silence's end
        }
        silence_put: dict[str, Any] = {"TableName": self._table, "Item": silence_item}
        if new_item:
            silence_put["ConditionExpression"] = "attribute_not_exists(group_key)"
        index_put: dict[str, Any] = {"TableName": self._table, "Item": index_item, **condition}
        writes: list[Any] = [{"Put": silence_put}, {"Put": index_put}]
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise TransientApiError(f"TransactWriteItems on {self._table}: {error}") from error
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise SilenceError(f"a silence with id {silence.id} exists already") from None
            return False  # the index changed under us: read it again
        except BotoCoreError as error:
            raise TransientApiError(f"TransactWriteItems on {self._table}: {error}") from error
        return True
