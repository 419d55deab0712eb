"""Signer key custody (env, hex, keystore, agent wallets, vaults; the key never leaks) and NonceManager."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import pickle
import threading
import traceback
from pathlib import Path

import pytest
from eth_account import Account

from wingbeat.hyperliquid.signer import KEYSTORE_PASSWORD_ENV, NonceManager, Signer
from wingbeat.hyperliquid.signing import SignatureError, recover_signer, sign_l1_action
from wingbeat.hyperliquid.wire import Cloid

KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
KEY_BODY = KEY[2:]
ADDRESS = "0x14791697260e4c9a71f18484c9f997b308e59325"
MAIN = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
VAULT = "0x1d9470d4b963f552e6f671a81619d395877bf409"
ORDER = {
    "type": "order",
    "orders": [{"a": 1, "b": True, "p": "100", "s": "100", "r": False, "t": {"limit": {"tif": "Gtc"}}}],
    "grouping": "na",
}


def _assert_no_key(text: str) -> None:
    assert KEY_BODY not in text
    assert KEY_BODY.upper() not in text
    assert str(int(KEY_BODY, 16)) not in text


def test_signer_from_hex_has_the_right_address_and_trades_its_own_account() -> None:
    signer = Signer(KEY)
    assert signer.address == ADDRESS
    assert signer.account_address == ADDRESS
    assert not signer.is_agent
    assert Signer(KEY_BODY).address == ADDRESS
    assert Signer(bytes.fromhex(KEY_BODY)).address == ADDRESS


def test_key_never_appears_in_repr_str_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    signer = Signer(KEY, account_address=MAIN)
    signer.sign_l1_action(ORDER, nonce=1, is_mainnet=True)
    for text in (repr(signer), str(signer), f"{signer}", caplog.text):
        _assert_no_key(text)
    assert ADDRESS in repr(signer) and MAIN in repr(signer)


def test_signer_cannot_be_pickled_or_copied() -> None:
    signer = Signer(KEY)
    for attempt in (lambda: pickle.dumps(signer), lambda: copy.copy(signer), lambda: copy.deepcopy(signer)):
        with pytest.raises(TypeError) as info:
            attempt()
        _assert_no_key(str(info.value))


@pytest.mark.parametrize(
    "bad_key",
    [
        KEY[:-1],  # 63 hex digits
        KEY + "00",
        KEY[:-1] + "g",
        "0x" + "00" * 32,  # zero is not a key
        "0x" + "ff" * 32,  # above the curve order
        "",
    ],
)
def test_malformed_key_is_refused_without_echoing_it(bad_key: str) -> None:
    with pytest.raises(SignatureError) as info:
        Signer(bad_key)
    # What a logger would print: message, repr and the whole rendered traceback with chained exceptions.
    text = repr(info.value) + "".join(traceback.format_exception(info.value))
    if bad_key:
        assert bad_key[2:40] not in text


def test_from_env_reads_the_key_and_reports_a_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HL_PRIVATE_KEY", KEY + "\n")
    assert Signer.from_env("HL_PRIVATE_KEY").address == ADDRESS
    monkeypatch.delenv("HL_PRIVATE_KEY")
    with pytest.raises(SignatureError, match="HL_PRIVATE_KEY is not set"):
        Signer.from_env()
    monkeypatch.setenv("HL_PRIVATE_KEY", KEY_BODY[:-2] + "zz")
    with pytest.raises(SignatureError, match="HL_PRIVATE_KEY") as info:
        Signer.from_env()
    _assert_no_key(str(info.value))


@pytest.fixture(scope="module")
def keystore_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "key.json"
    # Low KDF cost: the file format is what is tested, not scrypt's strength.
    path.write_text(json.dumps(Account.encrypt(KEY, "s3cret", kdf="pbkdf2", iterations=2)))
    return path


def test_from_keystore_with_password_argument_and_env(
    keystore_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Signer.from_keystore(keystore_file, "s3cret").address == ADDRESS
    monkeypatch.setenv(KEYSTORE_PASSWORD_ENV, "s3cret")
    assert Signer.from_keystore(str(keystore_file), account_address=MAIN).account_address == MAIN


def test_from_keystore_prompts_when_no_password_is_given(
    keystore_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEYSTORE_PASSWORD_ENV, raising=False)
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or "s3cret")
    assert Signer.from_keystore(keystore_file).address == ADDRESS
    assert len(prompts) == 1 and keystore_file.name in prompts[0]


def test_from_keystore_wrong_password_or_bad_file_is_a_clear_error(
    keystore_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(SignatureError, match="wrong password") as info:
        Signer.from_keystore(keystore_file, "nope")
    _assert_no_key(str(info.value))
    with pytest.raises(SignatureError, match="cannot read keystore"):
        Signer.from_keystore(tmp_path / "missing.json", "x")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(SignatureError, match="cannot read keystore"):
        Signer.from_keystore(garbage, "x")


def test_agent_wallet_signs_with_its_own_key_for_the_main_account() -> None:
    agent = Signer(KEY, account_address=MAIN.upper().replace("0X", "0x"))
    assert agent.is_agent
    assert agent.address == ADDRESS
    assert agent.account_address == MAIN
    signature = agent.sign_l1_action(ORDER, nonce=7, is_mainnet=False)
    assert recover_signer(
        ORDER, signature, nonce=7, vault_address=None, expires_after=None, is_mainnet=False
    ) == (ADDRESS)
    with pytest.raises(SignatureError, match="account address"):
        Signer(KEY, account_address="0x123")


def test_vault_address_is_part_of_the_signed_hash() -> None:
    signer = Signer(KEY)
    for_vault = signer.sign_l1_action(ORDER, nonce=9, vault_address=VAULT, is_mainnet=True)
    assert for_vault != signer.sign_l1_action(ORDER, nonce=9, is_mainnet=True)
    assert for_vault == sign_l1_action(KEY, ORDER, VAULT, 9, None, True)
    assert recover_signer(
        ORDER, for_vault, nonce=9, vault_address=VAULT, expires_after=None, is_mainnet=True
    ) == (ADDRESS)
    assert recover_signer(
        ORDER, for_vault, nonce=9, vault_address=None, expires_after=None, is_mainnet=True
    ) != (ADDRESS)


def test_sign_digest_refuses_wrong_length() -> None:
    with pytest.raises(SignatureError, match="32 bytes"):
        Signer(KEY).sign_digest(b"short")


# --------------------------------------------------------------------------------------------- nonces


def test_nonces_follow_the_clock_and_never_repeat_when_it_stalls_or_goes_back() -> None:
    now = [1_000]
    nonces = NonceManager(clock=lambda: now[0])
    assert nonces.next_nonce() == 1_000
    assert nonces.next_nonce() == 1_001  # clock did not move
    now[0] = 900  # clock stepped back
    assert nonces.next_nonce() == 1_002
    now[0] = 5_000
    assert nonces.next_nonce() == 5_000
    nonces.observe(9_000)
    assert nonces.next_nonce() == 9_001
    assert nonces.last == 9_001


def test_nonces_are_unique_and_increasing_across_threads() -> None:
    nonces = NonceManager(clock=lambda: 42)
    per_thread: list[list[int]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def work(out: list[int]) -> None:
        start.wait()
        out.extend(nonces.next_nonce() for _ in range(2_000))

    threads = [threading.Thread(target=work, args=(out,)) for out in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [n for out in per_thread for n in out]
    assert len(set(everything)) == len(everything) == 16_000
    assert all(out == sorted(out) for out in per_thread)


async def test_nonces_are_unique_across_asyncio_tasks() -> None:
    signer = Signer(KEY, nonce_manager=NonceManager(clock=lambda: 7))

    async def take(count: int) -> list[int]:
        out = []
        for _ in range(count):
            out.append(signer.next_nonce())
            await asyncio.sleep(0)  # yield to interleave tasks
        return out

    results = await asyncio.gather(*(take(100) for _ in range(10)))
    everything = [n for out in results for n in out]
    assert len(set(everything)) == 1_000
    assert min(everything) == 7


def test_default_clock_gives_millisecond_wall_time() -> None:
    import time

    before = time.time_ns() // 1_000_000
    nonce = NonceManager().next_nonce()
    assert before <= nonce <= time.time_ns() // 1_000_000 + 1


def test_cloid_is_usable_as_client_order_id() -> None:
    cloid = Cloid.new()
    assert Cloid.from_str(str(cloid)) == cloid
