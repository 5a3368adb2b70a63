"""Domain errors: one type per condition a caller can act on.

The API layer maps each type to its HTTP status and ModelArts code; the domain
only says what went wrong.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the service reports to a caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameter(DomainError):
    pass


class DuplicateJobName(DomainError):
    pass


class UnknownEngine(DomainError):
    pass


class UnknownSpec(DomainError):
    pass


class UnknownDataset(DomainError):
    pass


class TooManyWorkers(DomainError):
    pass


class IncompleteCustomImage(DomainError):
    pass


class InvalidCodeDir(DomainError):
    pass


class InvalidBootFile(DomainError):
    pass


class InvalidStorePath(DomainError):
    pass


class QuotaExceeded(DomainError):
    pass


class MissingToken(DomainError):
    pass


class ExpiredToken(DomainError):
    pass


class InvalidToken(DomainError):
    pass


class ProjectMismatch(DomainError):
    pass


class InvalidSignature(DomainError):
    """An AK/SK-signed request that is malformed, unknown, tampered with, stale or replayed."""


class AuthenticationFailed(DomainError):
    """Credentials offered for a token (password, access key) were not accepted."""


class NotFound(DomainError):
    pass


class LogFileNotFound(DomainError):
    pass


class StatusConflict(DomainError):
    """The operation is not allowed in the version's current status."""


class RateLimited(DomainError):
    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
