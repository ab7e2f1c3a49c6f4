"""The root of the project's error vocabulary, and the index's own error.

`RagError` lives here, not in rag/, so that index/ need not import rag/; `rag.errors` re-exports it.
The edges catch `RagError` once and turn it into a one-line message or an HTTP status.
"""


class RagError(Exception):
    """Base class for errors a person can act on (bad input, a missing file, bad configuration)."""


class IndexingError(RagError):
    """A user-fixable problem with the input: a missing path, an unreadable or undecodable file."""
