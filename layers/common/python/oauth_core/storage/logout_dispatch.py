"""Handing ended sessions to the logout notifier function (functions/logout_notifier): one
asynchronous invocation (InvocationType=Event), which returns as soon as Lambda has queued the
event, so no app's back-channel endpoint ever delays a user's sign-out."""

from __future__ import annotations

import json
from typing import Any

from oauth_core.models import LogoutNotice
from oauth_core.storage.aws import aws_errors, client


class LambdaLogoutDispatch:
    def __init__(self, function_name: str, lambda_client: Any = None):
        self._function_name = function_name
        self._lambda = lambda_client

    def send(self, notices: list[LogoutNotice]) -> None:
        payload = json.dumps({"notices": [notice.to_item() for notice in notices]})
        self._lambda = self._lambda or client("lambda")
        with aws_errors("hand ended sessions to the logout notifier"):
            self._lambda.invoke(
                FunctionName=self._function_name, InvocationType="Event", Payload=payload
            )
