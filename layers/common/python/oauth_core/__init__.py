"""oauth_core: the OAuth 2.1 / OpenID Connect logic shared by every function.

Kept import-light on purpose: importing the package loads nothing, so the resource function
(which verifies tokens and talks to no AWS service) never pays for boto3.
"""
