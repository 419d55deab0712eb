"""TWAP answers of the local exchange: ``twapHistory``, ``userTwapSliceFills(ByTime)`` and the
``twapStates`` entries, in the shapes of the nktkas SDK's types (Hyperliquid documents the calls,
not every field)."""

from __future__ import annotations

from typing import Any

from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.render import render_fill_rows
from wingbeat.sim.venue.twap_engine import SLICE_FILLS_KEPT, render_state

__all__ = ["TWAP_HANDLERS", "render_slice_fills", "render_twap_history", "render_twap_states"]


def render_twap_states(engine: ExchangeEngine, user: str, dex: str = "") -> list[list[Any]]:
    """``[[twapId, state], ...]`` of ``user``'s running TWAPs on perp dex ``dex`` (``""``: the main
    dex and spot; a builder dex's name: its perps'), oldest first."""
    running = engine.twaps.running_of(user)
    return [[t.twap_id, render_state(t)] for t in running if _dex_name(engine, t.asset) == dex]


def _dex_name(engine: ExchangeEngine, asset: int) -> str:
    dex = engine.dex_of(asset)
    return "" if dex is None else dex.name  # a spot pair counts to the main dex


def render_twap_history(engine: ExchangeEngine, user: str) -> list[dict[str, Any]]:
    """Every TWAP start and end of ``user`` kept, oldest first."""
    return list(engine.twaps.history.get(user, ()))


def render_slice_fills(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """``{"fill", "twapId"}`` entries of Fill rows of TWAP slices, in the order given."""
    return [{"fill": fill, "twapId": fill["twapId"]} for fill in render_fill_rows(rows)]


def _slice_fills(engine: ExchangeEngine, body: dict[str, Any], user: str) -> list[dict[str, Any]]:
    rows = engine.twaps.slice_fills.get(user, [])[-SLICE_FILLS_KEPT:]
    return render_slice_fills(rows[::-1])  # newest first, as userFills


def _slice_fills_by_time(engine: ExchangeEngine, body: dict[str, Any], user: str) -> list[dict[str, Any]]:
    start, end = body.get("startTime"), body.get("endTime")
    if isinstance(start, bool) or not isinstance(start, int):
        raise ValueError("startTime: expected an integer (ms)")
    if end is not None and (isinstance(end, bool) or not isinstance(end, int)):
        raise ValueError("endTime: expected an integer (ms)")
    rows = [
        r for r in engine.twaps.slice_fills.get(user, []) if start <= r[4] and (end is None or r[4] <= end)
    ]
    return render_slice_fills(rows[:SLICE_FILLS_KEPT][::-1])


TWAP_HANDLERS = {
    "twapHistory": lambda e, b, u: render_twap_history(e, u),
    "userTwapSliceFills": _slice_fills,
    "userTwapSliceFillsByTime": _slice_fills_by_time,
}
"""``/info`` handlers (engine, body, validated user) of the TWAP requests."""
