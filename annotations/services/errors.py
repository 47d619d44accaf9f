"""Errors the services raise; the API's exception handler and the pages turn them into answers."""

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = ["ConflictError", "PermissionDenied", "ValidationError", "BusyError"]


class ConflictError(Exception):
    """The object changed since the caller read it (stale version): HTTP 409."""

    def __init__(self, message: str, *, current_version: int | None = None):
        super().__init__(message)
        self.message = message
        self.current_version = current_version


class BusyError(Exception):
    """A row lock could not be had in time: HTTP 503 with 'try again'."""
