"""The error vocabulary of the core. Edges (CLI, HTTP) translate these into messages and codes."""

from index.errors import IndexingError


class RagError(Exception):
    """Base class for errors a person can act on."""


class BadRequest(RagError):
    """The caller's input is wrong (empty question, bad date, k out of range)."""


class NotFound(RagError):
    """What the caller asked for (a document, say) does not exist."""


class BackendUnavailable(RagError):
    """A configured backend (Chroma server, LLM server) cannot be reached or failed."""


class ModelError(RagError):
    """A packaged model is missing, incomplete or fails its checksum."""


__all__ = ["BackendUnavailable", "BadRequest", "IndexingError", "ModelError", "NotFound", "RagError"]
