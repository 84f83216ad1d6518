"""One module per endpoint: what each route does, from a request to a response."""
