"""Write a benchmark's table into README.md between its own markers.

Each benchmark owns a section ``<!-- bench:NAME -->`` … ``<!-- /bench:NAME -->`` in the README and
a full copy under ``docs/benchmarks/NAME.md``; numbers in the README therefore always come from
the last ``make bench`` run.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def publish(name: str, markdown: str, docs_markdown: str | None = None) -> None:
    """Replace the README section of benchmark ``name`` and write ``docs/benchmarks/NAME.md``.

    ``docs_markdown`` (default: ``markdown``) is the docs copy, for links relative to
    ``docs/benchmarks/`` (e.g. a figure under ``docs/figures/``).
    """
    docs = ROOT / "docs" / "benchmarks"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / f"{name}.md").write_text((docs_markdown or markdown).rstrip() + "\n")
    readme = ROOT / "README.md"
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = readme.read_text() if readme.exists() else ""
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    readme.write_text(text)
