"""Canonical error codes and their REST / gRPC spellings, as TensorFlow Serving uses them.

Every failure inside the server is raised as a `ServingError(code, message)`; the REST
handler turns it into an HTTP status plus `{"error": message}` and the gRPC servicers into
the matching `grpc.StatusCode`, so both protocols agree on every error.

Example:
    >>> from serving.errors import ServingError, not_found
    >>> err = not_found("Servable not found for request: Latest(foo)")
    >>> err.http_status, err.grpc_code.name
    (404, 'NOT_FOUND')
"""

import grpc

# Canonical code name -> HTTP status, as in TF Serving's http_server / status_util.
_HTTP_STATUS = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


class ServingError(Exception):
    """A request failure with a canonical code (a `grpc.StatusCode` name) and a message.

    Args:
        code: str. Canonical code name, e.g. "NOT_FOUND".
        message: str. Human-readable message, TF Serving's wording where known.
        http_status: optional int. Where HTTP has a better status than the code's (413 for a
            body over the size limit, which is RESOURCE_EXHAUSTED over gRPC).
    """

    def __init__(self, code, message, http_status=None):
        super().__init__(message)
        if code not in _HTTP_STATUS:
            raise ValueError(f"Unknown canonical code {code!r}; known: {sorted(_HTTP_STATUS)}")
        self.code = code
        self.message = message
        self._http_status = http_status

    @property
    def http_status(self):
        return self._http_status or _HTTP_STATUS[self.code]

    @property
    def grpc_code(self):
        return grpc.StatusCode[self.code]

    @property
    def tf_error_code(self):
        """The `tensorflow.error.Code` enum value (same numbering as gRPC)."""
        return self.grpc_code.value[0]

    def __repr__(self):
        return f"ServingError({self.code}, {self.message!r})"


def invalid_argument(message):
    return ServingError("INVALID_ARGUMENT", message)


def not_found(message):
    return ServingError("NOT_FOUND", message)


def failed_precondition(message):
    return ServingError("FAILED_PRECONDITION", message)


def internal(message):
    return ServingError("INTERNAL", message)


def unavailable(message):
    return ServingError("UNAVAILABLE", message)


def unimplemented(message):
    return ServingError("UNIMPLEMENTED", message)


def error_from_exception(e):
    """Any exception -> ServingError. An unexpected one is a server fault: INTERNAL, with a
    message that names no Python class or internals (the traceback goes to the log)."""
    if isinstance(e, ServingError):
        return e
    return ServingError("INTERNAL", "Internal server error; the server log has the details")
