"""Durable venue state: what `LocalExchange` logs to its state file, snapshots, and replays.

Every input that changes the venue is logged with the venue time it was applied at, and committed
before it is answered: signed ``/exchange`` actions (HTTP or websocket ``post``, accepted or not:
even a refusal can spend rate-limit budget), admin mutations (fund, spot fund, oracle price, funding, advance, vault
registration) and the timer's ticks (funding, triggers, liquidations and the built-in makers).
A snapshot of the whole venue (engine, nonces, address budgets, makers with their random state)
is taken at start, every ``snapshot_interval_s`` and at a graceful stop. Restoring loads the
snapshot and replays the log after it with the clock pinned to each entry's time; the venue reads
no other time or randomness, so the replay reproduces the same orders, oids, fills and hashes.

Not restored: websocket connections and subscriptions, per-IP weight budgets, armed faults and the
admin token (all belong to a process, not to the venue). Objects tests reach into and change
directly (``ex.engine...``) are not logged.

Snapshots are pickles read back by an unpickler that only builds the venue's own classes and
plain values, so a state file cannot run code; still, treat it as your own data, not a download.
"""

from __future__ import annotations

import contextlib
import io
import logging
import pickle
import types
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from wingbeat.sim.protocol.actions import ActionProcessor, ParsedAction
from wingbeat.sim.protocol.rate_limits import RateLimiter
from wingbeat.sim.protocol.state_store import StateFileError, StateStore
from wingbeat.sim.protocol.venue_clock import VenueClock
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.event_queue import EventQueue
from wingbeat.sim.venue.liquidity import MarketMakers

__all__ = ["DurableVenue"]

_log = logging.getLogger("wingbeat.sim.protocol.durable_venue")

_SAFE_BUILTINS = frozenset(
    {
        "bool",
        "bytearray",
        "bytes",
        "complex",
        "dict",
        "float",
        "frozenset",
        "int",
        "list",
        "range",
        "set",
        "slice",
        "str",
        "tuple",
    }
)
_SAFE_GLOBALS = {
    "builtins": _SAFE_BUILTINS,
    "collections": frozenset({"OrderedDict", "defaultdict", "deque"}),
    "copyreg": frozenset({"_reconstructor"}),
    "decimal": frozenset({"Decimal"}),
    "random": frozenset({"Random"}),
}


class _VenueUnpickler(pickle.Unpickler):
    """Builds only the venue's classes and plain values; the live wiring comes back by name."""

    def __init__(self, data: bytes, wiring: dict[str, Any], owners: dict[str, object]) -> None:
        super().__init__(io.BytesIO(data))
        self._wiring = wiring
        self._owners = owners  # name -> the object whose bound methods are wiring

    def find_class(self, module: str, name: str) -> Any:
        if name in _SAFE_GLOBALS.get(module, ()):
            return super().find_class(module, name)
        if module.startswith("wingbeat.sim.") and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"state file names {module}.{name}, which a venue state never holds")

    def persistent_load(self, pid: Any) -> Any:
        owner_name, _, method_name = pid.partition(":") if isinstance(pid, str) else ("", "", "")
        owner = self._owners.get(owner_name)
        if owner is not None:
            method = getattr(type(owner), method_name, None)
            if isinstance(method, types.FunctionType):
                return types.MethodType(method, owner)
        elif pid in self._wiring:
            return self._wiring[pid]
        raise pickle.UnpicklingError(f"state file refers to unknown wiring {pid!r}")


class _VenuePickler(pickle.Pickler):
    """Pickles the venue's state; references to the live objects and callbacks become names."""

    def __init__(self, buffer: io.BytesIO, wiring: dict[int, str], owners: dict[int, str]) -> None:
        super().__init__(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        self._wiring = wiring
        self._owners = owners  # id -> name of the objects whose bound methods are wiring

    def persistent_id(self, obj: Any) -> str | None:
        name = self._wiring.get(id(obj))
        if name is not None:
            return name
        if isinstance(obj, types.MethodType):
            owner = self._owners.get(id(obj.__self__))
            if owner is not None:
                return f"{owner}:{obj.__func__.__name__}"
        return None


class DurableVenue:
    """Logs, snapshots and restores one venue's state in a `StateStore`."""

    def __init__(
        self,
        store: StateStore,
        *,
        engine: ExchangeEngine,
        actions: ActionProcessor,
        limiter: RateLimiter,
        makers: MarketMakers | None,
        clock: VenueClock,
        tick: Callable[[int], None],
        owner: object,
        snapshot_interval_s: float = 300.0,
    ) -> None:
        self.store = store
        self._parts: dict[str, object] = {"engine": engine, "actions": actions, "limiter": limiter}
        if makers is not None:
            self._parts["makers"] = makers
        self._engine, self._actions, self._clock, self._tick = engine, actions, clock, tick
        # objects whose bound methods the parts hold: the exchange's (the limiter's volume_of) and
        # ours (the action processor's recorder)
        self._owners: dict[str, object] = {"exchange": owner, "durable": self}
        events = next(v for v in vars(engine).values() if isinstance(v, EventQueue))
        self._wiring: dict[str, Any] = {"clock": clock, "events": events, "subscribers": events.subscribers}
        self._wiring.update({"part:" + name: part for name, part in self._parts.items()})
        self.snapshot_interval_ms = int(snapshot_interval_s * 1000)
        self.last_snapshot_ms = 0
        self._replaying = False
        self.restored = False  # whether restore() found a snapshot
        self.replayed = 0  # log entries restore() replayed

    # -- live ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def applying(self, kind: str, args: tuple[Any, ...] = ()) -> Iterator[int]:
        """Pin the venue time around one input, and log it once it was applied (not if it raised).

        Yields the venue time. The log entry is committed before the block's caller answers.
        """
        if self._replaying:
            yield self._clock()
            return
        with self._clock.pinned(self._clock.wall()) as at:
            yield at
            self.store.append(at, kind, _dumps(args))

    def record_action(self, parsed: ParsedAction) -> contextlib.AbstractContextManager[int]:
        """The `ActionProcessor` recorder: `applying` for one signed action."""
        return self.applying("action", (parsed,))

    def snapshot(self) -> None:
        """Write the whole venue state; the log restarts empty after it."""
        buffer = io.BytesIO()
        wiring = {id(obj): name for name, obj in self._wiring.items()}
        pickler = _VenuePickler(buffer, wiring, {id(obj): name for name, obj in self._owners.items()})
        pickler.dump({name: dict(vars(part)) for name, part in self._parts.items()})
        now = self._clock.wall()
        self.store.write_snapshot(now, buffer.getvalue())
        self.last_snapshot_ms = now

    def snapshot_due(self, now_ms: int) -> bool:
        """Whether `snapshot_interval_s` passed since the last snapshot."""
        return now_ms - self.last_snapshot_ms >= self.snapshot_interval_ms

    # -- restart ---------------------------------------------------------------------------------
    def restore(self) -> bool:
        """Load the latest snapshot and replay the log after it; False for a new file (then a first
        snapshot is written, so the log always starts from a known state)."""
        latest = self.store.latest_snapshot()
        if latest is None:
            self.snapshot()
            return False
        last_seq, blob = latest
        try:
            state = self._loads(blob)
        except (pickle.UnpicklingError, AttributeError, EOFError, TypeError, ValueError) as exc:
            raise StateFileError(f"state file {self.store.path}: snapshot unreadable ({exc})") from None
        if set(state) != set(self._parts):
            raise StateFileError(
                f"state file {self.store.path}: snapshot of other venue parts {sorted(state)}"
            )
        for name, part in self._parts.items():
            vars(part).update(state[name])
        entries = self.store.entries_after(last_seq)
        self._replaying = True
        try:
            for entry in entries:
                with self._clock.pinned(entry.at_ms):
                    self._replay(entry.kind, self._loads(entry.payload), entry.at_ms)
        finally:
            self._replaying = False
        self.replayed = len(entries)
        self.restored = True
        self.snapshot()
        return True

    def _loads(self, data: bytes) -> Any:
        return _VenueUnpickler(data, self._wiring, self._owners).load()

    def _replay(self, kind: str, args: tuple[Any, ...], at_ms: int) -> None:
        try:
            if kind == "action":
                self._actions.execute(args[0])
            elif kind == "tick":
                self._tick(at_ms)
            elif kind == "fund":
                self._engine.fund(args[0], Decimal(args[1]))
            elif kind == "fundSpot":
                self._engine.fund_spot(args[0], args[1], Decimal(args[2]))
            elif kind == "fundDex":
                self._engine.fund_dex(args[0], args[1], Decimal(args[2]))
            elif kind == "oracle":
                self._engine.set_oracle_price(args[0], Decimal(args[1]))
            elif kind == "funding":
                self._engine.pay_funding(args[0], Decimal(args[1]))
            elif kind == "advance":
                self._engine.advance(args[0])
            elif kind == "vault":
                self._actions.register_vault(args[0], args[1])
            else:
                raise StateFileError(f"state file {self.store.path}: unknown log entry {kind!r}")
        except StateFileError:
            raise
        except Exception:
            # it was applied once without raising; a difference here is a bug worth a trace
            _log.exception("replaying a %s entry of the state file failed", kind)

    def close(self) -> None:
        """A final snapshot, then close the file."""
        try:
            self.snapshot()
        finally:
            self.store.close()


def _dumps(args: tuple[Any, ...]) -> bytes:
    return pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)
