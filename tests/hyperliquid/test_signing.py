"""Signing against the fixed vectors in tests/fixtures/hyperliquid/vectors.json, recovery, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from Crypto.Hash import keccak as pycryptodome_keccak

from wingbeat.core.errors import WingbeatError
from wingbeat.hyperliquid import signing
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.signing import (
    USER_SIGNED_TYPES,
    SignatureError,
    action_hash,
    keccak256,
    recover_signer,
    sign_agent,
    sign_l1_action,
    sign_usd_class_transfer_action,
    sign_usd_transfer_action,
    sign_user_signed_action,
    sign_withdraw_from_bridge_action,
    user_signed_hash,
    user_signed_struct_hash,
)

VECTORS_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "hyperliquid" / "vectors.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text())
KEY: str = VECTORS["private_key"]
ADDRESS: str = VECTORS["address"].lower()
L1 = VECTORS["l1"]
USER_SIGNED = VECTORS["user_signed"]
ORDER = {
    "type": "order",
    "orders": [{"a": 1, "b": True, "p": "100", "s": "100", "r": False, "t": {"limit": {"tif": "Gtc"}}}],
    "grouping": "na",
}


@pytest.mark.parametrize("vector", L1, ids=[v["name"] for v in L1])
def test_l1_vector_hash_and_signatures_match_sdk(vector: dict[str, Any]) -> None:
    args = (vector["vault_address"], vector["nonce"], vector["expires_after"])
    assert "0x" + action_hash(vector["action"], *args).hex() == vector["action_hash"]
    for network, is_mainnet in (("mainnet", True), ("testnet", False)):
        assert sign_l1_action(KEY, vector["action"], *args, is_mainnet) == vector[network]


@pytest.mark.parametrize("vector", L1, ids=[v["name"] for v in L1])
def test_l1_vector_signatures_recover_the_signing_address(vector: dict[str, Any]) -> None:
    for network, is_mainnet in (("mainnet", True), ("testnet", False)):
        recovered = recover_signer(
            vector["action"],
            vector[network],
            nonce=vector["nonce"],
            vault_address=vector["vault_address"],
            expires_after=vector["expires_after"],
            is_mainnet=is_mainnet,
        )
        assert recovered == ADDRESS


def test_phantom_agent_connection_id_matches_upstream_vector() -> None:
    vector = VECTORS["phantom_agent"][0]
    assert (
        "0x" + action_hash(vector["action"], None, vector["nonce"], None).hex()
        == (vector["expected_connectionId"])
    )


@pytest.mark.parametrize("vector", USER_SIGNED, ids=[v["name"] for v in USER_SIGNED])
def test_user_signed_vector_struct_hash_signature_and_recovery(vector: dict[str, Any]) -> None:
    action = dict(vector["action_as_sent"])
    fields = tuple((t["name"], t["type"]) for t in vector["types"])
    struct_hash = user_signed_struct_hash(action, vector["primary_type"], fields)
    assert "0x" + struct_hash.hex() == vector["signable_body_hex"]
    digest = user_signed_hash(action, vector["primary_type"], fields)
    assert Signer(KEY).sign_digest(digest) == vector["signature"]
    action.setdefault(
        "type", next(k for k, (pt, _) in USER_SIGNED_TYPES.items() if pt == vector["primary_type"])
    )
    recovered = recover_signer(
        action,
        vector["signature"],
        nonce=0,
        vault_address=None,
        expires_after=None,
        is_mainnet=vector["is_mainnet"],
    )
    assert recovered == ADDRESS


def test_user_signed_helpers_set_chain_fields_in_place_like_the_sdk() -> None:
    vector = next(v for v in USER_SIGNED if v["name"] == "usdSend_testnet")
    sent = vector["action_as_sent"]
    action = {"destination": sent["destination"], "amount": sent["amount"], "time": sent["time"]}
    assert sign_usd_transfer_action(KEY, action, False) == vector["signature"]
    assert action["signatureChainId"] == "0x66eee"
    assert action["hyperliquidChain"] == "Testnet"

    withdraw = next(v for v in USER_SIGNED if v["name"] == "withdraw3_testnet")
    action = {"destination": sent["destination"], "amount": sent["amount"], "time": sent["time"]}
    assert sign_withdraw_from_bridge_action(KEY, action, False) == withdraw["signature"]


def test_usd_class_transfer_and_agent_helpers_match_vectors() -> None:
    for name, helper in (
        ("computed_usdClassTransfer_testnet", sign_usd_class_transfer_action),
        ("computed_approveAgent_testnet", sign_agent),
    ):
        vector = next(v for v in USER_SIGNED if v["name"] == name)
        action = {
            k: v
            for k, v in vector["action_as_sent"].items()
            if k not in ("signatureChainId", "hyperliquidChain")
        }
        assert helper(KEY, action, vector["is_mainnet"]) == vector["signature"]


def test_generic_user_signed_action_takes_sdk_style_type_lists() -> None:
    vector = USER_SIGNED[0]
    action = {k: vector["action_as_sent"][k] for k in ("destination", "amount", "time")}
    signature = sign_user_signed_action(KEY, action, vector["types"], vector["primary_type"], False)
    assert signature == vector["signature"]


def test_approve_agent_without_name_recovers_as_empty_name() -> None:
    # The SDK signs agentName "" and then deletes the key from the posted action.
    vector = next(v for v in USER_SIGNED if v["name"] == "computed_approveAgent_testnet")
    posted = {k: v for k, v in vector["action_as_sent"].items() if k != "agentName"}
    recovered = recover_signer(
        posted, vector["signature"], nonce=0, vault_address=None, expires_after=None, is_mainnet=False
    )
    assert recovered == ADDRESS


def test_signature_for_other_network_recovers_a_different_address() -> None:
    signature = sign_l1_action(KEY, ORDER, None, 1, None, True)
    other = recover_signer(
        ORDER, signature, nonce=1, vault_address=None, expires_after=None, is_mainnet=False
    )
    assert other != ADDRESS
    assert other.startswith("0x") and len(other) == 42


def test_r_and_s_shorter_than_64_hex_digits_are_parsed_as_integers() -> None:
    vector = next(v for v in L1 if v["name"] == "dummy_num_1000")
    assert len(vector["mainnet"]["r"]) < 66
    sig = vector["mainnet"]
    assert recover_signer(
        vector["action"], sig, nonce=0, vault_address=None, expires_after=None, is_mainnet=True
    ) == (ADDRESS)
    padded = {"r": "0x" + sig["r"][2:].rjust(64, "0"), "s": sig["s"], "v": sig["v"]}
    assert recover_signer(
        vector["action"], padded, nonce=0, vault_address=None, expires_after=None, is_mainnet=True
    ) == (ADDRESS)


@pytest.mark.parametrize(
    "signature",
    [
        {"r": "0xzz", "s": "0x1", "v": 27},
        {"r": "0x1", "s": "0x1", "v": 29},
        {"r": "0x0", "s": "0x1", "v": 27},
        {"r": hex(signing.SECP256K1_N), "s": "0x1", "v": 27},
        {"r": "0x1", "s": "0x1"},
        {"r": True, "s": "0x1", "v": 27},
        {"r": 1.5, "s": "0x1", "v": 27},
        "not a signature",
    ],
)
def test_malformed_signature_raises_signature_error(signature: Any) -> None:
    with pytest.raises(SignatureError):
        recover_signer(ORDER, signature, nonce=1, vault_address=None, expires_after=None, is_mainnet=True)


@pytest.mark.parametrize(
    ("action", "vault"),
    [
        ({"type": "usdSend", "destination": "0x1", "signatureChainId": "0x66eee"}, None),  # missing fields
        (
            {"type": "usdSend", "destination": 1, "amount": "1", "time": 1, "signatureChainId": "0x66eee"},
            None,
        ),
        ({"type": "usdSend", "destination": "0x1", "amount": "1", "time": 1}, None),  # no chain id
        (
            {
                "type": "usdSend",
                "destination": "0x1",
                "amount": "1",
                "time": 1,
                "signatureChainId": "0x" + "f" * 80,
            },
            None,
        ),
        ({"type": "usdSend", "destination": "0x1", "amount": "1", "time": 1, "signatureChainId": "zz"}, None),
        (
            {
                "type": "usdSend",
                "destination": "0x1",
                "amount": "1",
                "time": -1,
                "signatureChainId": "0x66eee",
            },
            None,
        ),
        (ORDER, "0x1234"),  # vault not 20 bytes
        (ORDER, "not hex"),
        ([1, 2], None),
    ],
)
def test_unhashable_action_raises_signature_error(action: Any, vault: str | None) -> None:
    signature = sign_l1_action(KEY, ORDER, None, 1, None, True)
    with pytest.raises(SignatureError):
        recover_signer(action, signature, nonce=1, vault_address=vault, expires_after=None, is_mainnet=True)


def test_signature_error_is_a_wingbeat_error() -> None:
    assert issubclass(SignatureError, WingbeatError)


def test_wallet_forms_all_give_the_same_signature() -> None:
    from eth_account import Account

    expected = sign_l1_action(Signer(KEY), ORDER, None, 5, None, True)
    assert sign_l1_action(KEY, ORDER, None, 5, None, True) == expected
    assert sign_l1_action(KEY[2:], ORDER, None, 5, None, True) == expected
    assert sign_l1_action(bytes.fromhex(KEY[2:]), ORDER, None, 5, None, True) == expected
    assert sign_l1_action(Account.from_key(KEY), ORDER, None, 5, None, True) == expected


@pytest.mark.parametrize("wallet", ["0x1234", "0x" + "g" * 64, "0x" + "00" * 32, b"short", 12345])
def test_bad_wallet_is_refused_without_echoing_it(wallet: Any) -> None:
    with pytest.raises(SignatureError) as info:
        sign_l1_action(wallet, ORDER, None, 1, None, True)
    if isinstance(wallet, str):
        assert wallet[2:] not in str(info.value)


def test_fast_keccak_equals_pycryptodome_object_api() -> None:
    for data in (b"", b"a", bytes(range(256)) * 3, b"x" * 136, b"x" * 135, b"x" * 137):
        assert keccak256(data) == pycryptodome_keccak.new(data=data, digest_bits=256).digest()
        assert signing._keccak256_object(data) == keccak256(data)


def test_keccak_is_consistent_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    inputs = [bytes([i]) * (i * 7) for i in range(200)]
    expected = [pycryptodome_keccak.new(data=d, digest_bits=256).digest() for d in inputs]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(keccak256, inputs * 5))
    assert results == expected * 5


def test_importing_signing_does_not_load_the_connector_or_eth_account() -> None:
    code = (
        "import sys, wingbeat.hyperliquid.signing, wingbeat.hyperliquid.signer, wingbeat.hyperliquid.wire\n"
        "print([m for m in ('eth_account', 'wingbeat.hyperliquid.connector') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_package_exports_resolve_lazily_to_the_module_objects() -> None:
    import wingbeat.hyperliquid as package
    from wingbeat.hyperliquid import signer, wire

    assert package.Signer is signer.Signer
    assert package.recover_signer is recover_signer
    assert package.Cloid is wire.Cloid
    assert "sign_l1_action" in dir(package)
    with pytest.raises(AttributeError):
        _ = package.no_such_name  # type: ignore[attr-defined]


def test_raw_signing_route_equals_coincurve_public_api_across_keys_and_threads() -> None:
    import secrets
    from concurrent.futures import ThreadPoolExecutor

    cases = [(secrets.token_bytes(32), secrets.token_bytes(32)) for _ in range(64)]
    expected = [signing._sign_object(secret, digest) for secret, digest in cases]
    assert signing.sign_recoverable_raw is not signing._sign_object  # the compiled route is the one in use
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda case: signing.sign_recoverable_raw(*case), cases * 3))
    assert results == expected * 3


@pytest.mark.parametrize(("secret", "digest"), [(b"\x01" * 31, b"\x00" * 32), (b"\x01" * 32, b"\x00" * 31)])
def test_raw_signing_route_refuses_short_buffers(secret: bytes, digest: bytes) -> None:
    with pytest.raises(SignatureError):
        signing.sign_recoverable_raw(secret, digest)
