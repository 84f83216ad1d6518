"""Authorizer function: the API Gateway Lambda authorizer other teams put in front of their own
HTTP APIs (infra/authorizer.py: the construct; docs/integrate.md: "Protect your own API").
Logic: oauth_core.endpoints.authorizer. Not behind this server's API, and no route of its own:
API Gateway invokes it with its authorization requests. Imports no AWS SDK."""

from oauth_core.endpoints.authorizer import from_env

lambda_handler = from_env()
