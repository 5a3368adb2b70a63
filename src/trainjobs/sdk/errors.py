"""The one exception type of the client side, and its few specialisations."""

from __future__ import annotations

# Codes for failures that happen before (or instead of) an answer from the
# service. They are not ModelArts codes, so they cannot be mistaken for one.
UNREACHABLE = "trainjobs.unreachable"
NO_CREDENTIALS = "trainjobs.no_credentials"
BAD_RESPONSE = "trainjobs.bad_response"
CLIENT_ERROR = "trainjobs.client_error"


class ModelArtsError(Exception):
    """A call failed: the service refused it, or it never got an answer.

    ``http_status`` is the service's HTTP status, or 0 when the failure was
    found on this side (service unreachable, bad argument, no credentials).
    ``error_msg`` repeats ``error_message``: the legacy SDK read that spelling.
    """

    def __init__(self, error_code: str, error_message: str, http_status: int = 0) -> None:
        super().__init__(f"{error_code}: {error_message}")
        self.error_code = error_code
        self.error_message = error_message
        self.http_status = http_status

    @property
    def error_msg(self) -> str:
        return self.error_message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(error_code={self.error_code!r}, "
            f"error_message={self.error_message!r}, http_status={self.http_status})"
        )


class ServiceUnreachable(ModelArtsError):
    def __init__(self, endpoint: str) -> None:
        super().__init__(
            UNREACHABLE,
            f"cannot reach the trainjobs service at {endpoint}: is `trainjobs serve` running?",
        )
        self.endpoint = endpoint


class CredentialsNotFound(ModelArtsError):
    def __init__(self, message: str) -> None:
        super().__init__(NO_CREDENTIALS, message)


class InvalidArgument(ModelArtsError):
    """A call the client refuses before sending it, carrying the code the service would use."""

    def __init__(self, error_code: str, error_message: str) -> None:
        super().__init__(error_code, error_message)
