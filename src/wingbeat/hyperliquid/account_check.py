"""The account check ``start()`` runs before anything else: does the account exist, can this key trade it?

Hyperliquid answers any address: ``clearinghouseState`` of an address that never deposited is all zeros,
``spotClearinghouseState`` has no balances, and only ``userRole`` tells "missing" from a real account
(``{"role": "missing"|"user"|"vault"}``, ``{"role": "agent", "data": {"user": master}}``,
``{"role": "subAccount", "data": {"master": ...}}``). Orders of a missing account all fail, so a run
on one would only log refusals; the connector refuses to start instead.

The rule (cheapest requests first; ``userRole`` weighs 60, the state queries 2):

1. a key that is not the account's own (an API wallet / agent: ``Signer.account_address`` differs from
   its address) must be an agent of that account: ``userRole`` of the key says ``agent`` of it;
2. the account is funded when its perp state holds margin (account value > 0) or a position, or, if not,
   when its spot state holds any non-zero balance (spot collateral counts: a perp balance of 0 alone
   proves nothing);
3. otherwise ``userRole`` says why: ``missing`` -> "does not exist", ``agent`` -> the address is an API
   wallet, not an account; any other role -> the account exists but holds nothing.

Every failure is an :class:`AuthenticationError` naming the addresses and the network, never the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wingbeat.core.errors import AuthenticationError
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas import MalformedMessageError, arr, obj, opt_str, req_dec, req_str
from wingbeat.hyperliquid.schemas_account import ClearinghouseState

__all__ = ["UserRole", "check_account", "fetch_spot_balances", "fetch_user_role", "parse_user_role"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRole:
    """Answer to ``userRole``: ``role`` is ``missing``, ``user``, ``agent``, ``vault`` or ``subAccount``;
    ``master`` is the account an agent signs for (or a sub-account's master), else None."""

    role: str
    master: str | None = None


def parse_user_role(raw: Any) -> UserRole:
    """Decode a ``userRole`` answer (MalformedMessageError on a shape that is not one)."""
    d = obj(raw, "userRole")
    role = req_str(d, "role", "userRole")
    data = d.get("data")
    master: str | None = None
    if isinstance(data, dict):
        master = opt_str(data, "user", "userRole.data") or opt_str(data, "master", "userRole.data")
    elif data is not None:
        raise MalformedMessageError(f"userRole: data must be an object, got {type(data).__name__}")
    return UserRole(role=role, master=master.lower() if master else None)


async def fetch_user_role(rest: HyperliquidRestClient, address: str) -> UserRole:
    """``userRole`` of ``address``."""
    return parse_user_role(await rest.info({"type": "userRole", "user": address}))


async def fetch_spot_balances(rest: HyperliquidRestClient, address: str) -> dict[str, Decimal]:
    """Non-zero spot balances (``total``) of ``address`` by token name."""
    raw = obj(await rest.info({"type": "spotClearinghouseState", "user": address}), "spotClearinghouseState")
    balances: dict[str, Decimal] = {}
    for i, item in enumerate(arr(raw.get("balances", []), "spotClearinghouseState.balances")):
        what = f"spotClearinghouseState.balances[{i}]"
        entry = obj(item, what)
        total = req_dec(entry, "total", what)
        if total:
            balances[req_str(entry, "coin", what)] = total
    return balances


def _funded(state: ClearinghouseState) -> bool:
    return state.margin_summary.account_value > _ZERO or any(p.szi for p in state.positions)


async def check_account(
    rest: HyperliquidRestClient, *, account: str, key_address: str, key_account: str, network: str
) -> ClearinghouseState:
    """Refuse (AuthenticationError) an ``account`` that does not exist, holds nothing, or that the key at
    ``key_address`` (signing for ``key_account``) may not trade; return the perp state it fetched."""
    if key_address != key_account:
        agent = await fetch_user_role(rest, key_address)
        if agent.role != "agent" or agent.master != key_account:
            raise AuthenticationError(
                f"key {key_address} is not an API wallet of account {key_account} on {network} (its role is "
                f"{agent.role!r}{f' for {agent.master}' if agent.master else ''}): approve it as an agent of "
                f"{key_account} or check account_address"
            )
    state = await rest.clearinghouse_state(account)
    if _funded(state) or await fetch_spot_balances(rest, account):
        return state
    role = await fetch_user_role(rest, account)
    if role.role == "missing":
        raise AuthenticationError(
            f"account {account} does not exist on {network}: fund it or check the key / account_address"
        )
    if role.role == "agent":
        raise AuthenticationError(
            f"{account} is an API wallet (agent) of {role.master} on {network}, not an account: set "
            f"account_address to {role.master} (on the command line: --account {role.master})"
        )
    raise AuthenticationError(
        f"account {account} holds no funds on {network} (no perp margin, position or spot balance): fund it or "
        f"check the key / account_address"
    )
