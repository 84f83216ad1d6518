"""Issue 13, item 7.6: an authorization request that cannot be redirected back shows its user plain
words and a reference, not `redirect_uri`; the developer finds the detail in the log under the
same reference."""

from __future__ import annotations

import json
import re
import time

from tests.e2e.conftest import LocalStack
from tests.e2e.flows import Browser, authorize_params, pkce_pair


def test_an_unregistered_redirect_uri_is_plain_words_and_a_logged_reference(
    stack: LocalStack,
) -> None:
    params = authorize_params(
        challenge=pkce_pair()[1], redirect_uri="http://127.0.0.1:8401/not-registered"
    )
    response = Browser(stack).authorize(**params)
    assert response.status_code == 400
    visible = re.sub(r"<style.*?</style>|<[^>]+>", " ", response.text, flags=re.DOTALL)
    assert "redirect_uri" not in visible
    match = re.search(r'<code id="reference">([^<]+)</code>', response.text)
    assert match, response.text
    reference = match.group(1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [
            json.loads(line)
            for line in stack.output.read_text().splitlines()
            if line.startswith("{") and reference in line
        ]
        refused = [line for line in lines if line.get("reference") == reference]
        if refused:
            assert "redirect_uri is not registered" in refused[0]["detail"]
            return
        time.sleep(0.2)
    raise AssertionError(f"no log line with reference {reference}")
