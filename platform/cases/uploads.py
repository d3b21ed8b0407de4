"""Upload handling: a hard size cap enforced while the body streams, sniffing by content.

The cap is checked chunk by chunk, so an oversized upload is refused before it is
written out in full; the type is decided from the file's first bytes, never its name.
"""

from __future__ import annotations

import filetype
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Containers and image formats the decoder is allowed to open. Anything else is refused
# at upload, whatever its extension says.
ALLOWED_MIME_TYPES: dict[str, str] = {
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/x-matroska": "video",
    "video/webm": "video",
    "video/x-msvideo": "video",
    "video/mpeg": "video",
    "video/x-m4v": "video",
    "image/jpeg": "image",
    "image/png": "image",
    "image/webp": "image",
    "image/bmp": "image",
    "image/tiff": "image",
}
SNIFF_BYTES = 8192


class SubmissionError(Exception):
    """A submission refused before anything is stored: shown to the client as a 4xx."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


class CappedUploadHandler(FileUploadHandler):
    """Stops an upload as soon as it passes ``MAX_UPLOAD_BYTES``."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0
        self.declared_too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # A declared length far past the cap is refused on the first chunk, before any is stored.
        self.declared_too_large = bool(content_length and content_length > settings.MAX_UPLOAD_BYTES + 64 * 1024)
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.declared_too_large or self.received > settings.MAX_UPLOAD_BYTES:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def sniff(head: bytes) -> tuple[str | None, str | None]:
    """(mime type, kind) from a file's first bytes; (None, None) when not allowed media."""
    kind = filetype.guess(head)
    if kind is None:
        return None, None
    mime = kind.mime
    return (mime, ALLOWED_MIME_TYPES[mime]) if mime in ALLOWED_MIME_TYPES else (mime, None)
