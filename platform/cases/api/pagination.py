"""Page sizes of the list endpoints whose rows are large: a job's frames, each with its faces."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination

# A frame row carries up to detector.faces.MAX_FACES_PER_FRAME faces (16), each with its box, flags and
# per-detector scores (~300 bytes of JSON): 100 frames are at most ~0.5 MB and three queries.
# MAX_SAMPLE_FRAMES (300) makes a whole job three pages.
FRAMES_PAGE_SIZE = 100


class FramePagination(PageNumberPagination):
    """A job's frames in frame order; ``page_size`` may ask for fewer, never for more."""

    page_size = FRAMES_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = FRAMES_PAGE_SIZE
