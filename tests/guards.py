"""Mutation check of the clinical guards (``make guards``).

Every guard in the services carries a marker comment ``# guard: <name>``, either on the ``raise``
that refuses or on the ``if`` whose only statement is that ``raise``. For each guard this script
copies the project (anagen/, tests/, pyproject.toml) to a scratch directory, replaces the guarded
``raise`` with ``pass`` in the copy, runs the pathway property test there (same example budget
as ``make test``: ANAGEN_STATEFUL_EXAMPLES, no shrinking) and reports which assertion caught the
missing guard. It fails loudly if a marker is missing, duplicated or not on a guard, and exits
non-zero if any guard survives (the property test did not notice it was gone).

    .venv/bin/python -m tests.guards [guard ...]
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/clinic/test_pathway_stateful.py"
GATES = "anagen/clinic/treatment/services/gates.py"
PRODUCTS = "anagen/clinic/treatment/services/products.py"
SESSIONS = "anagen/clinic/treatment/services/sessions.py"
ACCESS = "anagen/clinic/accounts/access.py"
#: guard -> (file, number of markers). Each marker disables one ``raise``.
GUARDS: dict[str, tuple[str, int]] = {
    "patient": (SESSIONS, 1),
    "mrn": (SESSIONS, 1),
    "consent": (GATES, 1),
    "eligibility": (GATES, 1),
    "volume": (SESSIONS, 1),
    "cells": (SESSIONS, 1),
    "expiry": (SESSIONS, 1),
    "expiry-store": (PRODUCTS, 1),
    "expiry-thaw": (PRODUCTS, 1),
    "verifier-not-administrator": (SESSIONS, 1),
    "verifier-role": (SESSIONS, 1),
    "verifier-password": (SESSIONS, 1),
    "replay": (SESSIONS, 1),
    "four-eyes": (PRODUCTS, 1),
    "site": (ACCESS, 1),
}
MARKER = re.compile(r"#\s*guard:\s*([\w-]+)\s*$")
CAUGHT = re.compile(r"\[((?:rule|invariant) [\w-]+)\]")


class MarkerError(SystemExit):
    pass


def markers(source: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        match = MARKER.search(line)
        if match:
            found.setdefault(match.group(1), []).append(number)
    return found


def check_markers() -> None:
    """Every guard has exactly its markers, in its file; no unknown markers anywhere."""
    for path in {file for file, _ in GUARDS.values()}:
        found = markers((ROOT / path).read_text())
        expected = {g: n for g, (file, n) in GUARDS.items() if file == path}
        for guard, lines in found.items():
            if guard not in expected:
                raise MarkerError(f"{path}:{lines[0]}: unknown guard marker {guard!r}")
        for guard, count in expected.items():
            if len(found.get(guard, [])) != count:
                raise MarkerError(
                    f"{path}: guard {guard!r} needs {count} marker(s), found "
                    f"{len(found.get(guard, []))} (lines {found.get(guard, [])})"
                )


def _guarded_raise(tree: ast.Module, line: int, where: str) -> ast.Raise:
    """The ``raise`` a marker on ``line`` points at: the statement itself or the if's only one."""
    statements = [
        node for node in ast.walk(tree) if isinstance(node, ast.stmt) and node.lineno == line
    ]
    if len(statements) != 1:
        raise MarkerError(f"{where}: the marker is not on the first line of one statement")
    node = statements[0]
    if isinstance(node, ast.If):
        if len(node.body) != 1 or not isinstance(node.body[0], ast.Raise) or node.orelse:
            raise MarkerError(f"{where}: a marked if must hold exactly one raise and no else")
        node = node.body[0]
    if not isinstance(node, ast.Raise):
        raise MarkerError(f"{where}: the marker is not on a raise or on an if around one")
    return node


def remove_guard(source: str, guard: str, path: str) -> str:
    """``source`` with every ``raise`` marked ``guard`` replaced by ``pass`` (checked)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    targets = [
        _guarded_raise(tree, line, f"{path}:{line}") for line in markers(source).get(guard, [])
    ]
    if not targets:
        raise MarkerError(f"{path}: no marker for guard {guard!r}")
    for node in sorted(targets, key=lambda n: n.lineno, reverse=True):
        indent = " " * node.col_offset
        lines[node.lineno - 1 : node.end_lineno] = [f"{indent}pass  # guard removed: {guard}\n"]
    mutated = "".join(lines)
    after = ast.parse(mutated)  # still valid Python
    raises_before = sum(isinstance(n, ast.Raise) for n in ast.walk(tree))
    raises_after = sum(isinstance(n, ast.Raise) for n in ast.walk(after))
    if raises_before - raises_after != len(targets):
        raise MarkerError(f"{path}: removing {guard!r} did not remove exactly its raise(s)")
    return mutated


def scratch_copy(into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "var", ".venv", ".git", "screenshots")
    for name in ("anagen", "tests"):
        shutil.copytree(ROOT / name, into / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", into / "pyproject.toml")
    (into / "var").mkdir()


def run_property_test(cwd: Path) -> tuple[int, str]:
    env = dict(os.environ, ANAGEN_STATEFUL_NO_SHRINK="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-s", "-p", "no:xdist"]
    command += ["-p", "no:cacheprovider", TEST]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


def imported_from(output: str) -> str:
    match = re.search(r"anagen imported from (\S+)", output)
    return match.group(1) if match else "?"


def check(guard: str) -> tuple[bool, str]:
    """(caught, by what) for the property test run without ``guard``."""
    path, _ = GUARDS[guard]
    with tempfile.TemporaryDirectory(prefix=f"anagen-guard-{guard}-") as scratch:
        copy = Path(scratch)
        scratch_copy(copy)
        target = copy / path
        target.write_text(remove_guard(target.read_text(), guard, path))
        code, output = run_property_test(copy)
        where = imported_from(output)
        if not where.startswith(str(copy.resolve())) and not where.startswith(str(copy)):
            raise SystemExit(f"{guard}: the test imported anagen from {where}, not the copy")
    if code == 0:
        return False, "the property test passed without the guard"
    failures = [line for line in output.splitlines() if line.startswith("E ")]
    caught = CAUGHT.search("\n".join(failures)) or CAUGHT.search(output)
    if caught:
        return True, caught.group(1)
    tail = failures[-1] if failures else output.strip().splitlines()[-1]
    return True, f"(unlabelled failure) {tail.strip()[:120]}"


def main(argv: list[str]) -> int:
    check_markers()
    chosen = argv or list(GUARDS)
    unknown = set(chosen) - set(GUARDS)
    if unknown:
        raise SystemExit(f"unknown guard(s): {', '.join(sorted(unknown))}")
    examples = os.environ.get("ANAGEN_STATEFUL_EXAMPLES", "the test's default")
    print(f"guards: {len(chosen)} mutants of {TEST}, {examples} examples each", flush=True)
    survived = []
    started = time.monotonic()
    for n, guard in enumerate(chosen, start=1):
        print(f"  [{n}/{len(chosen)}] removing {guard} ...", end="", flush=True)
        t0 = time.monotonic()
        caught, by = check(guard)
        print("\r\x1b[2K" if sys.stdout.isatty() else "\n", end="")
        print(f"  [{n}/{len(chosen)}] ", end="")
        verdict = "caught  " if caught else "SURVIVED"
        print(f"{guard:28} {verdict} {by} ({time.monotonic() - t0:.0f} s)", flush=True)
        if not caught:
            survived.append(guard)
    print(
        f"guards: {len(chosen) - len(survived)}/{len(chosen)} caught in "
        f"{time.monotonic() - started:.0f} s"
        + (f"; SURVIVED: {', '.join(survived)}" if survived else "")
    )
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
