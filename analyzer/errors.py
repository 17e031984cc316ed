"""Exception hierarchy: every error a user can cause carries a one-line, user-facing message."""

from __future__ import annotations

__all__ = [
    "AnalyzerError",
    "ManifestError",
    "LimitExceeded",
    "UsageError",
    "IdentityError",
    "ClusterError",
]


class AnalyzerError(Exception):
    """Base class: ``str(err)`` is a complete one-line message for the user."""


class ManifestError(AnalyzerError):
    """A whole input (file, directory, stream) cannot be read at all."""


class LimitExceeded(ManifestError):
    """An input was refused because it exceeds a safety limit (size, depth, aliases, documents)."""


class UsageError(AnalyzerError):
    """The request itself is unusable (unknown resource type, conflicting flags, bad subject)."""


class IdentityError(AnalyzerError):
    """A kubeconfig, certificate or token cannot be read or resolved."""


class ClusterError(AnalyzerError):
    """Talking to a live cluster failed."""
