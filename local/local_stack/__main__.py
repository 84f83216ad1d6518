"""`python -m local_stack` (what `make serve` runs): the whole server on 127.0.0.1."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from local_stack import READY, stack
from local_stack.seed import DEFAULT_SEED, SeedError
from oauth_core.config import Settings

_PRINT_ACCESS_TOKEN = "'import sys,json; print(json.load(sys.stdin)[\"access_token\"])'"


def is_default_seed(seed_path: Path | None) -> bool:
    """The built-in demo seed, whose secrets are public anyway (they are in the repository)."""
    return seed_path is None or seed_path.resolve() == DEFAULT_SEED.resolve()


def banner(running: stack.RunningStack, seed_path: Path | None = None) -> str:
    """What the server prints once it is up. The demo seed's secrets and passwords are shown, as
    a demo needs; a seed of your own is never echoed: its client ids and usernames are, with
    where each secret is (your seed file, or Secrets Manager for a generated one)."""
    issuer = running.issuer
    demo = is_default_seed(seed_path)
    prefix = Settings.from_env().client_secret_prefix
    lines = [
        "",
        f"OAuth server running. Issuer: {issuer}",
        f"  metadata:  {issuer}/.well-known/oauth-authorization-server",
        f"  local AWS: {running.moto.endpoint_url}   (moto; for oauthctl: "
        f"export AWS_ENDPOINT_URL={running.moto.endpoint_url})",
        f"  audit log: {running.audit_file}   (oauthctl audit tail reads it)",
        *(
            ["  e-mail:    kept by the local SES   (python -m local_stack.mailbox shows it)"]
            if Settings.from_env().sends_email
            else []
        ),
        "",
        "Demo clients:" if demo else f"Clients of the seed {seed_path}:",
    ]
    for index, client in enumerate(running.seed.clients):
        client_id = client["client_id"]
        secret = running.seeded.secrets.get(client_id)
        if not secret:
            kind = "public (PKCE)"
        elif demo:
            kind = f"secret {secret}"
        elif "client_secret" in client:
            kind = f"secret: clients[{index}].client_secret in {seed_path}"
        else:
            kind = f"secret: generated, in local Secrets Manager as {prefix}{client_id}"
        grants = ", ".join(client.get("grant_types", []))
        lines.append(f"  {client_id:<14} {kind}   [{grants}]")
    if running.seed.users:
        if demo:
            lines.append("Demo users:")
            lines.extend(f"  {u['username']} / {u['password']}" for u in running.seed.users)
        else:
            lines.append(f"Users (their passwords: in {seed_path}):")
            lines.extend(f"  {u['username']}" for u in running.seed.users)
    service = next(
        (
            c
            for c in running.seed.clients
            if "client_credentials" in c.get("grant_types", [])
            and c["client_id"] in running.seeded.secrets
        ),
        None,
    )
    if service:
        client_id = service["client_id"]
        secret = running.seeded.secrets[client_id] if demo else "$CLIENT_SECRET"
        lines += [
            "",
            "Try it: get a token with Client Credentials, then call the protected API:",
        ]
        if not demo:
            lines.append(f"  (CLIENT_SECRET: {client_id}'s secret, where the list above says)")
        lines += [
            f'  TOKEN=$(curl -s -u "{client_id}:{secret}" -d grant_type=client_credentials \\',
            f"    {issuer}/token | python3 -c {_PRINT_ACCESS_TOKEN})",
            f'  curl -s -H "Authorization: Bearer $TOKEN" {issuer}/resource',
        ]
    lines += ["", f"{READY} serving requests; Ctrl-C stops."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_stack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--seed",
        type=Path,
        default=Path(os.environ["OAUTH_SEED"]) if os.environ.get("OAUTH_SEED") else None,
        help="seed JSON (default: the demo seed); OAUTH_SEED sets it too",
    )
    args = parser.parse_args(argv)
    try:
        running = stack.start(args.host, args.port, args.seed)
    except SeedError as exc:
        print(f"error: bad seed: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(banner(running, args.seed), flush=True)
    try:
        running.gateway.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
