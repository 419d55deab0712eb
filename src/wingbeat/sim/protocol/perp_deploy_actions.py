"""``/exchange`` ``perpDeploy`` actions of the local exchange (HIP-3 deployer actions, L1-signed):
``setOracle`` only, which a builder dex's oracle updater sends to set its perps' oracle prices
(the official SDK's ``perp_deploy_set_oracle``). The other variants (registering assets, caps,
margin tables, fee scales...) deploy or reconfigure a dex, which the local exchange does from its
configuration instead: they are refused as undecodable.

The canonical action is rebuilt from the decoded fields in the SDK's key order; the price strings are
kept as sent (the signature covers them). The docs require every list of ``[coin, price]`` pairs
to be sorted by coin before signing; an unsorted list is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from wingbeat.sim.venue.engine import ExchangeEngine

__all__ = [
    "PERP_DEPLOY_ACTIONS",
    "PerpDeployMalformed",
    "SetOracle",
    "dispatch_perp_deploy",
    "parse_perp_deploy",
]

PERP_DEPLOY_ACTIONS = frozenset({"perpDeploy"})
_PRICE = re.compile(r"^[0-9]{1,13}(\.[0-9]{1,12})?$")


class PerpDeployMalformed(Exception):
    """A field that does not decode, or a variant the local exchange does not run (answered 422)."""


class SetOracle(NamedTuple):
    """A decoded ``setOracle``: prices by coin (``"dex:COIN"``)."""

    dex: str
    oracle_pxs: list[tuple[str, Decimal]]
    mark_pxs: list[list[tuple[str, Decimal]]]
    external_pxs: list[tuple[str, Decimal]]


def _pairs(value: Any, what: str) -> tuple[list[list[str]], list[tuple[str, Decimal]]]:
    """(the pairs as sent, decoded) of one ``[[coin, price], ...]`` list."""
    if not isinstance(value, list):
        raise PerpDeployMalformed(f"{what}: expected a list of [coin, price] pairs")
    wire: list[list[str]] = []
    decoded: list[tuple[str, Decimal]] = []
    for pair in value:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, str) for x in pair)
            or not _PRICE.match(pair[1])
        ):
            raise PerpDeployMalformed(f"{what}: expected [coin, price] pairs of strings, got {pair!r}")
        wire.append([pair[0], pair[1]])
        decoded.append((pair[0], Decimal(pair[1])))
    coins = [c for c, _ in decoded]
    if coins != sorted(coins) or len(set(coins)) != len(coins):
        raise PerpDeployMalformed(f"{what}: the pairs must be sorted by coin, each coin once")
    return wire, decoded


def parse_perp_deploy(action: Mapping[str, Any]) -> tuple[dict[str, Any], SetOracle]:
    """(canonical action, typed fields) of a ``perpDeploy`` ``setOracle``."""
    variants = [k for k in action if k != "type"]
    if variants != ["setOracle"]:
        raise PerpDeployMalformed(
            f"perpDeploy {variants}: the local exchange runs only setOracle (its dexes come from its configuration)"
        )
    body = action["setOracle"]
    if not isinstance(body, Mapping) or not isinstance(body.get("dex"), str):
        raise PerpDeployMalformed("setOracle: expected an object with a dex name")
    oracle_wire, oracle = _pairs(body.get("oraclePxs"), "oraclePxs")
    marks = body.get("markPxs", [])
    if not isinstance(marks, list) or len(marks) > 2:
        raise PerpDeployMalformed("markPxs: expected at most 2 lists of [coin, price] pairs")
    marks_decoded = [_pairs(group, "markPxs") for group in marks]
    inner: dict[str, Any] = {
        "dex": body["dex"],
        "oraclePxs": oracle_wire,
        "markPxs": [w for w, _ in marks_decoded],
    }
    external: list[tuple[str, Decimal]] = []
    if "externalPerpPxs" in body:
        external_wire, external = _pairs(body["externalPerpPxs"], "externalPerpPxs")
        inner["externalPerpPxs"] = external_wire
    fields = SetOracle(body["dex"], oracle, [d for _, d in marks_decoded], external)
    return {"type": "perpDeploy", "setOracle": inner}, fields


def dispatch_perp_deploy(engine: ExchangeEngine, user: str, fields: SetOracle) -> dict[str, Any]:
    """Carry out a ``setOracle`` for ``user`` (EngineError when refused): the ok answer's response."""
    engine.perp_deploy_set_oracle(user, fields.dex, fields.oracle_pxs, fields.mark_pxs, fields.external_pxs)
    return {"type": "default"}
