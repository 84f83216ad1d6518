"""An API of another team's, protected by this server's tokens through the Lambda authorizer
(infra/authorizer.py): its CDK stack (`stack.py`), its tiny backend (`backend/`), and the same
routes for the local stack's gateway (`local_routes.json`). docs/integrate.md, "Protect your
own API"."""
