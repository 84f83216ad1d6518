"""The sign-in pages' colours, computed from the stylesheet they ship (oauth_core.http.pages.STYLE)
with WCAG 2.2's relative luminance: UI component boundaries (the text and password fields, the
secondary button) and the focus ring at least 3:1 against what surrounds them (1.4.11), text at
least 4.5:1 (1.4.3), in the light and the dark theme."""

from __future__ import annotations

import re

import pytest

from oauth_core.http.pages import STYLE

DARK = "@media (prefers-color-scheme:dark)"


def _variables(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):(#[0-9a-fA-F]{3,6})", block))


def theme(name: str) -> dict[str, str]:
    """The custom properties of a theme: the light ones, overridden by the dark block's."""
    light_block, _, rest = STYLE.partition(DARK)
    light = _variables(light_block.split("}", 1)[0])
    if name == "light":
        return light
    return {**light, **_variables(rest.split("}}", 1)[0])}


def rule(selector: str) -> str:
    match = re.search(re.escape(selector) + r"\{([^}]*)\}", STYLE)
    assert match, f"no rule {selector!r} in STYLE"
    return match.group(1)


def colour_of(declarations: str, prop: str, variables: dict[str, str]) -> str:
    match = re.search(rf"(?:^|;){prop}:[^;]*var\(--([a-z-]+)\)", declarations)
    assert match, f"{prop} takes no var() in {declarations!r}"
    return variables[match.group(1)]


def luminance(colour: str) -> float:
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(digit * 2 for digit in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_formula_matches_known_values() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#777", "#fff") == pytest.approx(4.48, abs=0.01)
    # The border the outside review measured: 1.4:1.
    assert contrast("#d5dbe1", "#fff") == pytest.approx(1.4, abs=0.01)


def test_both_themes_are_read() -> None:
    light, dark = theme("light"), theme("dark")
    assert light["card"] != dark["card"]
    assert {"fg", "muted", "bg", "card", "input-line", "accent"} <= set(light) & set(dark)


@pytest.mark.parametrize("name", ["light", "dark"])
@pytest.mark.parametrize("selector", ["input[type=text],input[type=password]", "button.secondary"])
def test_component_boundaries_are_at_least_3_to_1(name: str, selector: str) -> None:
    variables = theme(name)
    border = colour_of(rule(selector), "border", variables)
    # The fields are transparent on the card; the card sits on the page background.
    for around in ("card", "bg"):
        ratio = contrast(border, variables[around])
        assert ratio >= 3, f"{name}: {selector} border {border} on {around}: {ratio:.2f}:1"


@pytest.mark.parametrize("name", ["light", "dark"])
def test_focus_ring_is_at_least_3_to_1(name: str) -> None:
    variables = theme(name)
    ring = colour_of(rule("input:focus-visible,button:focus-visible"), "outline", variables)
    assert contrast(ring, variables["card"]) >= 3


@pytest.mark.parametrize("name", ["light", "dark"])
@pytest.mark.parametrize(
    ("text", "background"),
    [("fg", "card"), ("muted", "card"), ("accent-fg", "accent"), ("error", "error-bg")],
)
def test_text_is_at_least_4_5_to_1(name: str, text: str, background: str) -> None:
    variables = theme(name)
    assert contrast(variables[text], variables[background]) >= 4.5
