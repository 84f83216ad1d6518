"""The embedded local stack: moto as AWS, the real handlers behind a local API Gateway."""
