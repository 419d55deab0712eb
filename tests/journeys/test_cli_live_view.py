"""The live view in a real terminal: ``wingbeat -v demo`` and ``wingbeat run`` (at INFO) in a pseudo-terminal.

Each runs as a user starts it from a shell: its own session with the pty as controlling terminal, so
Ctrl-C is the byte ``\\x03`` typed into the terminal (the line discipline turns it into SIGINT and,
unless told otherwise, echoes ``^C``). What it prints is fed to a VT100 emulator (pyte) and the
assertions are about the screen a user sees: log lines above exactly one frame while it runs, the final
frame drawn once after Ctrl-C, and the summary's figures equal to that frame's.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import struct
import sys
import tempfile
import termios
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyte

from tests.journeys.conftest import WINGBEAT, account_env, user_env

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

COLUMNS, ROWS = 120, 200  # tall enough that nothing scrolls off during the run
FRAME_TOP = re.compile(r"^╭─+ wingbeat ─+╮$")
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO|WARNING|ERROR) +wingbeat")
# the session leader opens the terminal, which makes it the controlling one, then becomes wingbeat
_LAUNCH = "import os, sys; os.close(os.open(os.ttyname(0), os.O_RDWR)); os.execv(sys.argv[1], sys.argv[1:])"


class Terminal:
    """The master side of a pty: everything the program printed, as a screen."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self._stream = pyte.ByteStream(self.screen)
        self._changed = asyncio.Event()
        os.set_blocking(self.master, False)
        asyncio.get_running_loop().add_reader(self.master, self._read)

    def _read(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the program exited and closed its side
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
        self._stream.feed(data)
        self._changed.set()

    def lines(self) -> list[str]:
        """The screen's lines, trailing blanks stripped."""
        return [line.rstrip() for line in self.screen.display]

    async def wait_for(self, what: str, predicate: Callable[[list[str]], bool], deadline: float = 60) -> None:
        """Wait until ``predicate(lines)`` holds; fail with the screen past ``deadline`` seconds."""
        try:
            async with asyncio.timeout(deadline):
                while not predicate(self.lines()):
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"no {what} within {deadline} s; the screen:\n" + "\n".join(self.lines())
            ) from None

    def type(self, data: bytes) -> None:
        """Type ``data`` on the keyboard."""
        os.write(self.master, data)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        os.close(self.master)


def _frame_tops(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if FRAME_TOP.match(line)]


def _frame_figures(lines: list[str], top: int) -> dict[str, str]:
    frame = "\n".join(lines[top:])
    fills = re.search(r"fills \((\d+)\)", frame)
    position = re.search(r"│ position +(\S+)", frame)
    net = re.search(r"net PnL +(\S+)", frame)
    assert fills and position and net, frame
    return {"fills": fills.group(1), "position": position.group(1), "net PnL": net.group(1)}


def _summary_figures(lines: list[str]) -> dict[str, str]:
    rows = {
        m.group(1).strip(): m.group(2) for line in lines if (m := re.match(r"^│ (.+?) +│ +(\S.*?) │$", line))
    }
    return {"fills": rows["fills"], "position": rows["final position"], "net PnL": rows["net PnL"]}


async def _watch_then_ctrl_c(*args: str, env: dict[str, str]) -> None:
    """Run ``wingbeat ARGS`` in a terminal; check the screen while it runs and after Ctrl-C."""
    term = Terminal()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _LAUNCH,
        *WINGBEAT,
        *args,
        stdin=term.slave,
        stdout=term.slave,
        stderr=term.slave,
        env=user_env({"TERM": "xterm-256color", **env}),
        cwd=tempfile.gettempdir(),  # a journal it writes never lands in the clone
        start_new_session=True,
    )
    os.close(term.slave)
    try:
        # running, and the market maker has replaced its quotes at least once: log lines while the frame is up
        await term.wait_for(
            "frame with logs printed while it runs",
            lambda lines: (
                any("cancelled" in line and LOG_LINE.match(line) for line in lines)
                and any("·  running" in line for line in lines)
            ),
        )
        lines = term.lines()
        tops = _frame_tops(lines)
        assert len(tops) == 1, "\n".join(lines)  # one frame, however many log lines arrived
        logs = [i for i, line in enumerate(lines) if LOG_LINE.match(line)]
        assert logs and max(logs) < tops[0], "\n".join(lines)  # every log line above it

        term.type(b"\x03")  # Ctrl-C
        await term.wait_for(
            "summary",
            lambda lines: (
                any("stopped because" in line for line in lines)
                and any(line.startswith("└") for line in lines)
            ),
        )
        code = await asyncio.wait_for(proc.wait(), 30)
        lines = term.lines()
        screen = "\n".join(lines)
        assert code == 0, screen
        tops = _frame_tops(lines)
        assert len(tops) == 1, screen  # the final frame, drawn once (no second top edge, no torn copy)
        assert "stopped: stopped by user" in lines[tops[0] + 1], screen
        assert "^C" not in screen
        assert _frame_figures(lines, tops[0]) == _summary_figures(lines), screen
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        term.close()


async def test_demo_logs_print_above_one_frame_and_ctrl_c_leaves_the_final_frame_once() -> None:
    await _watch_then_ctrl_c("-v", "demo", "--duration", "120", "--seed", "7", env={})


async def test_run_at_info_logs_above_one_frame_and_its_summary_is_the_final_frame(
    live_exchange: LocalExchange, funded_account: Trader, tmp_path: Path
) -> None:
    config = tmp_path / "mm.toml"
    config.write_text(f"""
[exchange]
network = "{live_exchange.base_url}"
journal_path = ""

[engine]
tick_interval = 0.5
log_level = "INFO"

[strategy]
kind = "market_maker"
trading_pair = "BTC-USD"
order_amount = "0.002"
bid_spread = "0.0001"
ask_spread = "0.0001"
order_refresh_time = 2.0
""")
    await _watch_then_ctrl_c("run", str(config), env=account_env(funded_account))
