"""Hyperliquid's per-IP websocket limits, kept by the local exchange's websocket hub.

Per client IP, across its connections (Hyperliquid's documented defaults): 100 connections, 1000
subscriptions, 10 distinct users in user-specific subscriptions, 2000 messages sent per minute,
100 posts waiting for their answer. The refusal texts are the ones Hyperliquid sends as
``{"channel": "error", "data": TEXT}`` (seen by SDK authors); a connection over the cap is
answered HTTP 429 before the upgrade, since its real answer is not documented.

Every count lives only while it is non-zero: an IP whose sockets are all closed holds no state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RELAXED_WS_LIMITS", "WsIpLimits", "WsLimitConfig"]

_MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True, kw_only=True)
class WsLimitConfig:
    """The per-IP websocket caps; the defaults are Hyperliquid's."""

    connections: int = 100
    subscriptions: int = 1000
    users: int = 10
    messages_per_minute: int = 2000
    inflight_posts: int = 100

    def __post_init__(self) -> None:
        if (
            min(
                self.connections,
                self.subscriptions,
                self.users,
                self.messages_per_minute,
                self.inflight_posts,
            )
            <= 0
        ):
            raise ValueError("websocket limits must be positive")


# for load tests and benchmarks that open many connections from one loopback address
RELAXED_WS_LIMITS = WsLimitConfig(
    connections=100_000,
    subscriptions=10_000_000,
    users=100_000,
    messages_per_minute=100_000_000,
    inflight_posts=100_000,
)


@dataclass(slots=True)
class _IpState:
    connections: int = 0
    subscriptions: int = 0
    users: dict[str, int] = field(default_factory=dict)  # user -> its user-specific subscriptions
    inflight: int = 0
    window_start_ms: int = 0
    window_messages: int = 0

    def idle(self) -> bool:
        return not (self.connections or self.subscriptions or self.users or self.inflight)


class WsIpLimits:
    """Counts of every client IP; each ``try_*`` either takes a slot or says why not."""

    def __init__(self, config: WsLimitConfig | None = None) -> None:
        self.config = config or WsLimitConfig()
        self._ips: dict[str, _IpState] = {}

    @property
    def tracked_ips(self) -> int:
        """IPs with any open connection, subscription or pending post."""
        return len(self._ips)

    def _state(self, ip: str) -> _IpState:
        state = self._ips.get(ip)
        if state is None:
            state = self._ips[ip] = _IpState()
        return state

    def _release(self, ip: str, state: _IpState) -> None:
        if state.idle():
            self._ips.pop(ip, None)

    def try_connect(self, ip: str) -> bool:
        """Take a connection slot; False when the IP holds the maximum."""
        state = self._state(ip)
        if state.connections >= self.config.connections:
            self._release(ip, state)
            return False
        state.connections += 1
        return True

    def disconnect(self, ip: str) -> None:
        """Give back a connection slot (its subscriptions and posts are given back one by one)."""
        state = self._ips.get(ip)
        if state is not None:
            state.connections = max(state.connections - 1, 0)
            self._release(ip, state)

    def try_message(self, ip: str, now_ms: int) -> str | None:
        """Count one client message; the error text once the minute's budget is spent."""
        state = self._state(ip)
        if now_ms - state.window_start_ms >= _MINUTE_MS:
            state.window_start_ms, state.window_messages = now_ms, 0
        if state.window_messages >= self.config.messages_per_minute:
            return f"Cannot send more than {self.config.messages_per_minute} messages per minute."
        state.window_messages += 1
        return None

    def try_subscribe(self, ip: str, user: str | None) -> str | None:
        """Take a subscription slot (and a user slot for a new user); the error text if refused."""
        state = self._state(ip)
        if state.subscriptions >= self.config.subscriptions:
            return f"Cannot subscribe to more than {self.config.subscriptions} channels."
        if user is not None and user not in state.users and len(state.users) >= self.config.users:
            return f"Cannot track more than {self.config.users} total users."
        state.subscriptions += 1
        if user is not None:
            state.users[user] = state.users.get(user, 0) + 1
        return None

    def unsubscribe(self, ip: str, user: str | None) -> None:
        """Give back a subscription slot taken by `try_subscribe`."""
        state = self._ips.get(ip)
        if state is None:
            return
        state.subscriptions = max(state.subscriptions - 1, 0)
        if user is not None and user in state.users:
            state.users[user] -= 1
            if not state.users[user]:
                del state.users[user]
        self._release(ip, state)

    def try_post(self, ip: str, post_id: object) -> str | None:
        """Take an in-flight post slot until `post_answered`; the error text if refused."""
        state = self._state(ip)
        if state.inflight >= self.config.inflight_posts:
            return f"too many pending post requests id={post_id}"
        state.inflight += 1
        return None

    def post_answered(self, ip: str) -> None:
        """Give back an in-flight post slot."""
        state = self._ips.get(ip)
        if state is not None:
            state.inflight = max(state.inflight - 1, 0)
            self._release(ip, state)
