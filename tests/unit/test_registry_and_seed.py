from __future__ import annotations

import json
from pathlib import Path

import pytest

from local_stack.seed import DEFAULT_SEED, SeedError, parse_seed, read_seed
from oauth_core.admin.registry import ClientRegistry, InvalidClientMetadata, validate_metadata
from oauth_core.admin.users import InvalidUser
from oauth_core.models import User
from oauth_core.wiring import Components


def test_default_seed_is_valid() -> None:
    seed = read_seed(DEFAULT_SEED)
    kinds = {c["token_endpoint_auth_method"] for c in seed.clients}
    assert {"client_secret_basic", "none"} <= kinds
    assert any("client_credentials" in c["grant_types"] for c in seed.clients)
    assert seed.users


@pytest.mark.parametrize(
    "uri", ["http://evil.example.com/cb", "javascript:alert(1)", "https://a.example.com/cb#x"]
)
def test_a10_seed_loader_refuses_unsafe_redirect_uri(uri: str) -> None:
    seed = {
        "clients": [
            {"client_id": "web", "grant_types": ["authorization_code"], "redirect_uris": [uri]}
        ]
    }
    with pytest.raises(SeedError, match=r"clients\[0\]\.redirect_uris"):
        parse_seed(seed)


def test_a10_registry_refuses_unsafe_redirect_uri(registry: ClientRegistry) -> None:
    with pytest.raises(InvalidClientMetadata) as caught:
        registry.create(
            {
                "client_id": "web",
                "grant_types": ["authorization_code"],
                "redirect_uris": ["https://ok.example.com/cb", "DATA:text/html,x"],
            }
        )
    assert caught.value.field == "redirect_uris"
    assert registry.get("web") is None


@pytest.mark.parametrize(
    ("seed", "field"),
    [
        ({"clients": [{"client_id": "bad id!"}]}, "clients[0].client_id"),
        ({"clients": [{"client_id": "a", "grant_types": ["password"]}]}, "clients[0].grant_types"),
        (
            {"clients": [{"client_id": "a", "grant_types": ["client_credentials"], "scope": 5}]},
            "clients[0].scope",
        ),
        (
            {
                "clients": [
                    {
                        "client_id": "a",
                        "grant_types": ["client_credentials"],
                        "client_secret": "short",
                    }
                ]
            },
            "clients[0].client_secret",
        ),
        ({"clients": [{"client_id": "a", "colour": "red"}]}, "clients[0].colour"),
        ({"users": [{"username": "u", "password": "short"}]}, "users[0].password"),
        (
            {"users": [{"username": "u", "password": "long enough", "shoe_size": 9}]},
            "users[0].shoe_size",
        ),
        ({"users": [{"password": "long enough"}]}, "users[0].username"),
        ({"extra": []}, "extra"),
    ],
)
def test_bad_seed_is_refused_naming_the_field(seed: dict[str, object], field: str) -> None:
    with pytest.raises(SeedError) as caught:
        parse_seed(seed)
    assert field in str(caught.value)


def test_unreadable_seed_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text("{not json")
    with pytest.raises(SeedError, match="not valid JSON"):
        read_seed(path)
    with pytest.raises(SeedError, match="no such file"):
        read_seed(tmp_path / "missing.json")
    path.write_text(json.dumps([]))
    with pytest.raises(SeedError, match="must be a JSON object"):
        read_seed(path)


def test_public_client_cannot_use_client_credentials() -> None:
    with pytest.raises(InvalidClientMetadata, match="grant_types"):
        validate_metadata(
            {
                "client_id": "spa",
                "token_endpoint_auth_method": "none",
                "grant_types": ["client_credentials"],
            }
        )


def test_registry_generates_strong_secret_and_refuses_duplicates(registry: ClientRegistry) -> None:
    registration = registry.create({"client_id": "svc2", "grant_types": ["client_credentials"]})
    assert registration.client_secret is not None and len(registration.client_secret) >= 43
    with pytest.raises(InvalidClientMetadata, match="already registered"):
        registry.create({"client_id": "svc2", "grant_types": ["client_credentials"]})


def test_g7_usernames_are_one_account_whatever_the_case(services: Components) -> None:
    directory = services.user_directory
    user = directory.create("Alice.Smith", "a-password-1")
    assert user.username == "alice.smith"
    for spelling in ("alice.smith", "ALICE.SMITH", "Alice.Smith"):
        assert directory.get(spelling) == user
    with pytest.raises(InvalidUser):
        directory.create("aLiCe.SmItH", "a-password-2")


def test_a_user_kept_under_its_exact_name_by_an_earlier_version_can_still_be_managed(
    services: Components,
) -> None:
    legacy = User(username="Legacy", sub="legacy-sub", password_hash="x")
    services.users.put(legacy)  # as stored before usernames were case-insensitive
    directory = services.user_directory
    assert directory.get("Legacy") == legacy
    directory.set_disabled("Legacy", True)
    assert services.users.get("Legacy") is not None
    assert services.grants.get_subject_state("legacy-sub") is not None
