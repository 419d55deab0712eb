"""Fault injection for the local exchange: what the reliability tests throw at a connector.

A `FaultInjector` holds rules. Each rule has a kind, a probability and an optional count, and
optionally applies only to one path (``/info``, ``/exchange``) or one action type (``order``).
Draws come from one seeded ``random.Random`` so a run is reproducible, and ``counters`` says how
many faults of each kind were injected.

HTTP kinds (consulted by the server for each request, in this order):
``rate_limit`` (answer 429, with a ``Retry-After`` header when the rule has ``retry_after``: any
text, so that absurd values such as ``99999999`` or ``inf`` can be sent), ``timeout`` (hold the request ``delay_ms`` without applying it),
``http_5xx`` (answer ``status`` without applying), ``delay`` (answer late), ``lose_answer``
(apply the action, then drop the connection, or answer ``status`` when one is given).

The same kinds apply to websocket ``post`` requests (path ``/ws``): ``rate_limit`` and
``http_5xx`` answer an error payload, ``timeout`` never answers, ``delay`` answers late and
``lose_answer`` applies the action and drops the connection.

Websocket kinds: ``ws_duplicate`` (send a message twice), ``ws_reorder`` (hold a message back and
send it after the next one), plus silenced channels and dropping connections now or every N seconds.

An outage (``outage(seconds)``) takes the whole venue down for a while: every websocket is dropped, every
HTTP request is answered 503 unapplied and every new websocket is closed right after its handshake, until the
time is up.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["FaultInjector", "FaultKind", "FaultRule"]

_log = logging.getLogger("wingbeat.sim.protocol.faults")


class FaultKind(StrEnum):
    """Every kind of fault the local exchange can inject."""

    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    HTTP_5XX = "http_5xx"
    DELAY = "delay"
    LOSE_ANSWER = "lose_answer"
    WS_DUPLICATE = "ws_duplicate"
    WS_REORDER = "ws_reorder"


# counter names of the faults that are not rules
WS_DROP = "ws_drop"
SILENT_CHANNEL = "silent_channel"
OUTAGE = "outage"
OUTAGE_REFUSED = "outage_refused"


@dataclass(slots=True, kw_only=True)
class FaultRule:
    """One armed fault. ``count`` None means unlimited; it decreases each time the fault fires."""

    kind: FaultKind
    probability: float = 1.0
    count: int | None = None
    path: str | None = None
    action: str | None = None
    delay_ms: int = 0
    status: int | None = None
    retry_after: str | None = None

    def matches(self, path: str | None, action: str | None) -> bool:
        """Whether this rule applies to a request on ``path`` carrying an action of type ``action``."""
        if self.path is not None and path is not None and self.path != path:
            return False
        return self.action is None or self.action == action


class FaultInjector:
    """Seeded, run-time switchable faults with counters."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)
        self._rules: list[FaultRule] = []
        self._silent: set[str] = set()
        self._drop_listeners: list[Callable[[], None]] = []
        self.drop_interval_ms: int | None = None
        self.counters: dict[str, int] = {}
        self._outage_until = float("-inf")

    # -- arming -------------------------------------------------------------------------------
    def add(
        self,
        kind: FaultKind | str,
        *,
        probability: float = 1.0,
        count: int | None = None,
        path: str | None = None,
        action: str | None = None,
        delay_ms: int | None = None,
        status: int | None = None,
        retry_after: str | None = None,
    ) -> FaultRule:
        """Arm a fault; returns the rule (it can be passed to `remove`)."""
        kind = FaultKind(kind)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {probability}")
        if count is not None and count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        if status is not None and not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status, got {status}")
        if status is None and kind is FaultKind.HTTP_5XX:
            status = 502
        if delay_ms is None:
            delay_ms = 30_000 if kind is FaultKind.TIMEOUT else 200
        rule = FaultRule(
            kind=kind,
            probability=probability,
            count=count,
            path=path,
            action=action,
            delay_ms=max(delay_ms, 0),
            status=status,
            retry_after=retry_after,
        )
        self._rules.append(rule)
        _log.info("fault armed: %s", rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        """Disarm one rule (no-op when it is already gone)."""
        if rule in self._rules:
            self._rules.remove(rule)

    def clear(self, kind: FaultKind | str | None = None) -> None:
        """Disarm every rule (of ``kind`` when given), un-silence channels and stop periodic drops."""
        if kind is None:
            self._rules.clear()
            self._silent.clear()
            self.drop_interval_ms = None
            self._outage_until = float("-inf")
            return
        wanted = FaultKind(kind)
        self._rules = [r for r in self._rules if r.kind is not wanted]

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        """The armed rules."""
        return tuple(self._rules)

    @property
    def armed(self) -> bool:
        """Whether any rule or an outage is armed (what every request asks first, cheaply)."""
        return bool(self._rules) or self._outage_until > float("-inf")

    # -- outage -------------------------------------------------------------------------------
    def outage(self, seconds: float) -> None:
        """Take the venue down for ``seconds`` from now: every websocket dropped now, every request refused
        (HTTP 503, new websockets closed at once) until then."""
        if not seconds > 0:
            raise ValueError(f"an outage lasts a positive number of seconds, got {seconds}")
        self._outage_until = time.monotonic() + seconds
        self._count(OUTAGE)
        self.drop_websockets()

    def refuses(self) -> bool:
        """Whether the venue is down now (an outage); counted when it is."""
        if self._outage_until == float("-inf"):
            return False
        if time.monotonic() >= self._outage_until:
            self._outage_until = float("-inf")
            return False
        self._count(OUTAGE_REFUSED)
        return True

    # -- firing -------------------------------------------------------------------------------
    def fire(
        self, kind: FaultKind, *, path: str | None = None, action: str | None = None
    ) -> FaultRule | None:
        """The first armed rule of ``kind`` matching the request that fires on this draw, counted."""
        if not self._rules:
            return None
        for rule in self._rules:
            if rule.kind is not kind or not rule.matches(path, action):
                continue
            if rule.count is not None and rule.count <= 0:
                continue
            if rule.probability < 1.0 and self._random.random() >= rule.probability:
                continue
            if rule.count is not None:
                rule.count -= 1
            self._count(kind.value)
            return rule
        return None

    def _count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    # -- websocket ----------------------------------------------------------------------------
    def silence(self, channel: str, silent: bool = True) -> None:
        """Stop (or resume) sending ``channel`` to every websocket subscriber."""
        if silent:
            self._silent.add(channel)
        else:
            self._silent.discard(channel)

    def suppresses(self, channel: str) -> bool:
        """Whether a message on ``channel`` must be swallowed now (counted when it is)."""
        if channel in self._silent:
            self._count(SILENT_CHANNEL)
            return True
        return False

    def add_drop_listener(self, listener: Callable[[], None]) -> None:
        """Register the callable that closes every websocket connection (the server's hub)."""
        self._drop_listeners.append(listener)

    def drop_websockets(self) -> None:
        """Close every open websocket connection now."""
        self._count(WS_DROP)
        for listener in self._drop_listeners:
            try:
                listener()
            except Exception:
                _log.exception("websocket drop listener failed")

    def drop_websockets_every(self, seconds: float | None) -> None:
        """Close every websocket connection each ``seconds`` (None stops it)."""
        if seconds is not None and seconds <= 0:
            raise ValueError("the drop interval must be positive")
        self.drop_interval_ms = None if seconds is None else int(seconds * 1000)

    # -- admin --------------------------------------------------------------------------------
    def apply_command(self, command: Mapping[str, Any]) -> Any:
        """Run one ``/admin`` fault command; returns its JSON-able answer, ValueError on bad input.

        Commands (``type`` key): ``addFault`` (kind, probability, count, path, action, delayMs,
        status, retryAfter), ``clearFaults`` (optional kind), ``outage`` (seconds), ``dropWebsockets``, ``dropWebsocketsEvery``
        (seconds or null), ``silenceChannel`` (channel, silent), ``faultCounters``.
        """
        kind = command.get("type")
        if kind == "addFault":
            rule = self.add(
                _str(command, "kind"),
                probability=float(command.get("probability", 1.0)),
                count=_opt_int(command, "count"),
                path=_opt_str(command, "path"),
                action=_opt_str(command, "action"),
                delay_ms=_opt_int(command, "delayMs"),
                status=_opt_int(command, "status"),
                retry_after=_opt_str(command, "retryAfter"),
            )
            return {"kind": rule.kind.value, "count": rule.count, "probability": rule.probability}
        if kind == "clearFaults":
            self.clear(_opt_str(command, "kind"))
            return "ok"
        if kind == "dropWebsockets":
            self.drop_websockets()
            return "ok"
        if kind == "outage":
            self.outage(float(command.get("seconds", 0)))
            return "ok"
        if kind == "dropWebsocketsEvery":
            seconds = command.get("seconds")
            self.drop_websockets_every(None if seconds is None else float(seconds))
            return "ok"
        if kind == "silenceChannel":
            self.silence(_str(command, "channel"), bool(command.get("silent", True)))
            return "ok"
        if kind == "faultCounters":
            return dict(self.counters)
        raise ValueError(f"unknown fault command {kind!r}")


def _str(command: Mapping[str, Any], key: str) -> str:
    value = command.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _opt_str(command: Mapping[str, Any], key: str) -> str | None:
    value = command.get(key)
    return None if value is None else _str(command, key)


def _opt_int(command: Mapping[str, Any], key: str) -> int | None:
    value = command.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer")
    return value
