"""Audit records onto an EventBridge bus (the deploy option `audit_event_bus`), for the audit
forwarder: one event per record, source `oauth-server.audit`, detail type the event's name."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from oauth_core.audit import AUDIT_EVENT_SOURCE
from oauth_core.errors import StorageError
from oauth_core.storage import aws

# PutEvents takes at most ten entries a call.
BATCH = 10


class EventBridgeAuditBus:
    def __init__(self, bus_name: str, events: Any = None):
        self._bus = bus_name
        self._events = events

    @property
    def events(self) -> Any:
        if self._events is None:
            self._events = aws.client("events")
        return self._events

    def publish(self, records: Sequence[dict[str, Any]]) -> None:
        """Every record on the bus; entries EventBridge refused are tried once more, then the
        call fails (the forwarder's invocation is retried, then dead-lettered)."""
        entries = [
            {
                "Source": AUDIT_EVENT_SOURCE,
                "DetailType": str(record.get("event", "unknown")),
                "Detail": json.dumps(record, separators=(",", ":")),
                "EventBusName": self._bus,
            }
            for record in records
        ]
        for start in range(0, len(entries), BATCH):
            batch = entries[start : start + BATCH]
            refused = self._put(batch)
            if refused:
                refused = self._put(refused)
            if refused:
                raise StorageError(f"EventBridge PutEvents refused {len(refused)} audit records")

    def _put(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with aws.aws_errors("EventBridge PutEvents"):
            answer = self.events.put_events(Entries=batch)
        if not answer.get("FailedEntryCount"):
            return []
        results = answer.get("Entries") or []
        return [
            entry for entry, result in zip(batch, results, strict=False) if "ErrorCode" in result
        ]
