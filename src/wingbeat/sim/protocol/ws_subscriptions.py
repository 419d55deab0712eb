"""Websocket subscription requests of the local exchange: which exist, and their normalised form
(the key of the hub's fan-out index, and the echo in ``subscriptionResponse``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wingbeat.sim.protocol.ws_user_channels import DEX_TYPES, SNAPSHOT_TYPES, STATE_TYPES

__all__ = ["CANDLE_INTERVALS_MS", "InvalidSubscription", "Subscription", "parse_subscription"]

_MINUTE = 60_000
CANDLE_INTERVALS_MS: dict[str, int] = {
    "1m": _MINUTE,
    "3m": 3 * _MINUTE,
    "5m": 5 * _MINUTE,
    "15m": 15 * _MINUTE,
    "30m": 30 * _MINUTE,
    "1h": 60 * _MINUTE,
    "2h": 120 * _MINUTE,
    "4h": 240 * _MINUTE,
    "8h": 480 * _MINUTE,
    "12h": 720 * _MINUTE,
    "1d": 1440 * _MINUTE,
    "3d": 3 * 1440 * _MINUTE,
    "1w": 7 * 1440 * _MINUTE,
    "1M": 30 * 1440 * _MINUTE,
}
_COIN_TYPES = frozenset({"l2Book", "trades", "bbo", "candle", "activeAssetCtx"})
_USER_TYPES = (
    frozenset({"orderUpdates", "userFills", "userEvents", "userFundings", "notification"}) | SNAPSHOT_TYPES
)
_CHANNEL = {"userEvents": "user"}  # every other subscription type names its own channel


@dataclass(frozen=True, slots=True)
class Subscription:
    """A normalised subscription: the key of the fan-out index."""

    type: str
    coin: str | None = None
    user: str | None = None
    interval: str | None = None
    n_sig_figs: int | None = None
    mantissa: int | None = None
    dex: str | None = None

    def echo(self) -> dict[str, Any]:
        """The subscription as ``subscriptionResponse`` echoes it."""
        out: dict[str, Any] = {"type": self.type}
        if self.coin is not None:
            out["coin"] = self.coin
        if self.user is not None:
            out["user"] = self.user
        if self.interval is not None:
            out["interval"] = self.interval
        if self.n_sig_figs is not None:
            out["nSigFigs"] = self.n_sig_figs
        if self.mantissa is not None:
            out["mantissa"] = self.mantissa
        if self.dex is not None:
            out["dex"] = self.dex
        return out

    @property
    def channel(self) -> str:
        """The channel name its messages carry (``activeAssetCtx`` of a spot pair, whose name has a
        ``/`` or starts with ``@``, arrives on ``activeSpotAssetCtx``)."""
        if (
            self.type == "activeAssetCtx"
            and self.coin is not None
            and ("/" in self.coin or self.coin[:1] == "@")
        ):
            return "activeSpotAssetCtx"
        return _CHANNEL.get(self.type, self.type)


class InvalidSubscription(Exception):
    """A subscription Hyperliquid would answer ``Invalid subscription`` to."""


def _dex(raw: dict[str, Any], is_dex: Callable[[str], bool] | None) -> str | None:
    """The ``dex`` of a subscription: None for the main dex (absent or ``""``), else a builder
    dex's name."""
    dex = raw.get("dex")
    if dex is None or dex == "":
        return None
    if not isinstance(dex, str) or is_dex is None or not is_dex(dex):
        raise InvalidSubscription
    return dex


def parse_subscription(
    raw: Any, asset_index: Callable[[str], int | None], is_dex: Callable[[str], bool] | None = None
) -> Subscription:
    """The normalised subscription of a subscribe/unsubscribe request; InvalidSubscription if none.
    ``is_dex`` tells whether a ``dex`` field names a builder dex of the venue (``allMids`` and the
    account channels of ``DEX_TYPES`` take one)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise InvalidSubscription
    kind = raw["type"]
    if kind == "allMids":
        return Subscription("allMids", dex=_dex(raw, is_dex))
    coin = user = interval = dex = None
    n_sig_figs = mantissa = None
    if kind in _COIN_TYPES or kind == "activeAssetData":
        coin = raw.get("coin")
        if not isinstance(coin, str) or asset_index(coin) is None:
            raise InvalidSubscription
    if kind in _USER_TYPES or kind in STATE_TYPES:
        user = raw.get("user")
        if not isinstance(user, str) or len(user) != 42 or not user.startswith("0x"):
            raise InvalidSubscription
        user = user.lower()
    elif kind not in _COIN_TYPES:
        raise InvalidSubscription
    if kind == "candle":
        interval = raw.get("interval")
        if not isinstance(interval, str) or interval not in CANDLE_INTERVALS_MS:
            raise InvalidSubscription
    if kind == "l2Book":
        n_sig_figs = raw.get("nSigFigs")
        mantissa = raw.get("mantissa")
        if n_sig_figs not in (None, 2, 3, 4, 5) or mantissa not in (None, 1, 2, 5):
            raise InvalidSubscription
        if mantissa is not None and n_sig_figs != 5:
            raise InvalidSubscription
    if kind in DEX_TYPES:
        dex = _dex(raw, is_dex)
    return Subscription(kind, coin, user, interval, n_sig_figs, mantissa, dex)
