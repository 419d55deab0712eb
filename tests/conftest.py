"""Shared fixtures: a local exchange on loopback and funded throwaway traders.

``local_exchange``: a started `LocalExchange` on 127.0.0.1 (random free port), seed 0, admin
enabled, liquidity makers off (deterministic books), a fast funding interval and relaxed rate
limits. ``trader``: a throwaway key funded with 1,000,000 USDC on it. ``start_local_exchange``:
an async context manager factory for another exchange, liquidity on by default.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from wingbeat.sim import LocalExchange

FAST_FUNDING_INTERVAL_MS = 2_000
TRADER_FUNDS = Decimal(1_000_000)


@pytest.fixture(autouse=True)
def _decimal_context_restored() -> Any:
    """Each test starts from the thread's decimal context as it was and leaves it so: ccxt (a test-only
    peer) sets ROUND_HALF_UP and an Underflow trap on the global context whenever it formats a number,
    which made later tests' expected values depend on test order."""
    import decimal

    saved = decimal.getcontext().copy()
    yield
    decimal.setcontext(saved)


@dataclass(frozen=True, slots=True)
class Trader:
    """A throwaway account: ``key`` is the hex private key, ``address`` the lowercase 0x address."""

    key: str
    address: str

    def __repr__(self) -> str:
        return f"Trader(address={self.address!r})"  # never the key


def new_trader() -> Trader:
    """A fresh random key (never a real one) and its address."""
    import coincurve

    from wingbeat.hyperliquid.signing import address_from_public_key

    secret = secrets.token_bytes(32)
    return Trader("0x" + secret.hex(), address_from_public_key(coincurve.PrivateKey(secret).public_key))


def exchange_options(**overrides: Any) -> dict[str, Any]:
    """The fixture's `LocalExchange` keyword arguments, with ``overrides`` applied."""
    from wingbeat.sim.protocol.rate_limits import RELAXED_RATE_LIMITS

    options: dict[str, Any] = {
        "seed": 0,
        "host": "127.0.0.1",
        "port": 0,
        "admin": True,
        "liquidity": False,
        "funding_interval_ms": FAST_FUNDING_INTERVAL_MS,
        "rate_limits": RELAXED_RATE_LIMITS,
    }
    options.update(overrides)
    return options


@asynccontextmanager
async def _started(**overrides: Any) -> AsyncIterator[LocalExchange]:
    from wingbeat.sim import LocalExchange

    async with LocalExchange(**exchange_options(**overrides)) as ex:
        yield ex


@pytest.fixture
async def local_exchange() -> AsyncIterator[LocalExchange]:
    """A started local exchange (liquidity off, admin on, relaxed rate limits)."""
    async with _started() as ex:
        yield ex


@pytest.fixture
async def trader(local_exchange: LocalExchange) -> Trader:
    """A throwaway account funded with 1,000,000 USDC on ``local_exchange``."""
    t = new_trader()
    await local_exchange.fund(t.address, TRADER_FUNDS)
    return t


@pytest.fixture
def start_local_exchange() -> Callable[..., AbstractAsyncContextManager[LocalExchange]]:
    """``async with start_local_exchange(**overrides) as ex``: another exchange, liquidity ON by default."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[LocalExchange]:
        overrides.setdefault("liquidity", True)
        return _started(**overrides)

    return start


_last_nonce = 0


def next_nonce() -> int:
    """A fresh millisecond nonce, strictly increasing within the test process."""
    import time

    global _last_nonce
    _last_nonce = max(_last_nonce + 1, time.time_ns() // 1_000_000)
    return _last_nonce


def skip_nonces_through(nonce: int) -> None:
    """Make :func:`next_nonce` return only nonces above ``nonce``: one the same key already signed elsewhere
    (an ``AccountActions`` call has its own counter, and a nonce the venue saw twice is refused)."""
    global _last_nonce
    _last_nonce = max(_last_nonce, nonce)


def signed_body(
    key: str,
    action: dict[str, Any],
    *,
    nonce: int | None = None,
    vault_address: str | None = None,
    expires_after: int | None = None,
    is_mainnet: bool = False,
) -> dict[str, Any]:
    """An ``/exchange`` body for an L1 ``action`` signed with ``key`` (what the SDK posts)."""
    from wingbeat.hyperliquid.signing import sign_l1_action

    nonce = next_nonce() if nonce is None else nonce
    signature = sign_l1_action(key, action, vault_address, nonce, expires_after, is_mainnet)
    return {
        "action": action,
        "nonce": nonce,
        "signature": dict(signature),
        "vaultAddress": vault_address,
        "expiresAfter": expires_after,
    }


def limit_order_action(
    asset: int = 0,
    *,
    is_buy: bool = True,
    price: str = "50000",
    size: str = "0.001",
    tif: str = "Gtc",
    reduce_only: bool = False,
    cloid: str | None = None,
) -> dict[str, Any]:
    """An ``order`` action with one limit order, keys in the exchange's canonical order."""
    wire: dict[str, Any] = {
        "a": asset,
        "b": is_buy,
        "p": price,
        "s": size,
        "r": reduce_only,
        "t": {"limit": {"tif": tif}},
    }
    if cloid is not None:
        wire["c"] = cloid
    return {"type": "order", "orders": [wire], "grouping": "na"}
