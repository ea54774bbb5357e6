"""Errors a user can cause and read: the CLI prints them as one line, the API as a 4xx."""

from __future__ import annotations


class ArgusError(Exception):
    """A problem with the user's input or request, explained in one sentence."""

    status_code = 400
    code = "bad_request"


class NotSignedInError(ArgusError):
    """No valid session, bearer token or API key came with the request."""

    status_code = 401
    code = "not_signed_in"


class ForbiddenError(ArgusError):
    """The caller is known but may not do this; the message says what would be needed."""

    status_code = 403
    code = "forbidden"


class NotFoundError(ArgusError):
    status_code = 404
    code = "not_found"


class ConflictError(ArgusError):
    status_code = 409
    code = "conflict"


class ConfigError(ArgusError):
    """The settings cannot be used as given."""


class FieldError(ArgusError):
    """One named field of a request is wrong; the API answers 422 naming it."""

    status_code = 422
    code = "invalid_field"

    def __init__(self, field: str, message: str, location: str = "query") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.location = location
