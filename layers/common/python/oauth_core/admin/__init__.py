"""Managing clients and users (oauthctl, the seed), and the key set's first creation."""
