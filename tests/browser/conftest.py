"""Headless Debian Chromium driven by Playwright's Python package (it cannot download its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.e2e.conftest import stack  # noqa: F401 - the local stack, shared with e2e

# A loaded CI machine (2 cores, the suite on both) can take seconds to run a page's script:
# assertions wait up to 15 s for what a page shows (they pass as soon as it shows).
expect.set_options(timeout=15_000)

# Every page is looked at wide and on a phone, light and dark.
Scheme = Literal["light", "dark"]
SCREENS = pytest.mark.parametrize(
    ("width", "scheme"), [(1280, "light"), (390, "light"), (1280, "dark"), (390, "dark")]
)


CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "browser"
# Without these Chromium keeps trying to reach Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "install Debian's chromium (scripts/ensure-chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
