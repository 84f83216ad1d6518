"""oauthctl: administer clients, users and signing keys of a local or deployed stack."""
