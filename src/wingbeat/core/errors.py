"""One error hierarchy for all of wingbeat; exchange-specific errors are translated into it at the boundary.

Retry decisions are made on the class (definite rejection vs. transport fault), never on message text.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ExchangeRejection",
    "InvalidOrderError",
    "JournalError",
    "NotReadyError",
    "RateLimitedError",
    "RequestTimeout",
    "TransportError",
    "WingbeatError",
]


class WingbeatError(Exception):
    """Root of every error raised by wingbeat."""


class TransportError(WingbeatError, ConnectionError):
    """The request could not be delivered or its answer was lost (connection refused / reset, 5xx, bad frame).

    The outcome is unknown: an order request that failed this way may still have reached the exchange.
    """


class RequestTimeout(WingbeatError, TimeoutError):
    """No answer within the deadline; like :class:`TransportError`, the outcome is unknown."""


class RateLimitedError(WingbeatError):
    """The exchange refused the request because a rate limit was exceeded (HTTP 429 or equivalent)."""

    def __init__(self, message: str = "rate limited", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        """Seconds the exchange asked us to wait, when it said so."""


class AuthenticationError(WingbeatError):
    """The exchange did not accept our credentials or signature (wrong key, unknown agent wallet)."""


class ExchangeRejection(WingbeatError):
    """The exchange answered and said no: a definite outcome, nothing was done, retrying as-is will not help."""

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        """The exchange's own explanation."""
        self.code = code
        """A machine-readable code when the venue provides one."""


class InvalidOrderError(WingbeatError, ValueError):
    """An order request was refused locally before anything was sent (bad pair, size, price, type)."""


class NotReadyError(WingbeatError):
    """The component was used before ``start()`` finished or after ``stop()``."""


class JournalError(WingbeatError):
    """The durable order journal could not be opened, read or written."""
