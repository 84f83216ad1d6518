"""Key-rotation function. Secrets Manager calls it to rotate the signing-key set; CloudFormation
calls it (a custom resource) to make the first set before the functions that sign exist.

Logic: oauth_core.storage.secrets_manager.SigningKeyRotation (KeySet.rotate, as oauthctl), and
oauth_core.admin.custom_resource for CloudFormation's request and answer.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from oauth_core.admin import custom_resource
from oauth_core.observability import logger
from oauth_core.storage.secrets_manager import SigningKeyRotation


def initial_keys(properties: dict[str, Any]) -> str:
    """Create or Update of the stack's initial-keys resource: keys in the secret, if none yet.
    The physical id is the secret's: a stack that moves to another secret makes keys there."""
    secret_id = str(properties["SecretId"])
    created = SigningKeyRotation().ensure_initial_keys(secret_id)
    logger.info("initial signing keys", extra={"keys_created": created})
    return secret_id


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    if custom_resource.is_request(event):
        custom_resource.serve(event, initial_keys)
        return
    logger.info("rotating signing keys", extra={"step": event["Step"]})
    SigningKeyRotation().step(event["SecretId"], event["ClientRequestToken"], event["Step"])
