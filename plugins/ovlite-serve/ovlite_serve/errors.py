"""Errors a request can meet, each with its HTTP status; answered as KServe error bodies."""

from __future__ import annotations


class ServeError(Exception):
    """A request failed in a way the client is told about: ``{"error": message}``."""

    status = 500

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__

    def headers(self) -> dict[str, str]:
        return {}


class BadRequestError(ServeError):
    """The request is malformed or does not fit the model (names, shapes, datatypes)."""

    status = 400


class ModelNotFoundError(ServeError):
    """The request names a model (or version) the server does not serve."""

    status = 404


class PayloadTooLargeError(ServeError):
    """The request body is larger than ``--max-body-bytes``."""

    status = 413


class QueueFullError(ServeError):
    """The model's queue is full: retry later (503 with ``Retry-After``)."""

    status = 503

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class ShuttingDownError(QueueFullError):
    """The server is stopping and takes no new inferences."""


class RequestTimeoutError(ServeError):
    """The inference did not finish within ``--timeout`` seconds (504)."""

    status = 504


class InferenceFailedError(ServeError):
    """The device failed while running the inference."""

    status = 500
