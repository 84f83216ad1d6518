"""Audit forwarder: not behind the API. CloudWatch Logs invokes it with the audit records of the
functions' log groups (subscription filters, infra/audit.py); it writes them to its own log
group, the audit log, and with `audit_event_bus` onto EventBridge too
(oauth_core.admin.audit_forwarder)."""

from oauth_core.admin.audit_forwarder import from_env

lambda_handler = from_env()
