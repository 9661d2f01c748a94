"""Errors a user can cause, each mapped to an exit code by the CLI."""


class NameclsError(Exception):
    """A failure the CLI reports as one line, `Error: ...`, with exit code 1."""

    exit_code = 1


class UsageError(NameclsError):
    """Bad input or a bad option value: exit code 2."""

    exit_code = 2


class DataError(NameclsError):
    """A data folder that is missing, empty or unreadable."""


class CheckpointError(NameclsError):
    """A model file that is missing, corrupt or of an unknown format."""
