"""What a deploy leaves behind, before any request: the first signing keys, made by the packaged
custom resource as CloudFormation runs it, and functions that start from their code asset and
the layer alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.cold import runtime_python
from tests.deployed.deployment import Deployment
from tests.deployed.flows import World

pytestmark = pytest.mark.xdist_group("deployed")

# Shown in the test's id: which Python ran the functions (3.13, the runtime's, where found).
RUNTIME = f"python{runtime_python()[0].version}"
# A request each function behind the API answers without a client or a user.
FIRST_REQUESTS = {
    "authorize": ("GET", "/authorize"),
    "login": ("GET", "/logout"),
    "token": ("GET", "/.well-known/openid-configuration"),
    "resource": ("GET", "/resource"),
    "register": ("GET", "/register"),
}


def test_the_custom_resource_makes_the_first_signing_keys(deployment: Deployment) -> None:
    kinds = deployment.stack.template.resources
    answers = {
        logical_id: answer
        for logical_id, answer in deployment.stack.custom_resources.items()
        if kinds[logical_id]["Type"] == "Custom::InitialSigningKeys"
    }
    assert len(answers) == 1, answers
    (answer,) = answers.values()
    assert answer.status == "SUCCESS", answer
    keys = deployment.admin().key_store().load()
    assert keys.keys, "the custom resource answered SUCCESS but the key set is empty"
    secret_arn = deployment.aws_client("secretsmanager").describe_secret(
        SecretId=deployment.admin().settings.signing_keys_secret
    )["ARN"]
    assert answer.physical_id == secret_arn


def test_the_first_token_container_after_the_initial_keys_issues_a_token(world: World) -> None:
    container = world.deployment.new_container("token")
    token = world.service_token()
    assert container.invocations == 1, "the token request was not the container's first"
    claims = world.verify(token, f"{world.api.url}/resource")
    assert claims["iss"] == world.deployment.stack.outputs["IssuerUrl"]


@pytest.mark.parametrize("python", [RUNTIME])
def test_each_function_cold_starts_from_its_code_asset_and_the_layer(
    deployment: Deployment, python: str
) -> None:
    served = {}
    for name, (method, path) in FIRST_REQUESTS.items():
        function = deployment.function(name)
        deployment.new_container(name)
        response = deployment.api.request(method, path)
        invocation = deployment.last_invocation[function.logical_id]
        assert invocation.cold, f"{name}: not its container's first invocation"
        assert response.status < 500, f"{name}: {response.status} {response.body}" + (
            deployment.log_of(name)
        )
        origins = {module: Path(file) for module, file in invocation.origins.items() if file}
        handler_module = function.handler.rpartition(".")[0]
        assert origins[handler_module].is_relative_to(function.code), origins
        assert origins["oauth_core"].is_relative_to(function.layers[0]), origins
        if "boto3" in origins:
            assert origins["boto3"].is_relative_to(deployment.runtime.site_packages), origins
        served[name] = response.status
    behind_the_api = {deployment.stack.functions[r.function].name for r in deployment.stack.routes}
    assert set(served) == behind_the_api, "a function behind the API has no first request here"
