"""Stored file names carry no patient data: every saved file gets a random name.

An upload keeps its folder (``photos/``, ``trichoscopy/``…) and its extension, never the name it
was sent with (a photo called ``Rook_Ann_MRN-000123.jpg`` is stored as ``photos/3f9c….jpg``).
The mixin works with any Django storage backend; ``OpaqueFileSystemStorage`` is the default.
"""

from __future__ import annotations

import posixpath
import secrets

from django.core.files.storage import FileSystemStorage, Storage


class OpaqueNamesMixin(Storage):
    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        folder, base = posixpath.split(name.replace("\\", "/"))
        extension = posixpath.splitext(base)[1].lower()
        if not extension[1:].isalnum() or len(extension) > 6:
            extension = ""
        opaque = posixpath.join(folder, secrets.token_hex(16) + extension)
        return super().get_available_name(opaque, max_length=max_length)


class OpaqueFileSystemStorage(OpaqueNamesMixin, FileSystemStorage):
    """Files under ``MEDIA_ROOT`` with random names."""
