"""The error vocabulary of the core. Edges (CLI, chat, HTTP) translate these into messages and codes.

Every error a person can act on derives from `RagError` (defined in index.errors, so the index's
`IndexingError` shares the root).
"""

from index.errors import IndexingError, RagError


class BadRequest(RagError):
    """The caller's input is wrong (empty question, bad date, k out of range)."""


class NotFound(RagError):
    """What the caller asked for (a document, say) does not exist."""


class Conflict(RagError):
    """The request clashes with what is indexed (an id that belongs to another file)."""


class BackendUnavailable(RagError):
    """A configured backend (Chroma server, LLM server) cannot be reached or failed."""


class ConfigError(RagError):
    """The server or command is configured wrongly (a bad setting, an unusable RAG_DATA_DIR): the
    operator fixes it, not the caller."""


class ModelError(ConfigError):
    """A packaged model is missing, incomplete or fails its checksum."""


__all__ = [
    "BackendUnavailable",
    "BadRequest",
    "ConfigError",
    "Conflict",
    "IndexingError",
    "ModelError",
    "NotFound",
    "RagError",
]
