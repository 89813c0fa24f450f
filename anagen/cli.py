"""The ``anagen`` command line over the pure libraries.

Each library contributes its own sub-command through a ``register(subparsers)`` function in its
``cli`` module, so the libraries stay independent and this file stays a dispatcher.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: sub-command name -> module providing ``register(subparsers)``
SUBCOMMANDS = {
    "trichometry": "anagen.trichometry.cli",
    "phantom": "anagen.phantoms.cli",
    "follicles": "anagen.follicles.cli",
    "evidence": "anagen.evidence.cli",
    "backup/restore": "anagen.clinic.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anagen",
        description="Anagen: measurement and modelling tools for SVF hair-loss therapy.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in SUBCOMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # A library still being built must not break the others' commands.
            if exc.name and exc.name.startswith(module_name):
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
