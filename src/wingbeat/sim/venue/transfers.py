"""Money moving between accounts of the local exchange, and the account settings that go with it.

Deposits (``/admin fund``), USDC sends, withdrawals, perp <-> spot class transfers, spot sends,
``sendAsset``, sub-accounts, vault deposits and withdrawals, builder-fee approvals and referrers.
Each movement is booked in the ``userNonFundingLedgerUpdates`` shapes of every account it touches
(``Account.ledger``) and announced as a :class:`LedgerEvent` plus an :class:`AccountChanged`.

Spot balances (``Account.spot``, with what resting orders hold in ``Account.spot_hold``) move by
token: ``spotSend`` and spot-to-spot ``sendAsset`` take any listed token (named ``"NAME"`` or
``"NAME:0x<tokenId>"``), the perp side of ``sendAsset`` and ``usdClassTransfer`` only USDC (the perp
collateral). Only what is not held can leave. A token that arrives enters the receiver's entry
notional at its USDC value (CHOSEN: no source for how Hyperliquid books the cost basis of a
transfer), and leaves the sender's at its average cost. Vault equity is share-based: 1 share = 1 USDC at the first deposit, then deposits and
withdrawals move shares at the vault's account value per share.
"""

from __future__ import annotations

import hashlib
import re
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from wingbeat.sim.venue.accounts import Account, LedgerUpdate
from wingbeat.sim.venue.engine_view import EngineView
from wingbeat.sim.venue.markets import fmt
from wingbeat.sim.venue.render import usd
from wingbeat.sim.venue.spot_markets import SpotToken
from wingbeat.sim.venue.types import EngineError, LedgerEvent

if TYPE_CHECKING:
    from wingbeat.sim.venue.perp_dex import PerpDex

__all__ = [
    "MAX_AMOUNT",
    "USDC",
    "WITHDRAW_FEE",
    "approve_builder_fee",
    "class_transfer",
    "create_sub_account",
    "fund_spot",
    "is_spot_asset",
    "parse_amount",
    "parse_fee_rate",
    "record",
    "send_asset",
    "set_referrer",
    "spot_send",
    "sub_account_spot_transfer",
    "sub_account_transfer",
    "usd_send",
    "usdc_value",
    "vault_equity",
    "vault_transfer",
    "withdraw",
]

ZERO = Decimal(0)
USDC = "USDC"
USDC_TOKEN = 0  # USDC's spot token index on Hyperliquid
WITHDRAW_FEE = Decimal(1)  # Hyperliquid's flat bridge withdrawal fee, in USDC
MAX_AMOUNT = Decimal(10) ** 15  # keeps balances within the exchange's rendering range
MAX_BUILDER_FEE_TENTHS_BP = 1000  # 1 %: Hyperliquid's cap (spot; perps cap at 0.1 % per order)
MAX_PERP_BUILDER_FEE_TENTHS_BP = 100  # 0.1 %: the builder-code docs' cap on perp orders
_AMOUNT = re.compile(r"^[0-9]{1,16}(\.[0-9]{1,6})?$")  # USDC moves in 6 decimals
_TOKEN_AMOUNT = re.compile(r"^[0-9]{1,16}(\.[0-9]{1,18})?$")  # a spot token: checked against its weiDecimals
_FEE_RATE = re.compile(r"^([0-9]+(\.[0-9]+)?)%$")
_PERP_DEX = ""  # sendAsset's name of the main perp dex (a builder dex goes by its own name)
_SPOT_DEX = "spot"
INSUFFICIENT = "Insufficient balance for withdrawal"
INSUFFICIENT_TOKEN = "Insufficient balance for token transfer"


def is_spot_asset(asset: int) -> bool:
    """Whether an order's asset id is a spot pair (10000 + index; builder-dex perps start at 110000)."""
    return 10_000 <= asset < 100_000


def parse_amount(text: str, *, token: bool = False) -> Decimal | None:
    """A positive wire amount (``"12.5"``), or None when it is not one; with ``token`` a spot token
    amount (up to 18 decimals here: the token's own ``weiDecimals`` are checked when it moves)."""
    if not (_TOKEN_AMOUNT if token else _AMOUNT).match(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if 0 < value <= MAX_AMOUNT else None


def parse_fee_rate(text: str) -> int | None:
    """``approveBuilderFee``'s ``maxFeeRate`` (``"0.001%"``) in tenths of a basis point, or None."""
    match = _FEE_RATE.match(text)
    if match is None:
        return None
    tenths = Decimal(match.group(1)) * 1000  # 1 % = 100 bp = 1000 tenths
    if tenths != tenths.to_integral_value() or tenths > MAX_BUILDER_FEE_TENTHS_BP:
        return None
    return int(tenths)


def record(engine: EngineView, acct: Account, now: int, delta: dict[str, Any]) -> None:
    """Book ``delta`` in ``acct``'s ledger (inside an account frame) and announce it."""
    update = LedgerUpdate(now, engine.tx_hash(), delta)
    acct.ledger.append(update)
    engine.emit(LedgerEvent(acct.user, {"time": now, "hash": update.hash, "delta": delta}))
    engine.account_changed(acct.user)


def _account(engine: EngineView, user: str) -> Account:
    acct = engine.accounts.get(user)
    if acct is None:
        raise EngineError(f"User or API Wallet {user} does not exist.")
    return acct


def _destination(engine: EngineView, address: str) -> Account:
    """The receiving account, created on first receipt as on Hyperliquid."""
    address = address.lower()
    acct = engine.accounts.get(address)
    if acct is None:
        acct = engine.accounts[address] = Account(address)
    return acct


def _take_perp(engine: EngineView, acct: Account, amount: Decimal, text: str = INSUFFICIENT) -> None:
    if amount > acct.available(engine.marks, engine.max_leverages):
        raise EngineError(text)
    acct.balance -= amount


def _take_spot(acct: Account, token: str, amount: Decimal) -> Decimal:
    """Take ``amount`` of ``token`` from what ``acct`` does not hold for orders; returns the entry
    notional (cost basis) that left with it."""
    total = acct.spot.get(token, ZERO)
    if amount > total - acct.spot_hold.get(token, ZERO):
        raise EngineError(INSUFFICIENT_TOKEN)
    acct.spot[token] = total - amount
    entry = acct.spot_entry.get(token, ZERO)
    cost = entry * amount / total if entry and total else ZERO
    if cost:
        acct.spot_entry[token] = entry - cost
    return cost


def _give_spot(acct: Account, token: str, amount: Decimal, value: Decimal) -> None:
    acct.spot[token] = acct.spot.get(token, ZERO) + amount
    if token != USDC and value:
        acct.spot_entry[token] = acct.spot_entry.get(token, ZERO) + value


def _spot_token(engine: EngineView, token: str, amount: Decimal) -> SpotToken:
    """The listed token ``token`` names (``"NAME"`` or ``"NAME:0x<tokenId>"``); EngineError when
    there is none, the id does not match, or ``amount`` has more decimals than the token keeps."""
    name, _, token_id = token.partition(":")
    found = engine.spot.token(name)
    if found is None or (token_id and token_id.lower() != found.token_id):
        raise EngineError(f"Invalid token {token}")  # CHOSEN: no source for the exchange's text
    if amount != amount.quantize(Decimal(1).scaleb(-found.wei_decimals), rounding=ROUND_DOWN):
        raise EngineError(f"Invalid amount {amount} for {found.name}")  # CHOSEN: no source for the text
    return found


def usdc_value(engine: EngineView, token: str, amount: Decimal) -> Decimal:
    """``amount`` of ``token`` in USDC at the mark of its USDC pair (USDC itself 1:1; a token with
    no USDC pair is worth 0)."""
    if token == USDC:
        return amount
    for m in engine.spot_markets:
        if m.base.name == token and m.quote.name == USDC:
            return amount * m.mark
    return ZERO


def fund_spot(engine: EngineView, user: str, token: str, amount: Decimal) -> None:
    """Credit ``amount`` of the listed spot token ``token`` to ``user`` (created on first funding),
    booked as a ``spotGenesis`` ledger update (Hyperliquid's delta for tokens credited at genesis)."""
    if not amount.is_finite() or not 0 < amount <= MAX_AMOUNT:
        raise ValueError(f"funding amount must be in (0, {MAX_AMOUNT}], got {amount}")
    try:
        found = _spot_token(engine, token, amount)
    except EngineError as exc:
        raise ValueError(exc.message) from None
    acct = _destination(engine, user)
    with engine.account_frame() as now:
        _give_spot(acct, found.name, amount, usdc_value(engine, found.name, amount))
        record(engine, acct, now, {"type": "spotGenesis", "token": found.name, "amount": fmt(amount)})


def usd_send(engine: EngineView, user: str, destination: str, amount: Decimal) -> None:
    """``usdSend``: perp USDC from ``user`` to ``destination``'s perp balance."""
    acct = _account(engine, user)
    with engine.account_frame() as now:
        _take_perp(engine, acct, amount)
        dest = _destination(engine, destination)
        dest.balance += amount
        delta = {
            "type": "internalTransfer",
            "usdc": usd(amount),
            "user": acct.user,
            "destination": dest.user,
            "fee": "0.0",
        }
        record(engine, acct, now, delta)
        if dest is not acct:
            record(engine, dest, now, delta)


def withdraw(engine: EngineView, user: str, amount: Decimal, nonce: int) -> None:
    """``withdraw3``: ``amount`` leaves the exchange (the destination gets it less the 1 USDC fee)."""
    acct = _account(engine, user)
    if amount <= WITHDRAW_FEE:
        raise EngineError(INSUFFICIENT)  # no source for the text of a withdrawal under the fee
    with engine.account_frame() as now:
        _take_perp(engine, acct, amount)
        delta = {"type": "withdraw", "usdc": usd(amount), "nonce": nonce, "fee": usd(WITHDRAW_FEE)}
        record(engine, acct, now, delta)


def class_transfer(engine: EngineView, user: str, amount: Decimal, to_perp: bool) -> None:
    """``usdClassTransfer``: USDC between ``user``'s spot and perp balances."""
    acct = _account(engine, user)
    with engine.account_frame() as now:
        if to_perp:
            _take_spot(acct, USDC, amount)
            acct.balance += amount
        else:
            _take_perp(engine, acct, amount)
            acct.spot[USDC] = acct.spot.get(USDC, ZERO) + amount
        record(engine, acct, now, {"type": "accountClassTransfer", "usdc": usd(amount), "toPerp": to_perp})


def spot_send(
    engine: EngineView, user: str, destination: str, token: str, amount: Decimal, nonce: int
) -> None:
    """``spotSend``: a spot token from ``user`` to ``destination``'s spot balance."""
    acct = _account(engine, user)
    name = _spot_token(engine, token, amount).name
    value = usdc_value(engine, name, amount)
    with engine.account_frame() as now:
        _take_spot(acct, name, amount)
        dest = _destination(engine, destination)
        _give_spot(dest, name, amount, value)
        delta = {
            "type": "spotTransfer",
            "token": name,
            "amount": fmt(amount),
            "usdcValue": usd(value),
            "user": acct.user,
            "destination": dest.user,
            "fee": "0.0",
            "nativeTokenFee": "0.0",
            "nonce": nonce,
            "feeToken": "",
        }
        record(engine, acct, now, delta)
        if dest is not acct:
            record(engine, dest, now, delta)


def send_asset(
    engine: EngineView,
    user: str,
    destination: str,
    source_dex: str,
    destination_dex: str,
    token: str,
    amount: Decimal,
    nonce: int,
) -> None:
    """``sendAsset``: a token from one of ``user``'s balances (the main perp dex ``""``, a builder
    dex by name, or ``"spot"``) to one of ``destination``'s; a perp dex takes and gives only its
    collateral token (USDC on the main dex), in the user's margin account of that dex."""
    acct = _account(engine, user)
    name = _spot_token(engine, token, amount).name
    dexes: list[PerpDex | None] = []
    for dex_name in (source_dex, destination_dex):
        if dex_name == _SPOT_DEX:
            dexes.append(None)
            continue
        dex = engine.dex(dex_name)
        if dex is None:
            raise EngineError(f"Invalid dex {dex_name}")  # CHOSEN: no source for the exchange's text
        collateral = USDC if dex.cfg is None else engine.spot.tokens[dex.cfg.collateral_token].name
        if name != collateral:
            # the SDK: "Token must match the collateral token if transferring to or from a perp dex"
            raise EngineError(f"Invalid token {token}")  # CHOSEN: no source for the exchange's text
        dexes.append(dex)
    source, target = dexes
    value = usdc_value(engine, name, amount)
    with engine.account_frame() as now:
        if source is None:
            _take_spot(acct, name, amount)
        else:
            _take_perp(engine, source.account(acct), amount, INSUFFICIENT_TOKEN)
        dest = _destination(engine, destination)
        if target is None:
            _give_spot(dest, name, amount, value)
        else:
            target.account(dest).balance += amount
        delta = {
            "type": "send",
            "user": acct.user,
            "destination": dest.user,
            "sourceDex": source_dex,
            "destinationDex": destination_dex,
            "token": name,
            "amount": fmt(amount),
            "usdcValue": usd(value),
            "fee": "0.0",
            "nativeTokenFee": "0.0",
            "nonce": nonce,
            "feeToken": "",
        }
        record(engine, acct, now, delta)
        if dest is not acct:
            record(engine, dest, now, delta)


def create_sub_account(engine: EngineView, master: str, name: str) -> str:
    """``createSubAccount``: a new account owned by ``master``; returns its address.

    Hyperliquid's address derivation is not public: this one is a hash of master and index.
    """
    acct = _account(engine, master)
    if acct.master is not None:
        raise EngineError("Sub-accounts cannot create sub-accounts.")  # no source for the text
    name = name.strip()
    if not name or any(engine.accounts[s].name == name for s in acct.sub_accounts):
        raise EngineError(f"Invalid sub-account name: {name!r}")  # no source for the text
    digest = hashlib.sha256(f"subaccount:{acct.user}:{len(acct.sub_accounts)}".encode()).hexdigest()
    sub = "0x" + digest[:40]
    with engine.account_frame():
        engine.accounts[sub] = Account(sub, master=acct.user, name=name)
        acct.sub_accounts.append(sub)
        engine.account_changed(sub)
    return sub


def sub_account_transfer(
    engine: EngineView, master: str, sub: str, is_deposit: bool, amount: Decimal
) -> None:
    """``subAccountTransfer``: perp USDC between ``master`` and its sub-account ``sub``."""
    acct = _account(engine, master)
    sub_acct = engine.accounts.get(sub.lower())
    if sub_acct is None or sub_acct.master != acct.user:
        raise EngineError(f"Invalid sub-account {sub.lower()}")  # no source for the text
    source, dest = (acct, sub_acct) if is_deposit else (sub_acct, acct)
    with engine.account_frame() as now:
        _take_perp(engine, source, amount)
        dest.balance += amount
        delta = {
            "type": "subAccountTransfer",
            "usdc": usd(amount),
            "user": source.user,
            "destination": dest.user,
        }
        record(engine, source, now, delta)
        record(engine, dest, now, delta)


def sub_account_spot_transfer(
    engine: EngineView, master: str, sub: str, is_deposit: bool, token: str, amount: Decimal
) -> None:
    """``subAccountSpotTransfer``: a spot token between ``master``'s and its sub-account ``sub``'s spot balances.

    The ledger entry is a ``spotTransfer`` on both sides (CHOSEN: no recorded payload of this action's entry).
    """
    acct = _account(engine, master)
    sub_acct = engine.accounts.get(sub.lower())
    if sub_acct is None or sub_acct.master != acct.user:
        raise EngineError(f"Invalid sub-account {sub.lower()}")  # no source for the text
    name = _spot_token(engine, token, amount).name
    value = usdc_value(engine, name, amount)
    source, dest = (acct, sub_acct) if is_deposit else (sub_acct, acct)
    with engine.account_frame() as now:
        _take_spot(source, name, amount)
        _give_spot(dest, name, amount, value)
        delta = {
            "type": "spotTransfer",
            "token": name,
            "amount": fmt(amount),
            "usdcValue": usd(value),
            "user": source.user,
            "destination": dest.user,
            "fee": "0.0",
            "nativeTokenFee": "0.0",
            "nonce": None,
            "feeToken": "",
        }
        record(engine, source, now, delta)
        record(engine, dest, now, delta)


def vault_equity(engine: EngineView, vault: Account, user: str) -> Decimal:
    """``user``'s equity in ``vault``: its share of the vault's account value."""
    shares = vault.vault_shares.get(user, ZERO)
    total = sum(vault.vault_shares.values(), ZERO)
    if not shares or not total:
        return ZERO
    return vault.account_value(engine.marks) * shares / total


def vault_transfer(
    engine: EngineView, user: str, vault_address: str, leader: str, is_deposit: bool, amount: Decimal
) -> None:
    """``vaultTransfer``: deposit into, or withdraw from, the vault led by ``leader``."""
    acct = _account(engine, user)
    vault = _account(engine, vault_address.lower())
    value = vault.account_value(engine.marks)
    with engine.account_frame() as now:
        if not vault.vault_shares:
            # the vault's own funds belong to its leader: 1 share = 1 USDC from here on
            vault.vault_shares[leader] = value
        total = sum(vault.vault_shares.values(), ZERO)
        per_share = value / total if total else Decimal(1)
        if is_deposit:
            _take_perp(engine, acct, amount)
            vault.balance += amount
            vault.vault_shares[acct.user] = vault.vault_shares.get(acct.user, ZERO) + amount / per_share
            acct.vault_entries.setdefault(vault.user, now)
            record(engine, acct, now, {"type": "vaultDeposit", "vault": vault.user, "usdc": usd(amount)})
        else:
            if amount > vault_equity(engine, vault, acct.user):
                raise EngineError(INSUFFICIENT)  # no source for the vault's own text
            _take_perp(engine, vault, amount)
            acct.balance += amount
            vault.vault_shares[acct.user] -= amount / per_share
            delta = {
                "type": "vaultWithdraw",
                "vault": vault.user,
                "user": acct.user,
                "requestedUsd": usd(amount),
                "commission": "0.0",  # no leader commission in the local exchange
                "closingCost": "0.0",
                "basis": usd(amount),
                "netWithdrawnUsd": usd(amount),
            }
            record(engine, acct, now, delta)
        engine.account_changed(vault.user)


def approve_builder_fee(engine: EngineView, user: str, builder: str, max_fee_tenths_bp: int) -> None:
    """``approveBuilderFee``: ``builder`` may charge ``user`` up to this fee (0 revokes)."""
    acct = _account(engine, user)
    acct.builder_fees[builder.lower()] = max_fee_tenths_bp


def set_referrer(engine: EngineView, user: str, code: str) -> None:
    """``setReferrer``: ``user`` trades under referral ``code`` (set once)."""
    acct = _account(engine, user)
    if acct.referred_by is not None:
        raise EngineError("Referrer already set.")  # no source for the text
    if not code:
        raise EngineError("Invalid referral code.")  # no source for the text
    acct.referred_by = code
