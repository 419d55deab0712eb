"""Crash safety of track-before-submit: a child process placing orders is SIGKILLed at random points; the
journal it leaves must know every order whose request could have been sent, and a restarted connector must
track them all again."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_state import OrderState

from .journal_crash_child import CrashConnector

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 6


def run_child_until_killed(path: Path, seed: int, kill_after_sent: int) -> set[str]:
    """Start the child, SIGKILL it after ``kill_after_sent`` SENT lines; return every cid it reported."""
    errors = path.with_suffix(f".{seed}.stderr")
    with errors.open("wb") as stderr:  # a file, not a pipe: a chatty child can never block on it
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.core.journal_crash_child", str(path), str(seed)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr,
        )
    sent: set[str] = set()
    assert child.stdout is not None
    try:
        line = child.stdout.readline()
        assert line == b"READY\n", (line, errors.read_text())
        while len(sent) < kill_after_sent:
            line = child.stdout.readline()
            assert line.startswith(b"SENT "), line
            sent.add(line[5:].strip().decode())
        os.kill(child.pid, signal.SIGKILL)
        # whatever reached the pipe before the kill was "sent" as well; a line cut by the kill is incomplete
        *complete, _cut = child.stdout.read().split(b"\n")
        sent.update(row[5:].decode() for row in complete if row.startswith(b"SENT "))
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=5)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return sent


async def test_every_sent_order_survives_sigkill_and_is_tracked_after_restart(tmp_path: Path) -> None:
    rng = random.Random(20240611)
    path = tmp_path / "orders.db"
    all_sent: set[str] = set()
    for round_no in range(ROUNDS):
        kill_after = rng.choice([1, 2, rng.randint(3, 50), rng.randint(50, 400)])
        sent = await asyncio.to_thread(run_child_until_killed, path, rng.randrange(1 << 30), kill_after)
        assert len(sent) >= kill_after
        all_sent |= sent
        journaled = {o.client_order_id for o in OrderJournal(path).iter_orders()}
        missing = all_sent - journaled
        assert not missing, f"round {round_no}: {len(missing)} sent order(s) missing from the journal"

    restarted = CrashConnector(trading_pairs=["BTC-USD"], journal_path=path, status_retry_delay=0)
    await restarted.start()
    try:
        await restarted.wait_ready(timeout=10)
        await restarted.wait_recovered(timeout=10)
        by_id = {o.client_order_id: o for o in OrderJournal(path).iter_orders()}
        assert all_sent <= set(by_id)
        for cid in all_sent:
            order = restarted.get_order(cid)
            if order is None:  # final before the crash (e.g. cancelled): not reloaded, the journal says why
                assert by_id[cid].current_state.is_final
            else:  # reconciled with the venue before wait_recovered() returned
                assert order.current_state is OrderState.OPEN
    finally:
        await restarted.stop()
