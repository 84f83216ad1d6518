"""RFC 8707 resource indicators: which APIs (audiences) a token is for.

A request may name APIs with `resource` (repeatable: oauth_core.http.forms joins repeats with a
space). Each must be an absolute URI without a fragment naming a registered API, or the built-in
API's identifier (`<issuer>/resource`); anything else is `invalid_target`. Without `resource`,
the API is the client's default resource if it has one (a registered API), else the APIs are
those of the scopes asked for (each registered scope names its API; the built-in
`read:data` and `write:data` are the built-in API's), and the built-in API when no scope names
one. A token carries only the scopes of its APIs, plus the OpenID Connect scopes, which belong
to no API. Later requests of the same grant (code redemption, refresh) may narrow the APIs to
some of those granted, never widen them.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from oauth_core.catalog import DEFAULT_API, Catalog
from oauth_core.constants import SCOPE_OFFLINE_ACCESS, SCOPE_OPENID
from oauth_core.errors import InvalidTarget

# Scopes about the user or the grant, not an API's: kept whatever the audience.
NO_API_SCOPES = frozenset({SCOPE_OPENID, "profile", "email", "phone", SCOPE_OFFLINE_ACCESS})
MAX_RESOURCES = 10
MAX_RESOURCE_LENGTH = 512


def parse(value: str | None) -> tuple[str, ...]:
    """The resources a request names (space-joined repeats), each a well-formed absolute URI."""
    if not value:
        return ()
    resources = tuple(dict.fromkeys(value.split(" ")))
    if len(resources) > MAX_RESOURCES:
        raise InvalidTarget("too many resources")
    for resource in resources:
        parts = urlsplit(resource)
        if (
            len(resource) > MAX_RESOURCE_LENGTH
            or not parts.scheme
            or not parts.netloc
            or parts.fragment
            or "#" in resource
        ):
            raise InvalidTarget("a resource must be an absolute URI without a fragment")
    return resources


def render(resources: Iterable[str]) -> str:
    return " ".join(resources)


def api_of(catalog: Catalog, scope_name: str) -> str | None:
    """The API a scope belongs to (DEFAULT_API for the built-in ones), or None: no API's."""
    if scope_name in NO_API_SCOPES:
        return None
    found = catalog.scopes.get(scope_name)
    return (found.audience if found is not None else None) or DEFAULT_API


def identifier(api: str, default_audience: str) -> str:
    return default_audience if api == DEFAULT_API else api


def select(
    catalog: Catalog,
    default_audience: str,
    requested: tuple[str, ...],
    scopes: frozenset[str],
    allowed: tuple[str, ...] | None = None,
    default_resource: str = "",
) -> tuple[str, ...]:
    """The audiences of a token: the requested ones, each known (and among `allowed`, the
    grant's, if given), or else the grant's, or else the client's `default_resource`, or else
    those of the scopes (or the built-in API)."""
    known = {identifier(name, default_audience) for name in catalog.apis} | {default_audience}
    if requested:
        for resource in requested:
            if resource not in known:
                raise InvalidTarget("the resource is not an API registered here")
            if allowed is not None and resource not in allowed:
                raise InvalidTarget("the resource was not granted")
        return requested
    if allowed:
        return allowed
    if default_resource:
        if default_resource not in known:  # its API was deleted since the client was registered
            raise InvalidTarget("the client's default resource is not an API registered here")
        return (default_resource,)
    apis = {api_of(catalog, name) for name in scopes} - {None}
    audiences = sorted(identifier(api, default_audience) for api in apis if api is not None)
    return tuple(audiences) or (default_audience,)


def scopes_for(
    catalog: Catalog, default_audience: str, scopes: frozenset[str], audiences: tuple[str, ...]
) -> frozenset[str]:
    """The scopes a token for these audiences may carry: its APIs' and the no-API ones."""
    kept = set()
    for name in scopes:
        api = api_of(catalog, name)
        if api is None or identifier(api, default_audience) in audiences:
            kept.add(name)
    return frozenset(kept)


def reached(
    catalog: Catalog,
    default_audience: str,
    audiences: tuple[str, ...],
    scopes: frozenset[str],
    *,
    asked: bool,
) -> tuple[str, ...]:
    """The audiences some scope of the token is for: a token names no API it carries no
    scope of (the built-in API aside: /userinfo takes OpenID Connect's scopes). An API asked
    for by `resource` with no scope for it is `invalid_target`; one that came from the grant or
    a default is left out."""
    apis = (api_of(catalog, name) for name in scopes)
    covered = {identifier(api, default_audience) for api in apis if api is not None}
    kept = tuple(a for a in audiences if a == default_audience or a in covered)
    if asked and len(kept) != len(audiences):
        raise InvalidTarget("the request asks for no scope of that API")
    return kept or (default_audience,)
