"""SECURITY A11: every error description is fixed text chosen by the server, within RFC 6749's
characters. Read from the source, so a description built from caller input (an f-string, a
variable, a repr) fails here before it can ever be sent."""

from __future__ import annotations

import ast
from pathlib import Path

import oauth_core
from oauth_core import errors
from oauth_core.errors import DESCRIPTION_CHARACTERS, InvalidRequest, OAuthError
from oauth_core.tokens import bearer

PACKAGE = Path(oauth_core.__file__).parent


def _subclasses(root: type[Exception]) -> set[str]:
    found = {root.__name__}
    sub: type[Exception]
    for sub in root.__subclasses__():
        found |= _subclasses(sub)
    return found


# Importing every module registers every error class.
for path in PACKAGE.rglob("*.py"):
    module = ".".join(("oauth_core", *path.relative_to(PACKAGE).with_suffix("").parts))
    __import__(module.removesuffix(".__init__"))

ERROR_CLASSES = _subclasses(OAuthError)  # one tree: bearer errors included
# TooManyRequests takes the Retry-After first; its description is the second argument.
DESCRIPTION_POSITION = {"TooManyRequests": 1}


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _descriptions() -> list[tuple[str, ast.expr]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = _called_name(node)
            if name not in ERROR_CLASSES:
                continue
            position = DESCRIPTION_POSITION.get(name, 0)
            where = f"{path.relative_to(PACKAGE)}:{node.lineno} {name}"
            if len(node.args) > position:
                found.append((where, node.args[position]))
            found.extend((where, kw.value) for kw in node.keywords if kw.arg == "description")
    return found


def test_a11_every_error_description_is_a_literal_within_rfc_6749_characters() -> None:
    descriptions = _descriptions()
    assert len(descriptions) > 40  # the scan sees the code base's errors
    for where, expression in descriptions:
        assert isinstance(expression, ast.Constant), f"{where}: not a fixed text"
        assert isinstance(expression.value, str), where
        assert DESCRIPTION_CHARACTERS.match(expression.value), f"{where}: {expression.value!r}"


def test_a11_a_description_outside_the_characters_is_never_sent() -> None:
    assert InvalidRequest('parameter "x" is bad').body() == {"error": "invalid_request"}
    assert errors.safe_description("fine text") == "fine text"
    assert bearer.InvalidToken("back\\slash").www_authenticate("r") == (
        'Bearer realm="r", error="invalid_token"'
    )
