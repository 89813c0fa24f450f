"""``common`` is the bottom layer of the clinic: it imports none of the clinical apps.

Every app may use ``common`` (forms, uploads, the clock, append-only triggers, scalp zones);
if ``common`` imported an app back, the cycle that ``core`` was would start again.
"""

from __future__ import annotations

import ast
from pathlib import Path

import anagen.clinic.common

ABOVE_COMMON = ("patients", "intake", "assessment", "treatment", "imaging", "audit", "demo")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_common_imports_no_clinical_app():
    root = Path(anagen.clinic.common.__file__).parent
    offending = {
        f"{path.relative_to(root)}: {name}"
        for path in root.rglob("*.py")
        for name in _imports(path)
        if name.startswith(tuple(f"anagen.clinic.{app}" for app in ABOVE_COMMON))
    }
    assert not offending, sorted(offending)
