"""What a printed document says: the text WeasyPrint lays out on its pages."""

from __future__ import annotations


def laid_out_text(html: str) -> str:
    """Every piece of text WeasyPrint lays out for ``html``, in page order, space-joined."""
    from weasyprint import HTML

    document = HTML(string=html).render()
    texts: list[str] = []

    def walk(box):
        if getattr(box, "text", None):
            texts.append(box.text)
        for child in getattr(box, "children", []):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return " ".join(texts)
