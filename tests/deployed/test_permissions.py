"""Each function's role against what it did in every flow. A call the role does not allow
already fails the flow that made it (deployment.AccessDenied); here, the other way round: a
permission no flow used is excess and fails, unless it is listed below with the reason no
flow can show it. A listed permission that a flow does use, or that the role no longer has,
fails too, so the list stays true.

Lambda's runtime, not the function's code, writes the function's log group with its role:
those two actions on the function's own log group are the runtime's and never excess."""

from __future__ import annotations

import pytest

from tests.deployed.deployment import Deployment
from tests.deployed.flows import World

pytestmark = pytest.mark.xdist_group("deployed")

# (function, action, resource label): why no flow of the suite can use it.
NOT_SHOWN_BY_FLOWS: dict[tuple[str, str, str], str] = {
    (
        "login",
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:OAuthServer/oauth/providers/*",
    ): "A federated sign-in needs an upstream OpenID Connect provider, which this suite does not "
    "run; tests/e2e/test_federation.py signs in through one (a second local stack).",
}


def test_no_function_is_granted_what_no_flow_uses(world: World) -> None:
    world.run_all()
    unused = world.deployment.unused_grants()
    excess = sorted(set(unused) - set(NOT_SHOWN_BY_FLOWS))
    listed = "\n  ".join(f"{name}: {action} on {resource}" for name, action, resource in excess)
    assert not excess, (
        "granted but used by no flow (remove it from infra/, or list it in NOT_SHOWN_BY_FLOWS "
        f"with the reason no flow can show it):\n  {listed}"
    )
    stale = sorted(set(NOT_SHOWN_BY_FLOWS) - set(unused))
    assert not stale, f"listed in NOT_SHOWN_BY_FLOWS but used by a flow or not granted: {stale}"


def test_every_route_of_the_template_is_answered_by_its_function(deployment: Deployment) -> None:
    """Routes no flow takes too (preflights, wrong methods): API Gateway may invoke the
    route's function, and that function answers, without a server error."""
    for route in deployment.stack.routes:
        method = "DELETE" if route.method == "ANY" else route.method
        response = deployment.api.request(
            method, route.path, headers={"origin": "https://app.example.com"}
        )
        function = deployment.stack.functions[route.function]
        where = f"{method} {route.path}"
        assert response.function == function.name, f"{where}: answered by {response.function}"
        assert response.status < 500, f"{where}: {response.status} {response.body}" + (
            deployment.log_of(function.name)
        )
