"""The embedded local stack: moto as AWS, the real handlers behind a local API Gateway."""

from pathlib import Path

# The banner's last line: what local_stack.process waits for before handing over the output.
READY = "Ready:"

# Where the local stack appends its audit records (oauth_core.audit), unless OAUTH_AUDIT_FILE
# names another file; `oauthctl audit tail` reads it. The deployed stack's go to a log group.
DEFAULT_AUDIT_FILE = Path(__file__).resolve().parents[2] / ".local" / "audit.jsonl"
# Where a running local stack says which file that is, in its embedded AWS (SSM Parameter
# Store): oauthctl, pointed at that AWS, finds the file of the stack it is pointed at.
AUDIT_FILE_PARAMETER = "/oauth-server/local/audit-file"
# And its issuer, for what oauthctl signs in its name (back-channel logout tokens, when an
# operator ends a user's sessions).
ISSUER_PARAMETER = "/oauth-server/local/issuer"
# The sender of the local stack's e-mail (recovery and verification), unless EMAIL_SENDER names
# another (an empty one: no e-mail). Moto's SES keeps every message; `python -m
# local_stack.mailbox` shows them.
LOCAL_EMAIL_SENDER = "Local sign-in <no-reply@example.com>"
# Where a running local stack says which sender it uses, for oauthctl (users send-verification).
EMAIL_SENDER_PARAMETER = "/oauth-server/local/email-sender"
