"""oauthctl keys: the signing-key set (current, next and retired keys)."""

from __future__ import annotations

import argparse
from typing import Any

from oauth_core.admin.key_rotation import RotationTooSoon
from oauth_core.keys import KeySet, SigningKey
from oauthctl.admin import Admin
from oauthctl.errors import Invalid
from oauthctl.output import TABLE, add_output_option, emit_list, iso_time
from oauthctl.parsing import command, group

LIST_COLUMNS = ("kid", "alg", "status", "created", "retired")


def view(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "status": key.status,
        "created": iso_time(key.created_at),
        "retired": iso_time(key.retired_at),
    }


def _rows(keys: KeySet) -> list[dict[str, Any]]:
    order = {"current": 0, "next": 1, "retired": 2}
    return [view(k) for k in sorted(keys.keys, key=lambda k: (k.alg, order.get(k.status, 3)))]


def list_(admin: Admin, args: argparse.Namespace) -> None:
    emit_list(args, _rows(admin.key_store().load()), LIST_COLUMNS)


def rotate(admin: Admin, args: argparse.Namespace) -> None:
    try:
        rotated = admin.rotate_keys(force=args.force)
    except RotationTooSoon as exc:
        raise Invalid(f"{exc}; wait, or pass --force") from exc
    emit_list(args, _rows(rotated), LIST_COLUMNS)


def register(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = group(groups, "keys", "signing keys")
    add_output_option(command(keys, "list", list_, "list signing keys and their status"), TABLE)
    rotated = command(keys, "rotate", rotate, "next -> current -> retired; adds a new next key")
    rotated.add_argument(
        "--force", action="store_true", help="rotate even if the last rotation was under 5 min ago"
    )
    add_output_option(rotated, TABLE)
