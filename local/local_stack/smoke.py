"""`make smoke` without a stack name: the post-deploy smoke test (`oauthctl smoke`) against a
local stack started for it, and stopped after."""

from __future__ import annotations

import sys

from local_stack.process import spawn
from oauthctl import smoke
from oauthctl.admin import Admin


def main() -> int:
    started = spawn()
    try:
        admin = Admin.connect(endpoint_url=started.aws_endpoint)
        return 0 if smoke.run(admin.clients(), started.issuer, sys.stdout) else 1
    finally:
        started.stop()


if __name__ == "__main__":
    sys.exit(main())
