"""Tokens the server issues and verifies: JWT access and ID tokens, sealed authorization
requests, bearer verification."""
