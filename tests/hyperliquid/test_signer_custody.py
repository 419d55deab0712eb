"""Key custody beyond repr: no traceback frame holds the key, a half-built Signer has a repr, loose keystores
are reported."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest
from eth_account import Account

from wingbeat.hyperliquid.signer import Signer, is_variable_name
from wingbeat.hyperliquid.signing import SignatureError

SECRET = bytes.fromhex("c0ffee" * 9 + "0badf00d01")  # throwaway, never a real key
PASSWORD = "pw"


def _frames(error: BaseException) -> Iterator[dict[str, object]]:
    """The locals of every library frame an error report would show: its traceback and every chained
    error's (this file's own frames hold the key by construction)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        exc = pending.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        tb: TracebackType | None = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename != __file__:
                yield dict(tb.tb_frame.f_locals)
            tb = tb.tb_next
        pending += [exc.__context__, exc.__cause__]


def _holds(value: object, needle: str) -> bool:
    if isinstance(value, bytes | bytearray):
        return needle in bytes(value).hex()
    return isinstance(value, str) and needle in value.lower()


@pytest.mark.parametrize("bad", ["0x" + "ff" * 32, "0x" + SECRET.hex()[:-2], SECRET.hex() + "zz"])
def test_an_invalid_key_is_in_no_frame_of_its_traceback(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    needle = bad[2:30].lower() if bad.startswith("0x") else bad[:28]
    monkeypatch.setenv("WINGBEAT_TEST_KEY", bad)
    for build in (lambda: Signer(bad), lambda: Signer.from_env("WINGBEAT_TEST_KEY")):
        with pytest.raises(SignatureError) as error:
            build()
        assert error.value.__context__ is None and error.value.__cause__ is None  # nothing chained to it
        frames = list(_frames(error.value))
        assert frames  # the library's frames are there to inspect
        for frame in frames:
            for name, value in frame.items():
                assert not _holds(value, needle), f"frame local {name!r} holds the key"
                repr(value)  # what a locals-capturing tool calls: it must not raise either


def test_a_half_built_signer_has_a_repr_without_secrets() -> None:
    never_initialised = Signer.__new__(Signer)
    assert repr(never_initialised) == str(never_initialised) == "Signer(<no key loaded>)"


def test_the_key_variable_must_be_a_name_and_a_pasted_key_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pasted = "0x" + SECRET.hex()
    assert is_variable_name("HL_PRIVATE_KEY") and not is_variable_name(pasted)
    assert not is_variable_name(SECRET.hex())  # all hex digits are identifier characters: still refused
    for variable in (pasted, SECRET.hex()):
        monkeypatch.setenv("X", "1")
        with pytest.raises(SignatureError) as error:
            Signer.from_env(variable)
        assert SECRET.hex() not in str(error.value).lower() and "NAME" in str(error.value)


@pytest.mark.skipif(os.name != "posix", reason="mode bits are POSIX")
def test_a_keystore_others_can_read_is_a_warning_naming_the_fix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keystore = tmp_path / "wallet.json"
    keystore.write_text(json.dumps(Account.encrypt(SECRET, PASSWORD, iterations=2)))
    keystore.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="wingbeat.hyperliquid.signer"):
        Signer.from_keystore(keystore, PASSWORD)
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert str(keystore) in record.getMessage() and "chmod 600" in record.getMessage()
    assert "-rw-r--r--" in record.getMessage()

    caplog.clear()
    keystore.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="wingbeat.hyperliquid.signer"):
        Signer.from_keystore(keystore, PASSWORD)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
