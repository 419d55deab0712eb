"""Hyperliquid REST client: ``/info`` queries and ``/exchange`` actions over one keep-alive session.

Every request first spends Hyperliquid's weight on a :class:`~wingbeat.core.throttler.WeightedRateLimiter`
so the client waits instead of earning a 429; if one arrives anyway the limiter is paused (honouring
``Retry-After``, else an exponential backoff) and all later requests wait it out.

Errors are translated here, once, into :mod:`wingbeat.core.errors`. The connector relies on the split
between a *definite* refusal and an *unknown* outcome:

- :class:`ExchangeRejection`: the exchange answered and said no (HTTP 4xx such as 422, or
  ``{"status":"err"}``); nothing was done.
- :class:`RateLimitedError`: HTTP 429; the request was refused, nothing was done.
- :class:`TransportError` (connection problems, 5xx, unreadable answer) and :class:`RequestTimeout`:
  the request may or may not have been applied; an action must be reconciled, never assumed failed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from types import TracebackType
from typing import Any, NoReturn, Self

import aiohttp
import orjson

from wingbeat.core.errors import (
    AuthenticationError,
    ExchangeRejection,
    RateLimitedError,
    RequestTimeout,
    TransportError,
)
from wingbeat.core.throttler import Priority, WeightedRateLimiter
from wingbeat.hyperliquid import constants as c
from wingbeat.hyperliquid.schemas import (
    L2Book,
    MalformedMessageError,
    Meta,
    MetaAndAssetCtxs,
    PerpDex,
    SpotMeta,
    parse_all_mids,
    parse_l2_book,
    parse_meta,
    parse_meta_and_asset_ctxs,
    parse_perp_dexs,
    parse_spot_meta,
)
from wingbeat.hyperliquid.schemas_account import (
    ClearinghouseState,
    Fill,
    FundingPayment,
    OpenOrder,
    OrderWithStatus,
    UserRateLimit,
    parse_clearinghouse_state,
    parse_fills,
    parse_historical_orders,
    parse_open_orders,
    parse_order_status,
    parse_user_funding,
    parse_user_rate_limit,
)
from wingbeat.hyperliquid.schemas_spot import (
    SpotClearinghouseState,
    SpotMetaAndAssetCtxs,
    parse_spot_clearinghouse_state,
    parse_spot_meta_and_asset_ctxs,
)

__all__ = ["HyperliquidRestClient", "classify_exchange_error", "raise_for_exchange_error"]

_logger = logging.getLogger("wingbeat.hyperliquid.rest")

_JSON_HEADERS = {"Content-Type": "application/json"}

# Prefixes of Hyperliquid's top-level error texts -> a machine-readable ExchangeRejection.code.
_ERROR_CODES: tuple[tuple[str, str], ...] = (
    ("Invalid nonce", "invalid_nonce"),
    ("Must deposit before performing actions", "unknown_signer"),
    ("L1 error: User or API Wallet", "unknown_signer"),
    ("User or API Wallet", "unknown_signer"),  # also without "L1 error: " (reports of SDK users)
    ("Unable to recover signer", "bad_signature"),
    ("Too many cumulative requests", "address_rate_limited"),
    ("Action already expired", "expired"),
    # an order refused at a perp's open-interest cap (HIP-3 dexes set caps per asset and per dex)
    ("Order would increase open interest while open interest is capped", "open_interest_cap"),
    ("Order rejected due to price more aggressive than oracle while at open interest", "open_interest_cap"),
    ("Order would increase open interest too quickly", "open_interest_cap"),
    ("Cannot increase position when open interest is at cap", "open_interest_cap"),  # as traders report it
)


def classify_exchange_error(message: str) -> str | None:
    """Machine-readable code of a top-level ``{"status":"err"}`` text, or ``None`` when unknown.

    Hyperliquid sends no error codes; this is the one place its texts are mapped, so callers
    decide on ``ExchangeRejection.code`` and never on substrings.
    """
    for prefix, code in _ERROR_CODES:
        if message.startswith(prefix) or prefix in message[:80]:
            return code
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds, or None when absent or not a finite number >= 0 (then we back off)."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class HyperliquidRestClient:
    """Client of one Hyperliquid REST endpoint (mainnet, testnet or the local exchange).

    ``base_url`` is the API root without trailing slash (``https://api.hyperliquid.xyz``). A given
    ``session`` is used and left open; otherwise the client opens its own on first use and closes
    it in :meth:`close`. ``limiter`` defaults to 1150 of Hyperliquid's 1200 weight per minute;
    share one limiter between clients that use the same IP. ``timeout`` bounds each request
    (seconds), the wait for the limiter included: a request that cannot get its weight in time is
    refused with :class:`RateLimitedError` before anything is sent. ``/info`` requests are
    bookkeeping for the limiter, ``/exchange`` actions have priority. ``info_retries`` is how often an idempotent ``/info`` request is retried after a
    429, a 5xx or a transport error; ``/exchange`` actions are never retried here.
    ``backoff`` is the (initial, maximum) pause after a 429 without ``Retry-After``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        limiter: WeightedRateLimiter | None = None,
        timeout: float = 10.0,
        info_retries: int = 2,
        backoff: tuple[float, float] = (1.0, 30.0),
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if info_retries < 0:
            raise ValueError(f"info_retries must be >= 0, got {info_retries}")
        self._base_url = base_url.rstrip("/")
        self._info_url = self._base_url + c.INFO_PATH
        self._exchange_url = self._base_url + c.EXCHANGE_PATH
        self._session = session
        self._owns_session = session is None
        self._limiter = limiter or WeightedRateLimiter(c.REST_WEIGHT_BUDGET, c.REST_WEIGHT_WINDOW_S)
        self._timeout_s = timeout
        self._info_retries = info_retries
        self._backoff_initial, self._backoff_max = backoff
        self._consecutive_429 = 0
        self._sleep = sleep
        self._closed = False

    def __repr__(self) -> str:
        return f"HyperliquidRestClient({self._base_url!r})"

    @property
    def base_url(self) -> str:
        """The API root this client talks to."""
        return self._base_url

    @property
    def timeout(self) -> float:
        """Deadline of one request, seconds (the wait for the limiter included)."""
        return self._timeout_s

    @property
    def limiter(self) -> WeightedRateLimiter:
        """The weight limiter every request goes through."""
        return self._limiter

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client opened it; the client cannot be used afterwards."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise TransportError("the REST client is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=60.0, enable_cleanup_closed=True)
            )
        return self._session

    # -- transport -------------------------------------------------------------------------------

    async def _post(self, url: str, body: Any, what: str, deadline: float) -> Any:
        """POST ``body`` and return the decoded JSON answer, or raise a core error; ``deadline`` is
        ``time.monotonic()`` by which the answer must be in."""
        data = orjson.dumps(body)
        session = self._get_session()
        left = deadline - time.monotonic()
        if left <= 0:
            raise RateLimitedError(f"{what}: its deadline passed waiting for the rate limiter (not sent)")
        try:
            async with asyncio.timeout(left):
                async with session.post(url, data=data, headers=_JSON_HEADERS) as resp:
                    status = resp.status
                    payload = await resp.read()
                    headers = resp.headers
        except TimeoutError:
            raise RequestTimeout(f"{what}: no answer within {self._timeout_s}s") from None
        except aiohttp.ClientError as exc:
            raise TransportError(f"{what}: {type(exc).__name__}: {exc}") from exc
        if status == 429:
            self._on_rate_limited(_retry_after(headers), what)
        self._consecutive_429 = 0
        if status >= 500:
            raise TransportError(f"{what}: HTTP {status}: {payload[:200].decode(errors='replace')}")
        if status >= 400:
            text = payload[:500].decode(errors="replace")
            if status in (401, 403):
                raise AuthenticationError(f"{what}: HTTP {status}: {text}")
            raise ExchangeRejection(f"{what}: HTTP {status}: {text}", code=f"http_{status}")
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            # A 2xx we cannot read: the request may have been applied, so the outcome is unknown.
            raise TransportError(f"{what}: answer is not JSON: {payload[:200]!r}") from None

    def _on_rate_limited(self, retry_after: float | None, what: str) -> NoReturn:
        self._consecutive_429 += 1
        if retry_after is None:
            retry_after = min(self._backoff_max, self._backoff_initial * 2 ** (self._consecutive_429 - 1))
        retry_after = self._limiter.penalize(retry_after)  # capped at the limiter's max_pause
        raise RateLimitedError(f"{what}: HTTP 429 rate limited", retry_after=retry_after)

    # -- info --------------------------------------------------------------------------------------

    async def info(self, body: Mapping[str, Any]) -> Any:
        """Send an ``/info`` request and return its decoded JSON answer.

        Spends the request type's weight first, and the per-item surcharge of list answers after.
        Retries up to ``info_retries`` times on 429 (after the limiter's pause), 5xx and transport
        errors; definite refusals (4xx) are raised at once.
        """
        request_type = body.get("type")
        if not isinstance(request_type, str):
            raise ValueError("an /info body needs a string 'type'")
        weight = c.info_weight(request_type)
        what = f"info {request_type}"
        attempt = 0
        while True:
            deadline = time.monotonic() + self._timeout_s
            try:
                await self._limiter.acquire(weight, priority=Priority.BOOKKEEPING, timeout=self._timeout_s)
                result = await self._post(self._info_url, body, what, deadline)
            except (RateLimitedError, TransportError, RequestTimeout) as exc:
                if attempt >= self._info_retries:
                    raise
                attempt += 1
                _logger.warning("%s failed (%s), retry %d/%d", what, exc, attempt, self._info_retries)
                if not isinstance(exc, RateLimitedError):
                    await self._sleep(min(self._backoff_max, 0.1 * 2**attempt))
                continue
            if isinstance(result, list):
                extra = c.info_weight(request_type, len(result)) - weight
                if extra > 0:
                    self._limiter.charge(extra)
            return result

    async def meta(self, dex: str = "") -> Meta:
        """The perpetual universe (names, size decimals, max leverage) of perp dex ``dex`` ("" the main
        dex, else a builder dex of `perp_dexs`) in asset-index order."""
        return parse_meta(await self.info(_with_dex({"type": "meta"}, dex)))

    async def meta_and_asset_ctxs(self, dex: str = "") -> MetaAndAssetCtxs:
        """The universe of ``dex`` plus each asset's live context (mark, oracle, funding, open interest)."""
        return parse_meta_and_asset_ctxs(await self.info(_with_dex({"type": "metaAndAssetCtxs"}, dex)))

    async def perp_dexs(self) -> tuple[PerpDex, ...]:
        """The builder-deployed (HIP-3) perp dexes, in ``perpDexs`` order (the main dex is not listed)."""
        return parse_perp_dexs(await self.info({"type": "perpDexs"}))

    async def spot_meta(self) -> SpotMeta:
        """The spot tokens and pairs."""
        return parse_spot_meta(await self.info({"type": "spotMeta"}))

    async def l2_book(self, coin: str) -> L2Book:
        """The current book of ``coin`` (20 levels per side). Unknown coin: MalformedMessageError."""
        raw = await self.info({"type": "l2Book", "coin": coin})
        if raw is None:
            raise MalformedMessageError(f"l2Book: the exchange knows no coin {coin!r}")
        return parse_l2_book(raw)

    async def all_mids(self) -> dict[str, Decimal]:
        """Mid price of every coin (the last trade price where a book is empty)."""
        return parse_all_mids(await self.info({"type": "allMids"}))

    async def clearinghouse_state(self, user: str, dex: str = "") -> ClearinghouseState:
        """Positions, margin summary and withdrawable collateral of ``user`` on perp dex ``dex`` (the main
        dex by default; each builder dex keeps its own margin)."""
        body = _with_dex({"type": "clearinghouseState", "user": user}, dex)
        return parse_clearinghouse_state(await self.info(body))

    async def spot_meta_and_asset_ctxs(self) -> SpotMetaAndAssetCtxs:
        """Spot tokens and pairs plus each pair's live context (mark, mid, volume)."""
        return parse_spot_meta_and_asset_ctxs(await self.info({"type": "spotMetaAndAssetCtxs"}))

    async def spot_clearinghouse_state(self, user: str) -> SpotClearinghouseState:
        """Token balances of ``user`` (total and what resting orders hold)."""
        return parse_spot_clearinghouse_state(await self.info({"type": "spotClearinghouseState", "user": user}))

    async def open_orders(self, user: str, dex: str = "") -> tuple[OpenOrder, ...]:
        """Resting orders of ``user`` on perp dex ``dex`` (basic fields; the main dex's list has spot's too)."""
        return parse_open_orders(await self.info(_with_dex({"type": "openOrders", "user": user}, dex)))

    async def frontend_open_orders(self, user: str, dex: str = "") -> tuple[OpenOrder, ...]:
        """Resting orders of ``user`` on ``dex`` with cloid, trigger, tif and reduce-only fields."""
        body = _with_dex({"type": "frontendOpenOrders", "user": user}, dex)
        return parse_open_orders(await self.info(body))

    async def order_status(self, user: str, oid_or_cloid: int | str) -> OrderWithStatus | None:
        """Status of one order by exchange id (int) or cloid (``"0x"`` + 32 hex); ``None`` if unknown."""
        return parse_order_status(await self.info({"type": "orderStatus", "user": user, "oid": oid_or_cloid}))

    async def historical_orders(self, user: str) -> tuple[OrderWithStatus, ...]:
        """The most recent orders of ``user`` with their status (at most 2000, newest first)."""
        return parse_historical_orders(await self.info({"type": "historicalOrders", "user": user}))

    async def user_fills(self, user: str) -> tuple[Fill, ...]:
        """The most recent fills of ``user`` (at most 2000, newest first)."""
        return parse_fills(await self.info({"type": "userFills", "user": user}))

    async def user_fills_by_time(
        self, user: str, start_ms: int, end_ms: int | None = None, *, aggregate_by_time: bool = False
    ) -> tuple[Fill, ...]:
        """Fills of ``user`` from ``start_ms`` (inclusive) to ``end_ms`` or now; at most 2000 per call."""
        body = {
            "type": "userFillsByTime",
            "user": user,
            "startTime": start_ms,
            "endTime": end_ms,
            "aggregateByTime": aggregate_by_time,
        }
        return parse_fills(await self.info(body), "userFillsByTime")

    async def user_funding(
        self, user: str, start_ms: int, end_ms: int | None = None
    ) -> tuple[FundingPayment, ...]:
        """Funding payments of ``user`` in a time range."""
        body: dict[str, Any] = {"type": "userFunding", "user": user, "startTime": start_ms}
        if end_ms is not None:
            body["endTime"] = end_ms
        return parse_user_funding(await self.info(body))

    async def user_rate_limit(self, user: str) -> UserRateLimit:
        """The address-based action budget of ``user``."""
        return parse_user_rate_limit(await self.info({"type": "userRateLimit", "user": user}))

    # -- exchange ------------------------------------------------------------------------------------

    async def exchange(self, payload: Mapping[str, Any], *, weight: int = 1) -> Any:
        """Post a signed ``/exchange`` envelope and return the decoded JSON reply.

        ``weight`` is :func:`~wingbeat.hyperliquid.constants.action_weight` of the batch (0: already
        spent by the caller). A reply
        ``{"status":"err"}`` raises :class:`ExchangeRejection` (``code`` from
        :func:`classify_exchange_error`). Never retried here: a transport error or timeout leaves the
        outcome unknown and the caller must reconcile.
        """
        action = payload.get("action")
        action_type = action.get("type") if isinstance(action, Mapping) else None
        what = f"exchange {action_type}"
        deadline = time.monotonic() + self._timeout_s
        if weight:
            await self._limiter.acquire(weight, timeout=self._timeout_s)
        reply = await self._post(self._exchange_url, payload, what, deadline)
        raise_for_exchange_error(reply, what)
        return reply


def _with_dex(body: dict[str, Any], dex: str) -> dict[str, Any]:
    # the main dex is asked without the field, as before HIP-3 (Hyperliquid takes both)
    if dex:
        body["dex"] = dex
    return body


def raise_for_exchange_error(reply: Any, what: str = "exchange") -> None:
    """Raise :class:`ExchangeRejection` for a top-level ``{"status":"err"}`` reply."""
    if isinstance(reply, dict) and reply.get("status") == "err":
        message = reply.get("response")
        text = message if isinstance(message, str) else str(message)
        raise ExchangeRejection(text, code=classify_exchange_error(text))
    if not isinstance(reply, dict):
        raise TransportError(f"{what}: unexpected reply {str(reply)[:200]}")
