"""The index's error vocabulary; the edges turn these into one-line messages."""


class IndexingError(Exception):
    """A user-fixable problem with the input: a missing path, an unreadable or undecodable file."""
