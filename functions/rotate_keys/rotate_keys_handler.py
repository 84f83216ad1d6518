"""Key-rotation function: Secrets Manager calls it to rotate the signing-key set.

Logic: oauth_core.storage.secrets_manager.SigningKeyRotation (KeySet.rotate, as oauthctl).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from oauth_core.observability import logger
from oauth_core.storage.secrets_manager import SigningKeyRotation


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    logger.info("rotating signing keys", extra={"step": event["Step"]})
    SigningKeyRotation().step(event["SecretId"], event["ClientRequestToken"], event["Step"])
