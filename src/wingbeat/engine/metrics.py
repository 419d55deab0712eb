"""Prometheus metrics of one engine, in its own registry, optionally served over HTTP.

Each `Metrics` has its own ``CollectorRegistry`` (never the process-global one), so two engines in one
process, or a test, never collide. The HTTP endpoint (``/metrics``) runs on the event loop through
aiohttp, owned by this object and closed by `stop`.

Latencies are measured locally with a monotonic clock: `order_submitted` is called when the strategy
hands an order to the connector, the matching events close the measurement. The last samples are also
kept for the live view's percentiles.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable, Mapping
from decimal import Decimal

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from wingbeat.core.events import (
    EventListener,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderExpiredEvent,
    OrderFailedEvent,
    OrderFilledEvent,
)

_logger = logging.getLogger("wingbeat.engine.metrics")

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
_SAMPLES = 2048


class Metrics(EventListener):
    """Order, fill, latency, connection, position and PnL metrics; register it as a connector listener."""

    def __init__(self, *, namespace: str = "wingbeat") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r, ns = self.registry, namespace
        self.orders = Counter("orders", "Orders by pair and state reached", ["pair", "state"], namespace=ns, registry=r)
        self.fills = Counter("fills", "Fills by pair, side and liquidity", ["pair", "side", "liquidity"],
                             namespace=ns, registry=r)
        self.fill_volume = Counter("fill_volume_quote", "Quote volume filled", ["pair"], namespace=ns, registry=r)
        self.place_to_open = Histogram("place_to_open_seconds", "Time from buy()/sell() to the exchange's "
                                       "acknowledgement", namespace=ns, registry=r, buckets=_LATENCY_BUCKETS)
        self.place_to_fill = Histogram("place_to_fill_seconds", "Time from buy()/sell() to the first fill",
                                       namespace=ns, registry=r, buckets=_LATENCY_BUCKETS)
        self.open_orders = Gauge("open_orders", "Orders not final yet, by pair and current state",
                                 ["pair", "state"], namespace=ns, registry=r)
        self.ws_reconnects = Gauge("ws_reconnects", "Websocket reconnections since start", namespace=ns,
                                   registry=r)
        self.rate_limit_remaining = Gauge("rate_limit_remaining", "Request weight left in the current window",
                                          namespace=ns, registry=r)
        self.position = Gauge("position", "Signed base position", ["pair"], namespace=ns, registry=r)
        self.pnl = Gauge("pnl", "Strategy PnL in quote currency", ["pair", "kind"], namespace=ns, registry=r)
        self._submitted: dict[str, float] = {}
        self._unfilled: dict[str, float] = {}
        self.open_samples: deque[float] = deque(maxlen=_SAMPLES)
        self.fill_samples: deque[float] = deque(maxlen=_SAMPLES)
        self._runner: web.AppRunner | None = None
        self.http_port: int | None = None

    # -- measurements ----------------------------------------------------------------------------

    def order_submitted(self, client_order_id: str) -> None:
        """Start the latency clocks of an order handed to the connector just now."""
        now = time.perf_counter()
        self._submitted[client_order_id] = now
        self._unfilled[client_order_id] = now

    def order_refused(self, trading_pair: str) -> None:
        """Count an order refused by a risk limit (it never reached the connector)."""
        self.orders.labels(trading_pair, "refused").inc()

    def on_order_created(self, event: OrderCreatedEvent) -> None:
        """Count the order and close its place→open measurement."""
        self.orders.labels(event.trading_pair, "created").inc()
        start = self._submitted.pop(event.client_order_id, None)
        if start is not None:
            elapsed = time.perf_counter() - start
            self.place_to_open.observe(elapsed)
            self.open_samples.append(elapsed)

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        """Count the fill; the first fill of an order closes its place→fill measurement."""
        self.fills.labels(event.trading_pair, event.trade_type.name.lower(),
                          "taker" if event.is_taker else "maker").inc()
        self.fill_volume.labels(event.trading_pair).inc(float(event.quote_amount))
        start = self._unfilled.pop(event.client_order_id, None)
        if start is not None:
            elapsed = time.perf_counter() - start
            self.place_to_fill.observe(elapsed)
            self.fill_samples.append(elapsed)

    def on_order_completed(self, event: OrderCompletedEvent) -> None:
        """Count a completely filled order."""
        self.orders.labels(event.trading_pair, "filled").inc()
        self._close(event.client_order_id)

    def on_order_cancelled(self, event: OrderCancelledEvent) -> None:
        """Count a cancelled order."""
        self.orders.labels(event.trading_pair, "cancelled").inc()
        self._close(event.client_order_id)

    def on_order_failed(self, event: OrderFailedEvent) -> None:
        """Count a failed order."""
        self.orders.labels(event.trading_pair, "failed").inc()
        self._close(event.client_order_id)

    def on_order_expired(self, event: OrderExpiredEvent) -> None:
        """Count an expired (IOC remainder) order."""
        self.orders.labels(event.trading_pair, "expired").inc()
        self._close(event.client_order_id)

    def _close(self, client_order_id: str) -> None:
        # a final order can no longer open or fill: forget its clocks so the maps stay bounded
        self._submitted.pop(client_order_id, None)
        self._unfilled.pop(client_order_id, None)

    def set_account(self, *, open_orders: Mapping[tuple[str, str], int], positions: Mapping[str, Decimal],
                    pnl: Mapping[str, tuple[Decimal, Decimal, Decimal]], ws_reconnects: int | None = None,
                    rate_limit_remaining: float | None = None) -> None:
        """Refresh the gauges; ``open_orders`` maps (pair, state) -> count, ``pnl`` maps pair ->
        (realised, unrealised, fees)."""
        self.open_orders.clear()  # a state no order is in any more must not keep its last count
        for (pair, state), n in open_orders.items():
            self.open_orders.labels(pair, state).set(n)
        for pair, amount in positions.items():
            self.position.labels(pair).set(float(amount))
        for pair, (realized, unrealized, fees) in pnl.items():
            self.pnl.labels(pair, "realized").set(float(realized))
            self.pnl.labels(pair, "unrealized").set(float(unrealized))
            self.pnl.labels(pair, "fees").set(float(fees))
        if ws_reconnects is not None:
            self.ws_reconnects.set(ws_reconnects)
        if rate_limit_remaining is not None:
            self.rate_limit_remaining.set(rate_limit_remaining)

    def render(self) -> bytes:
        """The registry in Prometheus' text exposition format."""
        return bytes(generate_latest(self.registry))

    # -- HTTP endpoint ---------------------------------------------------------------------------

    async def start_http(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` on ``host:port`` (port 0 picks a free one); returns the bound port."""
        app = web.Application()
        app.router.add_get("/metrics", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.http_port = _bound_port(runner.addresses)
        _logger.info("metrics on http://%s:%s/metrics", host, self.http_port)
        return self.http_port

    async def stop(self) -> None:
        """Close the HTTP endpoint, if any."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        return web.Response(body=self.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def percentile(samples: Iterable[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``samples`` by nearest rank, or None when there are none."""
    ordered = sorted(samples)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _bound_port(addresses: list[object]) -> int:
    for addr in addresses:
        if isinstance(addr, tuple) and len(addr) >= 2 and isinstance(addr[1], int):
            return addr[1]
    raise RuntimeError("metrics server did not bind a TCP port")
