"""Storage adapters for the ports in oauth_core.ports: in memory, DynamoDB and Secrets Manager."""
