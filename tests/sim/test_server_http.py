"""``/info``, ``/exchange`` and ``/admin`` over real loopback sockets."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import orjson
import pytest

from tests.conftest import Trader, limit_order_action, new_trader, signed_body
from wingbeat.sim import LocalExchange
from wingbeat.sim.protocol.rate_limits import RateLimitConfig


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def post(
    http: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = io.BytesIO(body if isinstance(body, bytes) else orjson.dumps(body))
    async with http.post(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    ) as resp:
        text = await resp.text()
        try:
            return resp.status, orjson.loads(text)
        except orjson.JSONDecodeError:
            return resp.status, text


async def test_info_meta_lists_the_default_markets(
    local_exchange: LocalExchange, http: aiohttp.ClientSession
) -> None:
    status, meta = await post(http, local_exchange.base_url + "/info", {"type": "meta", "dex": ""})
    assert status == 200
    assert [m["name"] for m in meta["universe"]] == ["BTC", "ETH", "SOL", "HYPE"]
    assert not local_exchange.base_url.endswith("/")


async def test_signed_order_rests_shows_in_open_orders_and_cancels(
    local_exchange: LocalExchange, trader: Trader, http: aiohttp.ClientSession
) -> None:
    url = local_exchange.base_url
    status, placed = await post(http, url + "/exchange", signed_body(trader.key, limit_order_action()))
    assert status == 200 and placed["status"] == "ok"
    oid = placed["response"]["data"]["statuses"][0]["resting"]["oid"]
    _, orders = await post(http, url + "/info", {"type": "openOrders", "user": trader.address, "dex": ""})
    assert [o["oid"] for o in orders] == [oid]
    cancel = {"type": "cancel", "cancels": [{"a": 0, "o": oid}]}
    _, canceled = await post(http, url + "/exchange", signed_body(trader.key, cancel))
    assert canceled == {"status": "ok", "response": {"type": "cancel", "data": {"statuses": ["success"]}}}


async def test_wrong_signature_and_replayed_nonce_get_the_exchange_errors(
    local_exchange: LocalExchange, trader: Trader, http: aiohttp.ClientSession
) -> None:
    url = local_exchange.base_url + "/exchange"
    stranger = new_trader()
    _, unknown = await post(http, url, signed_body(stranger.key, limit_order_action()))
    assert unknown == {"status": "err", "response": f"User or API Wallet {stranger.address} does not exist."}
    body = signed_body(trader.key, limit_order_action())
    await post(http, url, body)
    _, replay = await post(http, url, body)
    assert replay == {"status": "err", "response": f"Invalid nonce: duplicate nonce {body['nonce']}"}


@pytest.mark.parametrize(
    ("order", "error"),
    [
        ({"price": "50000.5"}, "Price must be divisible by tick size."),
        ({"size": "0.0001"}, "Order must have minimum value of $10."),
        ({"asset": 99}, "Invalid asset."),
    ],
)
async def test_invalid_orders_get_per_order_errors(
    local_exchange: LocalExchange,
    trader: Trader,
    http: aiohttp.ClientSession,
    order: dict[str, Any],
    error: str,
) -> None:
    _, answer = await post(
        http, local_exchange.base_url + "/exchange", signed_body(trader.key, limit_order_action(**order))
    )
    assert answer["status"] == "ok"
    assert answer["response"]["data"]["statuses"][0]["error"].startswith(error)


async def test_malformed_bodies_are_refused_and_the_server_keeps_serving(
    local_exchange: LocalExchange, trader: Trader, http: aiohttp.ClientSession
) -> None:
    url = local_exchange.base_url
    status, text = await post(http, url + "/exchange", b"{not json")
    assert status == 400 and text.startswith("Failed to parse the request body as JSON")
    status, text = await post(http, url + "/exchange", signed_body(trader.key, {"type": "teleport"}))
    assert status == 422 and text.startswith("Failed to deserialize the JSON body into the target type")
    status, text = await post(http, url + "/info", {"type": "noSuchInfo"})
    assert status == 422
    status, _ = await post(http, url + "/exchange", b"[" * 10 + b"1" + b"]" * 10)
    assert status == 422
    status, _ = await post(http, url + "/info", b"{" + b'"x":' * 10 + b"1}")
    assert status in (400, 422)
    status, text = await post(http, url + "/exchange", b'{"action":"' + b"x" * (3 * 1024 * 1024) + b'"}')
    assert status == 413
    status, _ = await post(http, url + "/info", {"type": "allMids"})
    assert status == 200


async def test_handler_bug_is_answered_500_and_the_server_keeps_serving(
    local_exchange: LocalExchange,
    trader: Trader,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the venue")

    monkeypatch.setattr(local_exchange.engine, "place_orders", broken)
    status, text = await post(
        http, local_exchange.base_url + "/exchange", signed_body(trader.key, limit_order_action())
    )
    assert status == 500 and "a bug" not in text
    monkeypatch.undo()
    status, answer = await post(
        http, local_exchange.base_url + "/exchange", signed_body(trader.key, limit_order_action())
    )
    assert status == 200 and answer["status"] == "ok"


async def test_ip_flood_gets_429_while_another_client_is_served(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> None:
    limits = RateLimitConfig(ip_weight_per_minute=100)
    async with (
        start_local_exchange(liquidity=False, rate_limits=limits) as ex,
        aiohttp.ClientSession() as flood,
    ):
        statuses = [(await post(flood, ex.base_url + "/info", {"type": "meta"}))[0] for _ in range(8)]
        assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3
        other = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(connector=other) as polite:
            status, _ = await post(polite, ex.base_url + "/info", {"type": "l2Book", "coin": "BTC"})
            assert status == 200


async def test_user_rate_limit_reports_actions_used(
    local_exchange: LocalExchange, trader: Trader, http: aiohttp.ClientSession
) -> None:
    await post(http, local_exchange.base_url + "/exchange", signed_body(trader.key, {"type": "noop"}))
    _, answer = await post(
        http, local_exchange.base_url + "/info", {"type": "userRateLimit", "user": trader.address}
    )
    assert answer["nRequestsUsed"] == 1
    assert answer["nRequestsCap"] == local_exchange.limiter.cap(trader.address)  # the cap that is enforced


async def test_admin_funds_an_account_and_arms_faults(
    local_exchange: LocalExchange, http: aiohttp.ClientSession
) -> None:
    newcomer = new_trader()
    url = local_exchange.base_url + "/admin"
    token = {"Authorization": f"Bearer {local_exchange.admin_token}"}
    fund = {"type": "fund", "user": newcomer.address, "amount": "2500"}
    status, answer = await post(http, url, fund, token)
    assert (status, answer) == (200, {"status": "ok", "response": "ok"})
    _, state = await post(
        http, local_exchange.base_url + "/info", {"type": "clearinghouseState", "user": newcomer.address}
    )
    assert state["marginSummary"]["accountValue"].startswith("2500")
    typo = {"type": "fund", "user": newcomer.address, "usdc": "5000", "dexes": {"xyz": "1000"}}
    status, text = await post(http, url, typo, token)
    assert status == 400 and "unknown: usdc" in text  # refused whole: nothing funded
    _, state = await post(
        http, local_exchange.base_url + "/info", {"type": "clearinghouseState", "user": newcomer.address}
    )
    assert state["marginSummary"]["accountValue"].startswith("2500")
    await post(http, url, {"type": "addFault", "kind": "http_5xx", "count": 1, "path": "/info"}, token)
    status, _ = await post(http, local_exchange.base_url + "/info", {"type": "meta"})
    assert status == 502
    other_header = {"X-Wingbeat-Admin-Token": local_exchange.admin_token}
    _, counters = await post(http, url, {"type": "faultCounters"}, other_header)
    assert counters["response"] == {"http_5xx": 1}
    status, _ = await post(http, url, {"type": "addFault", "kind": "bogus"}, token)
    assert status == 400
    status, text = await post(http, url, {"type": "setOraclePrice", "coin": "NOPE", "px": "1"}, token)
    assert status == 400 and "NOPE" in text


async def test_admin_refuses_a_cross_origin_form_post_and_a_missing_or_wrong_token(
    local_exchange: LocalExchange, http: aiohttp.ClientSession
) -> None:
    newcomer = new_trader()
    url = local_exchange.base_url + "/admin"
    fund = orjson.dumps({"type": "fund", "user": newcomer.address, "amount": "2500"})
    # what a browser page can send cross-origin without a preflight: text/plain, no custom header
    async with http.post(url, data=fund, headers={"Content-Type": "text/plain"}) as resp:
        assert resp.status == 415
    async with http.post(
        url,
        data=fund,
        headers={"Content-Type": "text/plain", "X-Wingbeat-Admin-Token": local_exchange.admin_token},
    ) as resp:
        assert resp.status == 415
    assert (await post(http, url, fund))[0] == 401
    assert (await post(http, url, fund, {"Authorization": "Bearer " + "x" * 32}))[0] == 401
    assert (await post(http, url, fund, {"Authorization": local_exchange.admin_token}))[0] == 401  # no scheme
    assert not local_exchange.engine.has_account(newcomer.address)
    assert (await post(http, url, fund, {"Authorization": f"bearer {local_exchange.admin_token}"}))[0] == 200
    assert local_exchange.engine.has_account(newcomer.address)


def test_admin_token_is_random_per_exchange_unless_given() -> None:
    first, second = LocalExchange(liquidity=False), LocalExchange(liquidity=False)
    assert first.admin_token != second.admin_token and len(first.admin_token) >= 16
    assert LocalExchange(admin_token="t" * 20).admin_token == "t" * 20
    with pytest.raises(ValueError, match="at least 16"):
        LocalExchange(admin_token="short")


async def test_admin_is_not_served_unless_enabled(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> None:
    async with start_local_exchange(liquidity=False, admin=False) as ex, aiohttp.ClientSession() as http:
        token = {"Authorization": f"Bearer {ex.admin_token}"}
        status, _ = await post(http, ex.base_url + "/admin", {"type": "faultCounters"}, token)
        assert status == 404


async def test_mainnet_chain_verifies_mainnet_signatures_only(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> None:
    async with start_local_exchange(liquidity=False, chain="mainnet") as ex, aiohttp.ClientSession() as http:
        t = new_trader()
        await ex.fund(t.address, 100_000)
        _, testnet = await post(http, ex.base_url + "/exchange", signed_body(t.key, {"type": "noop"}))
        assert testnet["status"] == "err" and "does not exist" in testnet["response"]
        _, mainnet = await post(
            http, ex.base_url + "/exchange", signed_body(t.key, {"type": "noop"}, is_mainnet=True)
        )
        assert mainnet == {"status": "ok", "response": {"type": "default"}}


async def test_liquidity_makers_quote_both_sides_from_the_start(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> None:
    async with start_local_exchange() as ex, aiohttp.ClientSession() as http:
        _, book = await post(http, ex.base_url + "/info", {"type": "l2Book", "coin": "ETH"})
        bids, asks = book["levels"]
        assert bids and asks and float(bids[0]["px"]) < float(asks[0]["px"])
