"""An authorization request that cannot be redirected back is answered with a page in plain words
and a reference; the technical detail goes to the log under the same reference."""

from __future__ import annotations

import re
from typing import Any

import pytest

from oauth_core.http import pages
from oauth_core.http.request import HttpRequest

DETAILS = [
    "The request does not name exactly one client (client_id).",
    "The application is not registered here (unknown client_id).",
    "The request names more than one redirect_uri.",
    "The redirect_uri is not registered for this application.",
    "The request must name its redirect_uri (several are registered).",
    "Only response_mode=query is supported.",
]
JARGON = re.compile(r"redirect_uri|client_id|response_mode|\bOAuth\b|\bURI\b", re.IGNORECASE)


class RecordingLogger:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def info(self, message: str, **kwargs: Any) -> None:
        self.lines.append((message, kwargs.get("extra", {})))


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> RecordingLogger:
    recording = RecordingLogger()
    monkeypatch.setattr(pages, "logger", recording)
    return recording


def reference_on(body: str) -> str:
    match = re.search(r'<code id="reference">([^<]+)</code>', body)
    assert match, body
    return match.group(1)


@pytest.mark.parametrize("detail", DETAILS)
def test_the_user_reads_plain_words_and_a_reference(log: RecordingLogger, detail: str) -> None:
    request = HttpRequest("GET", "/authorize", request_id="Xk3v9gHsoAMEbXw=")
    response = pages.refused_request_page(detail, request)
    assert response.status_code == 400
    assert "Location" not in response.headers
    visible = re.sub(r"<style.*?</style>|<[^>]+>", " ", response.body, flags=re.DOTALL)
    assert not JARGON.search(visible), visible
    assert pages.REFUSED_MESSAGE in response.body
    # API Gateway's request id: the correlation id on every log line of the request.
    assert reference_on(response.body) == "Xk3v9gHsoAMEbXw="
    assert log.lines == [
        ("authorization request refused", {"reference": "Xk3v9gHsoAMEbXw=", "detail": detail})
    ]


def test_without_a_request_id_the_reference_is_random(log: RecordingLogger) -> None:
    first = reference_on(pages.refused_request_page(DETAILS[0]).body)
    second = reference_on(pages.refused_request_page(DETAILS[0], HttpRequest("GET", "/")).body)
    assert re.fullmatch(r"[0-9a-f]{16}", first) and re.fullmatch(r"[0-9a-f]{16}", second)
    assert first != second
    assert [extra["reference"] for _, extra in log.lines] == [first, second]


def test_the_reference_is_escaped(log: RecordingLogger) -> None:
    body = pages.refused_request_page(DETAILS[0], HttpRequest("GET", "/", request_id="<b>")).body
    assert "<b>" not in body and "&lt;b&gt;" in body


def test_other_error_pages_show_no_reference_unless_given() -> None:
    assert 'id="reference"' not in pages.error_page("The request could not be read.").body
    assert reference_on(pages.error_page("Oops.", reference="r-1").body) == "r-1"
