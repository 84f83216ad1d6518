"""The flows through the deployed stack: every function from its code asset and the layer,
every event on the template's routes, every AWS call allowed by the caller's role."""

from __future__ import annotations

import pytest

from tests.deployed.flows import World

pytestmark = pytest.mark.xdist_group("deployed")


def test_client_credentials(world: World) -> None:
    world.run("client_credentials")


def test_resource_call_verifies_against_the_published_keys(world: World) -> None:
    world.run("resource_call")


def test_p2_a_dpop_bound_call_through_the_deployed_functions(world: World) -> None:
    world.run("dpop_resource_call")


def test_discovery_and_jwks(world: World) -> None:
    world.run("discovery")


def test_code_flow_with_pkce_through_sign_in_and_consent(world: World) -> None:
    world.run("code_flow")


def test_a18_a_pushed_authorization_request_through_the_deployed_functions(world: World) -> None:
    world.run("pushed_authorization_request")


def test_refresh_rotates_and_reuse_revokes_the_family(world: World) -> None:
    world.run("refresh_rotation_and_reuse")


def test_introspection(world: World) -> None:
    world.run("introspection")


def test_revocation(world: World) -> None:
    world.run("revocation")


def test_logout(world: World) -> None:
    world.run("logout")


def test_l4_rp_initiated_and_back_channel_logout(world: World) -> None:
    world.run("backchannel_logout")


def test_key_rotation_by_the_packaged_rotation_function(world: World) -> None:
    world.run("key_rotation")


def test_a_temporary_password_is_replaced_at_sign_in(world: World) -> None:
    world.run("temporary_password")


def test_audit_records_reach_the_audit_log_through_the_forwarder(world: World) -> None:
    world.run("audit_trail")


def test_the_account_page(world: World) -> None:
    world.run("account_page")


def test_m4_two_step_verification_through_the_login_function(world: World) -> None:
    world.run("second_factor")


def test_passkeys_added_used_alone_and_removed_through_the_login_function(world: World) -> None:
    world.run("passkeys")


def test_dynamic_client_registration(world: World) -> None:
    world.run("dynamic_registration")
