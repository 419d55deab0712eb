"""``/exchange`` account actions that move money or change account settings: decoding and dispatch.

User-signed (EIP-712, signed by the account itself): ``usdSend``, ``withdraw3``, ``usdClassTransfer``,
``spotSend``, ``sendAsset``, ``approveBuilderFee``. L1 (signed like orders, also by an agent):
``createSubAccount``, ``subAccountTransfer``, ``subAccountSpotTransfer``, ``vaultTransfer``, ``setReferrer``. The canonical
action is rebuilt from the decoded fields in the order the official SDK signs them; the effects are
in :mod:`transfers`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from wingbeat.sim.venue import transfers
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import EngineError

__all__ = [
    "TRANSFER_ACTIONS",
    "USER_SIGNED_TRANSFERS",
    "TransferMalformed",
    "dispatch_transfer",
    "parse_transfer",
]

USER_SIGNED_TRANSFERS = frozenset(
    {"usdSend", "withdraw3", "usdClassTransfer", "spotSend", "sendAsset", "approveBuilderFee"}
)
TRANSFER_ACTIONS = USER_SIGNED_TRANSFERS | {
    "createSubAccount",
    "subAccountTransfer",
    "subAccountSpotTransfer",
    "vaultTransfer",
    "setReferrer",
}
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SUB_SUFFIX = re.compile(r"^(\S+) subaccount:(0x[0-9a-fA-F]{40})$")
_MICRO = Decimal("0.000001")


class TransferMalformed(Exception):
    """A field that does not decode (answered 422 like any undecodable body)."""


class Transfer(NamedTuple):
    """A decoded account action: its type and the fields its effect needs."""

    kind: str
    fields: dict[str, Any]


def _get(action: Mapping[str, Any], key: str, kind: type) -> Any:
    if key not in action:
        raise TransferMalformed(f"missing field `{key}`")
    value = action[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TransferMalformed(f"{key}: invalid type: expected an integer")
    if not isinstance(value, kind):
        raise TransferMalformed(f"{key}: invalid type: expected {kind.__name__}")
    return value


def _address(action: Mapping[str, Any], key: str) -> str:
    value = _get(action, key, str)
    if not _ADDRESS.match(value):
        raise TransferMalformed(f"{key}: expected a 0x-prefixed 20-byte hex address")
    return str(value)


def _amount(text: str, *, token: bool = False) -> Decimal:
    amount = transfers.parse_amount(text, token=token)
    if amount is None:
        raise TransferMalformed(f"amount: invalid amount {text!r}")
    return amount


def _micro_usd(action: Mapping[str, Any]) -> Decimal:
    usd = _get(action, "usd", int)
    amount = Decimal(usd) * _MICRO
    if not 0 < amount <= transfers.MAX_AMOUNT:
        raise TransferMalformed("usd: expected a positive integer (USDC x 1e6)")
    return amount


def _user_signed(
    kind: str, action: Mapping[str, Any], chain: str, fields: list[tuple[str, Any]]
) -> dict[str, Any]:
    """The action as the SDK signs it: type, the signed fields, the chain fields."""
    out: dict[str, Any] = {"type": kind}
    out.update(fields)
    out["signatureChainId"] = _get(action, "signatureChainId", str)
    out["hyperliquidChain"] = chain
    return out


def parse_transfer(action: Mapping[str, Any], chain: str) -> tuple[dict[str, Any], Transfer]:
    """(canonical action, decoded transfer) of one account action; TransferMalformed if it does not fit."""
    kind = action["type"]
    if kind in ("usdSend", "withdraw3"):
        dest, amount_text, time_ms = (
            _address(action, "destination"),
            _get(action, "amount", str),
            _get(action, "time", int),
        )
        canonical = _user_signed(
            kind, action, chain, [("destination", dest), ("amount", amount_text), ("time", time_ms)]
        )
        return canonical, Transfer(
            kind, {"destination": dest, "amount": _amount(amount_text), "nonce": time_ms}
        )
    if kind == "spotSend":
        dest, token = _address(action, "destination"), _get(action, "token", str)
        amount_text, time_ms = _get(action, "amount", str), _get(action, "time", int)
        signed = [("destination", dest), ("token", token), ("amount", amount_text), ("time", time_ms)]
        fields = {
            "destination": dest,
            "token": token,
            "amount": _amount(amount_text, token=True),
            "nonce": time_ms,
        }
        return _user_signed(kind, action, chain, signed), Transfer(kind, fields)
    if kind == "usdClassTransfer":
        amount_text, to_perp, nonce = (
            _get(action, "amount", str),
            _get(action, "toPerp", bool),
            _get(action, "nonce", int),
        )
        sub = None
        match = _SUB_SUFFIX.match(amount_text)  # "5.0 subaccount:0x..": the master moves a sub-account's USDC
        plain = amount_text
        if match is not None:
            plain, sub = match.group(1), match.group(2).lower()
        canonical = _user_signed(
            kind, action, chain, [("amount", amount_text), ("toPerp", to_perp), ("nonce", nonce)]
        )
        return canonical, Transfer(kind, {"amount": _amount(plain), "to_perp": to_perp, "sub": sub})
    if kind == "sendAsset":
        dest = _address(action, "destination")
        src, dst = _get(action, "sourceDex", str), _get(action, "destinationDex", str)
        token, amount_text = _get(action, "token", str), _get(action, "amount", str)
        from_sub, nonce = _get(action, "fromSubAccount", str), _get(action, "nonce", int)
        if from_sub and not _ADDRESS.match(from_sub):
            raise TransferMalformed('fromSubAccount: expected "" or a 0x-prefixed 20-byte hex address')
        signed = [("destination", dest), ("sourceDex", src), ("destinationDex", dst), ("token", token),
                  ("amount", amount_text), ("fromSubAccount", from_sub), ("nonce", nonce)]  # fmt: skip
        fields = {"destination": dest, "source_dex": src, "destination_dex": dst, "token": token,
                  "amount": _amount(amount_text, token=True), "sub": from_sub.lower() or None,
                  "nonce": nonce}  # fmt: skip
        return _user_signed(kind, action, chain, signed), Transfer(kind, fields)
    if kind == "approveBuilderFee":
        rate, builder, nonce = (
            _get(action, "maxFeeRate", str),
            _address(action, "builder"),
            _get(action, "nonce", int),
        )
        tenths = transfers.parse_fee_rate(rate)
        if tenths is None:
            raise TransferMalformed(f"maxFeeRate: invalid fee rate {rate!r}")
        canonical = _user_signed(
            kind, action, chain, [("maxFeeRate", rate), ("builder", builder), ("nonce", nonce)]
        )
        return canonical, Transfer(kind, {"builder": builder.lower(), "tenths_bp": tenths})
    if kind == "createSubAccount":
        name = _get(action, "name", str)
        return {"type": kind, "name": name}, Transfer(kind, {"name": name})
    if kind == "subAccountTransfer":
        sub, is_deposit = _address(action, "subAccountUser"), _get(action, "isDeposit", bool)
        usd = _get(action, "usd", int)
        canonical = {"type": kind, "subAccountUser": sub, "isDeposit": is_deposit, "usd": usd}
        return canonical, Transfer(
            kind, {"sub": sub.lower(), "is_deposit": is_deposit, "amount": _micro_usd(action)}
        )
    if kind == "subAccountSpotTransfer":  # the SDK's sub_account_spot_transfer, keys in its order
        sub, is_deposit = _address(action, "subAccountUser"), _get(action, "isDeposit", bool)
        token, amount_text = _get(action, "token", str), _get(action, "amount", str)
        canonical = {"type": kind, "subAccountUser": sub, "isDeposit": is_deposit, "token": token,
                     "amount": amount_text}  # fmt: skip
        fields = {
            "sub": sub.lower(),
            "is_deposit": is_deposit,
            "token": token,
            "amount": _amount(amount_text, token=True),
        }
        return canonical, Transfer(kind, fields)
    if kind == "vaultTransfer":
        vault, is_deposit = _address(action, "vaultAddress"), _get(action, "isDeposit", bool)
        usd = _get(action, "usd", int)
        canonical = {"type": kind, "vaultAddress": vault, "isDeposit": is_deposit, "usd": usd}
        fields = {"vault": vault.lower(), "is_deposit": is_deposit, "amount": _micro_usd(action)}
        return canonical, Transfer(kind, fields)
    if kind == "setReferrer":
        code = _get(action, "code", str)
        return {"type": kind, "code": code}, Transfer(kind, {"code": code})
    raise TransferMalformed(f"unknown variant `{kind}`")


def _as_sub(engine: ExchangeEngine, master: str, sub: str | None) -> str:
    """The account a master acts for: itself, or one of its sub-accounts."""
    if sub is None:
        return master
    acct = engine.accounts.get(sub)
    if acct is None or acct.master != master:
        raise EngineError(f"Invalid sub-account {sub}")  # no source for the text
    return sub


def dispatch_transfer(
    engine: ExchangeEngine,
    user: str,
    transfer: Transfer,
) -> dict[str, Any]:
    """Carry out ``transfer`` for ``user``; the ``response`` of the ok answer (EngineError if refused)."""
    kind, f = transfer
    if kind == "usdSend":
        transfers.usd_send(engine, user, f["destination"], f["amount"])
    elif kind == "withdraw3":
        transfers.withdraw(engine, user, f["amount"], f["nonce"])
    elif kind == "usdClassTransfer":
        transfers.class_transfer(engine, _as_sub(engine, user, f["sub"]), f["amount"], f["to_perp"])
    elif kind == "spotSend":
        transfers.spot_send(engine, user, f["destination"], f["token"], f["amount"], f["nonce"])
    elif kind == "sendAsset":
        source = _as_sub(engine, user, f["sub"])
        transfers.send_asset(engine, source, f["destination"], f["source_dex"], f["destination_dex"],
                             f["token"], f["amount"], f["nonce"])  # fmt: skip
    elif kind == "approveBuilderFee":
        transfers.approve_builder_fee(engine, user, f["builder"], f["tenths_bp"])
    elif kind == "createSubAccount":
        sub = transfers.create_sub_account(engine, user, f["name"])
        return {"type": "createSubAccount", "data": sub}
    elif kind == "subAccountTransfer":
        transfers.sub_account_transfer(engine, user, f["sub"], f["is_deposit"], f["amount"])
    elif kind == "subAccountSpotTransfer":
        transfers.sub_account_spot_transfer(engine, user, f["sub"], f["is_deposit"], f["token"], f["amount"])
    elif kind == "vaultTransfer":
        vault = engine.accounts.get(f["vault"])
        leader = vault.vault_leader if vault is not None else None
        if leader is None:
            raise EngineError(f"Vault not registered: {f['vault']}")
        transfers.vault_transfer(engine, user, f["vault"], leader, f["is_deposit"], f["amount"])
    elif kind == "setReferrer":
        transfers.set_referrer(engine, user, f["code"])
    return {"type": "default"}
