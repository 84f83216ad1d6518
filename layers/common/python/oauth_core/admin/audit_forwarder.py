"""The audit forwarder (infra/audit.py): CloudWatch Logs hands it the audit records the functions
printed to their log groups (a subscription filter on each); it prints each one, complete
(oauth_core.audit.from_log_line), to its own log group, which is the audit log, and with
`audit_event_bus` puts them on the stack's EventBridge bus too.

Delivery is at least once: an invocation that fails (the bus refused) is retried by Lambda and
then kept in the forwarder's dead-letter queue, and a retried batch is printed again.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from oauth_core import audit

Publish = Callable[[Sequence[dict[str, Any]]], None]


class AuditForwarder:
    def __init__(self, publish: Publish | None = None, out: TextIO | None = None):
        self._publish = publish
        self._out = out

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, int]:
        records = audit.subscription_records(event)
        out = self._out or sys.stdout
        # The audit log first: a bus that fails must not cost the log its records.
        if records:
            out.write("".join(audit.line(record) + "\n" for record in records))
            out.flush()
        if records and self._publish is not None:
            self._publish(records)
        return {"forwarded": len(records)}


def from_env() -> AuditForwarder:
    """As the deployed function runs: the bus OAUTH_AUDIT_EVENT_BUS names, if any."""
    import os

    bus = os.environ.get(audit.ENV_AUDIT_EVENT_BUS)
    if not bus:
        return AuditForwarder()
    from oauth_core.storage.audit_bus import EventBridgeAuditBus

    return AuditForwarder(EventBridgeAuditBus(bus).publish)
