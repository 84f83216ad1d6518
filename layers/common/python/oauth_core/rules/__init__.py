"""The rules of the protocol, one module per standard or concern: PKCE, scope, redirect URIs,
client authentication, guessing limits, claims, passwords."""
