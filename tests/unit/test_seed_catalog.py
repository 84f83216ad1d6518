"""The seed declares the catalog too: APIs, scopes and user attributes, checked by the same code
as oauthctl and declared before clients and users, so that a client may be given a seeded scope
and a user carry a seeded attribute. A bad declaration is refused naming its place in the file."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from local_stack.seed import (
    DEFAULT_SEED,
    CatalogAdmins,
    SeedError,
    apply_seed,
    parse_seed,
    read_seed,
)
from oauth_core.endpoints.discovery import DiscoveryEndpoints
from oauth_core.endpoints.token import TokenEndpoint
from oauth_core.rules.claims import profile_of
from oauth_core.wiring import Components
from tests.support import basic, form_request, respond

ORDERS_API = "https://orders.example.com"
SECRET = "shop-service-secret-0123456789abcdefXYZ"
SEED: dict[str, Any] = {
    "apis": [{"name": ORDERS_API, "groups_claim": "teams", "description": "Orders"}],
    "scopes": [
        {"name": "orders:read", "description": "See your orders", "audience": ORDERS_API},
        {"name": "orders:write", "description": "Place orders", "consent": False},
    ],
    "attributes": [
        {"name": "department", "type": "string", "claim": "dept"},
        {"name": "level", "type": "number"},
    ],
    "clients": [
        {
            "client_id": "shop",
            "client_secret": SECRET,
            "grant_types": ["client_credentials"],
            "scope": "orders:read read:data",
        }
    ],
    "users": [
        {
            "username": "Olga",
            "password": "olga's password",
            "name": "Olga",
            "attributes": {"department": "sales", "level": 3},
            "groups": ["buyers", "admins"],
        }
    ],
}


def admins_of(services: Components) -> CatalogAdmins:
    return CatalogAdmins(services.scope_admin, services.api_admin, services.attribute_admin)


def seeded(services: Components, data: dict[str, Any] = SEED) -> Components:
    apply_seed(parse_seed(data), services.registry, services.user_directory, admins_of(services))
    return services


def with_(**sections: Any) -> dict[str, Any]:
    return {**copy.deepcopy(SEED), **sections}


USER = SEED["users"][0]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"scopes": {"name": "x"}}, "seed: scopes: must be a list"),
        ({"scopes": ["orders:read"]}, "seed: scopes[0]: must be an object"),
        ({"scopes": [{"name": "a b", "description": "x"}]}, "seed: scopes[0].name: "),
        (
            {"scopes": [{"name": "x", "description": "x"}, {"name": "y"}]},
            "seed: scopes[1].description: is required",
        ),
        ({"scopes": [{"name": "openid", "description": "x"}]}, "scopes[0].name: openid is built"),
        ({"scopes": [{"name": "x", "description": "x", "colour": 1}]}, "scopes[0].colour: "),
        (
            {"scopes": [{"name": "x", "description": "x", "consent": "yes"}]},
            "scopes[0].consent: true or false",
        ),
        (
            {"scopes": [{"name": "x", "description": "x"}, {"name": "x", "description": "y"}]},
            "scopes[1].name: 'x' appears twice",
        ),
        (
            # The audience must be an API: one of the seed's (declared first) or already there.
            {"scopes": [{"name": "x", "description": "x", "audience": "https://other.example"}]},
            "scopes[0].audience: https://other.example is not a registered API",
        ),
        ({"apis": [{"name": "http://api.example.com"}]}, "apis[0].name: "),
        ({"apis": [{"name": ORDERS_API, "colour": 1}]}, "apis[0].colour: is not an API field"),
        ({"apis": [{"name": ORDERS_API, "groups_claim": "sub"}]}, "apis[0].groups_claim: sub is"),
        ({"apis": [{"name": ORDERS_API}, {"name": ORDERS_API}]}, "apis[1].name: "),
        ({"attributes": [{"name": 5}]}, "attributes[0].name: lower-case letters"),
        ({"attributes": [{"name": "Dept"}]}, "attributes[0].name: lower-case letters"),
        ({"attributes": [{"name": "x", "type": "date"}]}, "attributes[0].type: one of string"),
        ({"attributes": [{"name": "x", "claim": "iss"}]}, "attributes[0].claim: iss is a claim"),
        ({"attributes": [{"name": "x", "description": 7}]}, "attributes[0].description: "),
        ({"attributes": [{"name": "x", "kind": "string"}]}, "attributes[0].kind: is not an"),
        (
            {"attributes": [{"name": "x", "claim": "c"}, {"name": "y", "claim": "c"}]},
            "attributes[1].claim: another attribute is carried in c",
        ),
        (
            {"clients": [{"client_id": "a", "grant_types": ["client_credentials"], "scope": "a"}]},
            "seed: clients[0].scope: a is not a built-in scope: declare it in the seed's scopes",
        ),
        (
            with_(users=[{**USER, "attributes": {"department": 5}}]),
            "users[0].attributes.department: must be a string",
        ),
        (
            with_(users=[{**USER, "attributes": {"level": True}}]),
            "users[0].attributes.level: must be a number",
        ),
        (
            with_(users=[{**USER, "attributes": {"shoe_size": 9}}]),
            "users[0].attributes.shoe_size: is not a declared attribute",
        ),
        (with_(users=[{**USER, "attributes": ["sales"]}]), "users[0].attributes: must be an"),
        (with_(users=[{**USER, "groups": "buyers"}]), "users[0].groups: must be a list"),
        (with_(users=[{**USER, "groups": ["ok", "not ok"]}]), "users[0].groups[1]: 1-64"),
    ],
)
def test_a_bad_declaration_is_refused_naming_its_place(data: dict[str, Any], path: str) -> None:
    with pytest.raises(SeedError) as refused:
        parse_seed(data)
    assert path in str(refused.value)


def test_a_client_may_not_be_given_a_scope_the_seed_does_not_declare(tmp_path: Path) -> None:
    undeclared = with_(scopes=[SEED["scopes"][1]])  # orders:read left out
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(undeclared))
    with pytest.raises(SeedError) as refused:
        read_seed(path)
    assert str(refused.value) == (
        f"{path}: clients[0].scope: orders:read is not a built-in scope: "
        "declare it in the seed's scopes"
    )
    # Declared, the same client is accepted.
    assert read_seed_of(tmp_path, SEED).clients[0]["scope"] == "orders:read read:data"


def read_seed_of(tmp_path: Path, data: dict[str, Any]) -> Any:
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(data))
    return read_seed(path)


def test_a_seed_that_skipped_the_check_is_still_refused_when_applied(
    services: Components,
) -> None:
    """The registry checks the scopes again: an error names the client, not a traceback."""
    seed = parse_seed(SEED)
    seed.scopes = []
    seed.apis = []
    with pytest.raises(SeedError, match=r"^seed: clients\[0\]\.scope: orders:read is not"):
        apply_seed(seed, services.registry, services.user_directory, admins_of(services))
    assert services.registry.get("shop") is None


def test_declared_scopes_are_advertised_and_given(services: Components) -> None:
    seeded(services)
    catalog = services.catalog.catalog()
    assert catalog.scopes["orders:read"].audience == ORDERS_API
    assert catalog.scopes["orders:write"].consent is False
    assert catalog.groups_claim(ORDERS_API) == "teams"
    discovery = DiscoveryEndpoints(
        services.settings, services.published_keys, ["client_credentials"], services.catalog
    )
    document = discovery.openid_configuration(form_request({}, method="GET")).json()
    assert {"orders:read", "orders:write"} <= set(document["scopes_supported"])

    token = TokenEndpoint(
        services.grant_types, services.client_auth, services.settings, services.dpop
    )
    response = respond(
        token.handle,
        form_request(
            {"grant_type": "client_credentials", "scope": "orders:read"},
            headers={"Authorization": basic("shop", SECRET)},
        ),
    )
    assert response.status_code == 200, response.body
    assert response.json()["scope"] == "orders:read"


def test_a_declared_attribute_and_groups_land_on_the_user(services: Components) -> None:
    seeded(services)
    user = services.user_directory.get("olga")
    assert user is not None
    assert user.attributes == {"department": "sales", "level": 3}
    assert user.groups == ("admins", "buyers")
    assert user.claims == {"name": "Olga"}  # attributes and groups are not claims
    # The mapped attribute is what tokens carry; the unmapped one is not.
    profile = profile_of(user, services.catalog.catalog())
    assert profile["dept"] == "sales" and "level" not in profile
    assert profile["groups"] == ["admins", "buyers"]


def test_applying_a_seed_again_makes_what_it_names_match_it(services: Components) -> None:
    seeded(services)
    sub = services.user_directory.get("olga").sub  # type: ignore[union-attr]
    changed = with_(
        apis=[{"name": ORDERS_API}],
        scopes=[
            {"name": "orders:read", "description": "Read your orders"},
            SEED["scopes"][1],
        ],
        attributes=[{"name": "department", "type": "string"}, SEED["attributes"][1]],
        users=[{**USER, "groups": ["buyers"]}],
    )
    seeded(services, changed)
    seeded(services, changed)  # and once more: nothing is refused as already there
    catalog = services.catalog.catalog()
    scope = catalog.scopes["orders:read"]
    assert (scope.description, scope.audience) == ("Read your orders", None)
    assert catalog.groups_claim(ORDERS_API) == "groups"
    assert catalog.attributes["department"].claim is None
    user = services.user_directory.get("olga")
    assert user is not None and user.sub == sub and user.groups == ("buyers",)
    assert services.registry.get("shop") is not None


def test_a_seed_of_built_in_scopes_only_needs_no_catalog(services: Components) -> None:
    plain = {"clients": [{**SEED["clients"][0], "scope": "read:data"}]}
    apply_seed(parse_seed(plain), services.registry, services.user_directory)
    assert services.registry.get("shop") is not None


def test_without_admins_a_seed_that_declares_a_catalog_is_refused(services: Components) -> None:
    with pytest.raises(SeedError, match="needs CatalogAdmins"):
        apply_seed(parse_seed(SEED), services.registry, services.user_directory)
    assert "orders:read" not in services.catalog.catalog().scopes


def test_the_demo_seed_declares_an_api_and_a_scope_its_clients_are_given(
    services: Components,
) -> None:
    demo = read_seed(DEFAULT_SEED)
    assert demo.apis and demo.scopes
    declared = {scope["name"] for scope in demo.scopes}
    given = {name for client in demo.clients for name in client["scope"].split()}
    assert declared <= given
    apply_seed(demo, services.registry, services.user_directory, admins_of(services))
    for name in declared:
        scope = services.catalog.catalog().scopes[name]
        assert scope.audience in services.catalog.catalog().apis


def test_the_built_in_api_may_be_given_another_groups_claim(services: Components) -> None:
    seeded(services, {"apis": [{"name": "default", "groups_claim": "roles"}]})
    default = services.api_admin.get("default")
    assert default is not None and default.groups_claim == "roles"
    assert default.description == "The built-in API (/resource, /userinfo)"  # kept


def test_the_seeds_in_the_docs_are_valid() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "local-development.md").read_text()
    blocks = re.findall(r"^```json\n(.*?)^```", page, re.MULTILINE | re.DOTALL)
    seeds = [parse_seed(json.loads(block)) for block in blocks]
    assert len(seeds) == 2 and seeds[1].apis and seeds[1].scopes and seeds[1].attributes


def test_a_seeded_api_may_name_its_lifetime_algorithm_and_introspecting_clients(
    services: Components,
) -> None:
    seed = {
        "apis": [
            {"name": "https://ledger.example.com", "access_token_ttl": 120,
             "signing_alg": "RS256", "introspecting_clients": ["ledger-rs"]}
        ]
    }  # fmt: skip
    apply_seed(parse_seed(seed), services.registry, services.user_directory, admins_of(services))
    api = services.catalog.catalog().apis["https://ledger.example.com"]
    assert (api.access_token_ttl, api.signing_alg) == (120, "RS256")
    assert api.introspecting_clients == ("ledger-rs",)
