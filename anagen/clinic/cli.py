"""``anagen backup`` and ``anagen restore``: the clinic's management commands of the same name.

Django is set up only when one of these runs, so the pure libraries' commands stay Django-free.
The settings are those of ``DJANGO_SETTINGS_MODULE`` (``anagen.clinic.settings.local`` if unset).
"""

from __future__ import annotations

import argparse
import os


def _run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anagen.clinic.settings.local")
    import django
    from django.core.management import call_command
    from django.core.management.base import CommandError

    django.setup()
    try:
        call_command(args.command, args.path)
    except CommandError as error:
        print(f"anagen {args.command}: {error}")
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = subparsers.add_parser(
        "backup", help="back up the clinic's database and media, with a SHA-256 manifest"
    )
    backup.add_argument("path", help="a new directory, or a .tar.gz file")
    backup.set_defaults(func=_run)
    restore = subparsers.add_parser("restore", help="restore a backup into an empty installation")
    restore.add_argument("path", help="a backup directory or .tar.gz file")
    restore.set_defaults(func=_run)
