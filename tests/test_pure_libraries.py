"""The pure libraries never import Django (they run in scripts, notebooks and other tools)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PURE = ["eligibility", "identity", "trichometry", "phantoms", "follicles", "evidence", "deidentify"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("library", PURE)
def test_a_pure_library_imports_without_django(library):
    probe = (
        "import importlib, pkgutil, sys\n"
        f"package = importlib.import_module('anagen.{library}')\n"
        "for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "    importlib.import_module(module.name)\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
