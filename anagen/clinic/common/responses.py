"""Serving stored files (photos, images, signed PDFs) through permission-checked views."""

from __future__ import annotations

import mimetypes

from django.http import FileResponse, Http404


def stored_file_response(field_file, *, download_name: str | None = None) -> FileResponse:
    """Stream ``field_file``; 404 when empty. Views check access before calling this,
    so files never need a public media URL."""
    if not field_file:
        raise Http404("No file")
    content_type = mimetypes.guess_type(field_file.name)[0] or "application/octet-stream"
    return FileResponse(
        field_file.open("rb"),
        content_type=content_type,
        as_attachment=download_name is not None,
        filename=download_name or "",
    )
