"""HyperliquidRestClient end to end against the local exchange over loopback HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from wingbeat.core.errors import ExchangeRejection, RateLimitedError, RequestTimeout, TransportError
from wingbeat.core.throttler import WeightedRateLimiter
from wingbeat.hyperliquid.constants import (
    MAINNET_API_URL,
    MAINNET_WS_URL,
    TESTNET_API_URL,
    TESTNET_WS_URL,
    action_weight,
    info_weight,
    resolve_network,
)
from wingbeat.hyperliquid.rest import HyperliquidRestClient, classify_exchange_error
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
CLOID = "0x" + "ab" * 16
BTC = 0


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(liquidity=False) as ex:
        await ex.fund(ALICE)
        await ex.fund(BOB)
        yield ex


@pytest.fixture
async def client(exchange: LocalExchange) -> AsyncIterator[HyperliquidRestClient]:
    async with HyperliquidRestClient(exchange.base_url, timeout=5.0, backoff=(0.05, 0.2)) as rest:
        yield rest


def order(is_buy: bool, px: str, sz: str, tif: str = "Gtc", cloid: str | None = None) -> OrderRequest:
    return OrderRequest(BTC, is_buy, Decimal(px), Decimal(sz), False, tif, cloid=cloid)  # type: ignore[arg-type]


# --- constants ------------------------------------------------------------------------------


def test_resolve_network_names_and_urls() -> None:
    assert resolve_network("mainnet") == (MAINNET_API_URL, MAINNET_WS_URL, True)
    assert resolve_network("testnet") == (TESTNET_API_URL, TESTNET_WS_URL, False)
    assert resolve_network("http://127.0.0.1:8000/") == (
        "http://127.0.0.1:8000",
        "ws://127.0.0.1:8000/ws",
        False,
    )
    assert resolve_network("https://api.hyperliquid.xyz") == (MAINNET_API_URL, MAINNET_WS_URL, True)
    assert resolve_network("https://example.com")[1] == "wss://example.com/ws"
    with pytest.raises(ValueError, match="network"):
        resolve_network("ftp://x")


def test_weights_follow_hyperliquid_limits() -> None:
    assert info_weight("l2Book") == 2 and info_weight("meta") == 20 and info_weight("userRole") == 60
    assert info_weight("userFills", 100) == 25
    assert (
        action_weight(1) == 1 and action_weight(39) == 1 and action_weight(40) == 2 and action_weight(80) == 3
    )


def test_exchange_error_codes() -> None:
    assert classify_exchange_error("Invalid nonce: duplicate nonce 17") == "invalid_nonce"
    assert classify_exchange_error("L1 error: User or API Wallet 0xab does not exist.") == "unknown_signer"
    assert classify_exchange_error("something new") is None


# --- info -----------------------------------------------------------------------------------


async def test_meta_lists_the_local_markets(client: HyperliquidRestClient) -> None:
    meta = await client.meta()
    assert [a.name for a in meta.universe][:3] == ["BTC", "ETH", "SOL"]
    assert meta.universe[0].sz_decimals == 5 and meta.universe[0].asset == 0
    mac = await client.meta_and_asset_ctxs()
    ctx = mac.ctx_of(0)
    assert ctx is not None and ctx.mark_px > 0


async def test_resting_order_shows_in_book_open_orders_and_order_status(
    exchange: LocalExchange, client: HyperliquidRestClient
) -> None:
    exchange.engine.place_orders(ALICE, [order(True, "50000", "0.1", cloid=CLOID)])
    book = await client.l2_book("BTC")
    assert book.coin == "BTC" and (Decimal("50000"), Decimal("0.1")) in book.bids
    mids = await client.all_mids()
    assert set(mids) >= {"BTC", "ETH", "SOL"} and all(isinstance(px, Decimal) for px in mids.values())
    (resting,) = await client.frontend_open_orders(ALICE)
    assert resting.cloid == CLOID and resting.limit_px == Decimal("50000") and resting.is_buy
    assert (await client.open_orders(ALICE))[0].oid == resting.oid
    by_oid = await client.order_status(ALICE, resting.oid)
    by_cloid = await client.order_status(ALICE, CLOID)
    assert by_oid is not None and by_oid.status == "open"
    assert by_cloid is not None and by_cloid.order.oid == resting.oid
    assert await client.order_status(ALICE, 987654321) is None


async def test_fills_and_account_state_after_a_cross(
    exchange: LocalExchange, client: HyperliquidRestClient
) -> None:
    exchange.engine.place_orders(ALICE, [order(True, "50000", "0.1", cloid=CLOID)])
    exchange.engine.place_orders(BOB, [order(False, "50000", "0.04", tif="Ioc")])
    (fill,) = await client.user_fills(ALICE)
    assert fill.sz == Decimal("0.04") and fill.px == Decimal("50000") and not fill.crossed and fill.is_buy
    assert fill.cloid == CLOID and fill.tid is not None
    (taker,) = await client.user_fills_by_time(BOB, 0)
    assert taker.crossed and taker.fee > 0
    assert await client.user_fills_by_time(BOB, fill.time_ms + 60_000) == ()
    state = await client.clearinghouse_state(ALICE)
    (position,) = state.positions
    assert position.coin == "BTC" and position.szi == Decimal("0.04")
    limits = await client.user_rate_limit(ALICE)
    assert limits.n_requests_cap > 0
    assert await client.user_funding(ALICE, 0) == ()


async def test_unknown_info_type_is_a_definite_rejection(client: HyperliquidRestClient) -> None:
    with pytest.raises(ExchangeRejection, match="422"):
        await client.info({"type": "noSuchRequestType"})


# --- faults ---------------------------------------------------------------------------------


async def test_429_pauses_the_limiter_then_info_succeeds(exchange: LocalExchange) -> None:
    exchange.faults.add("rate_limit", count=1, path="/info")
    limiter = WeightedRateLimiter(1200, 1.0)  # refills fast: the wait is the 429 pause, not the refill
    async with HyperliquidRestClient(exchange.base_url, limiter=limiter, backoff=(0.05, 0.2)) as rest:
        meta = await rest.meta()
    assert meta.universe and exchange.faults.counters["rate_limit"] == 1
    assert limiter.throttled == 1 and limiter.waited_seconds >= 0.04


async def test_consecutive_429s_back_off_exponentially(exchange: LocalExchange) -> None:
    exchange.faults.add("rate_limit", count=2, path="/exchange")
    pauses: list[float] = []
    async with HyperliquidRestClient(exchange.base_url, backoff=(0.05, 1.0)) as rest:
        for _ in range(2):
            with pytest.raises(RateLimitedError) as info:
                await rest.exchange(_bogus_envelope(), weight=1)
            assert info.value.retry_after is not None
            pauses.append(info.value.retry_after)
        with pytest.raises(ExchangeRejection):  # the venue answers again: the backoff resets
            await rest.exchange(_bogus_envelope(), weight=1)
    assert pauses == [pytest.approx(0.05), pytest.approx(0.1)]


async def test_429_on_an_action_raises_rate_limited_and_backs_off(
    exchange: LocalExchange, client: HyperliquidRestClient
) -> None:
    exchange.faults.add("rate_limit", count=1, path="/exchange")
    with pytest.raises(RateLimitedError) as info:
        await client.exchange(_bogus_envelope(), weight=1)
    assert info.value.retry_after == pytest.approx(0.05)
    assert not client.limiter.try_acquire(1)  # paused: the next request waits out the backoff


@pytest.mark.parametrize(
    ("header", "expected"), [("99999999", 2.0), ("inf", 0.05), ("nan", 0.05), ("-3", 0.05)]
)
async def test_an_absurd_or_unreadable_retry_after_is_capped_or_ignored(
    exchange: LocalExchange, header: str, expected: float
) -> None:
    """A proxy's ``Retry-After: 99999999`` pauses for ``max_pause`` at most; a non-finite or negative one is
    ignored (the exponential backoff applies)."""
    exchange.faults.add("rate_limit", count=1, path="/exchange", retry_after=header)
    limiter = WeightedRateLimiter(1200, 60, max_pause=2.0)
    async with HyperliquidRestClient(
        exchange.base_url, limiter=limiter, timeout=1.0, backoff=(0.05, 0.2)
    ) as rest:
        with pytest.raises(RateLimitedError) as info:
            await rest.exchange(_bogus_envelope(), weight=1)
        assert info.value.retry_after == pytest.approx(expected)
        assert limiter.blocked_for <= expected
        if expected > 1.0:  # longer than the request deadline: the next request is refused at once, unsent
            started = time.monotonic()
            with pytest.raises(RateLimitedError):
                await rest.meta()
            assert time.monotonic() - started < 0.5
            assert exchange.faults.counters["rate_limit"] == 1


async def test_the_limiter_wait_counts_inside_the_request_deadline(exchange: LocalExchange) -> None:
    limiter = WeightedRateLimiter(100, 60, reserve=0)  # spent: the next weight comes in 0.6 s
    limiter.charge(100)
    async with HyperliquidRestClient(exchange.base_url, limiter=limiter, timeout=0.3, info_retries=0) as rest:
        started = time.monotonic()
        with pytest.raises(RateLimitedError):
            await rest.meta()
    assert time.monotonic() - started < 0.3


async def test_info_gives_up_after_its_retries(exchange: LocalExchange, exchange_url: str) -> None:
    exchange.faults.add("http_5xx", path="/info")
    async with HyperliquidRestClient(exchange_url, info_retries=1, backoff=(0.01, 0.01)) as rest:
        with pytest.raises(TransportError, match="502"):
            await rest.meta()
    assert exchange.faults.counters["http_5xx"] == 2


async def test_5xx_on_an_action_is_an_unknown_outcome(
    exchange: LocalExchange, client: HyperliquidRestClient
) -> None:
    exchange.faults.add("http_5xx", count=1, path="/exchange")
    with pytest.raises(TransportError):
        await client.exchange(_bogus_envelope(), weight=1)


async def test_lost_answer_is_an_unknown_outcome_not_a_rejection(
    exchange: LocalExchange, client: HyperliquidRestClient
) -> None:
    exchange.faults.add("lose_answer", count=1, path="/exchange")
    with pytest.raises(TransportError):
        await client.exchange(_bogus_envelope(), weight=1)


async def test_timeout_raises_request_timeout(exchange: LocalExchange, exchange_url: str) -> None:
    exchange.faults.add("timeout", count=1, path="/exchange", delay_ms=2_000)
    async with HyperliquidRestClient(exchange_url, timeout=0.2) as rest:
        with pytest.raises(RequestTimeout):
            await rest.exchange(_bogus_envelope(), weight=1)


async def test_status_err_reply_is_a_definite_rejection(client: HyperliquidRestClient) -> None:
    with pytest.raises(ExchangeRejection) as info:
        await client.exchange(_bogus_envelope(), weight=1)
    assert info.value.code in {"unknown_signer", "bad_signature"}


async def test_undeserialisable_action_is_a_definite_rejection(client: HyperliquidRestClient) -> None:
    with pytest.raises(ExchangeRejection) as info:
        await client.exchange({"action": {"type": "noSuchAction"}, "nonce": 1}, weight=1)
    assert info.value.code is not None and info.value.code.startswith("http_4")


async def test_connection_refused_is_a_transport_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with HyperliquidRestClient(f"http://127.0.0.1:{port}", info_retries=0) as rest:
        with pytest.raises(TransportError):
            await rest.meta()


async def test_limiter_makes_requests_wait_instead_of_earning_429(exchange: LocalExchange) -> None:
    limiter = WeightedRateLimiter(40, 0.5)
    async with HyperliquidRestClient(exchange.base_url, limiter=limiter) as rest:
        for _ in range(4):  # 4 x 20 weight on a 40 budget: the last two wait for refill
            await rest.meta()
    assert limiter.throttled >= 1 and "rate_limit" not in exchange.faults.counters


async def test_closed_client_refuses_requests(exchange: LocalExchange) -> None:
    rest = HyperliquidRestClient(exchange.base_url)
    await rest.meta()
    await rest.close()
    with pytest.raises(TransportError, match="closed"):
        await rest.meta()


@pytest.fixture
def exchange_url(exchange: LocalExchange) -> str:
    return exchange.base_url


def _bogus_envelope() -> dict[str, object]:
    """A well-formed order envelope with a signature of nobody: the exchange refuses it."""
    action = {
        "type": "order",
        "orders": [
            {"a": 0, "b": True, "p": "50000", "s": "0.001", "r": False, "t": {"limit": {"tif": "Gtc"}}}
        ],
        "grouping": "na",
    }
    signature = {"r": "0x" + "1" * 64, "s": "0x" + "2" * 64, "v": 27}
    return {
        "action": action,
        "nonce": int(time.time() * 1000),
        "signature": signature,
        "vaultAddress": None,
        "expiresAfter": None,
    }


def test_unknown_signer_is_recognised_without_the_l1_prefix() -> None:
    # both forms reach users: "L1 error: User or API Wallet 0x.. does not exist." and the bare text
    assert classify_exchange_error("User or API Wallet 0xab does not exist.") == "unknown_signer"
