"""Journey helpers: drive wingbeat end to end as a user would, through the CLI or a script.

Processes (all async, so an in-test local exchange keeps serving while they run; every wait has a deadline):

- ``await wingbeat("orders", "--json", env=account_env(acct, ex.base_url))`` runs the CLI as a subprocess
  (``python -m wingbeat.engine.cli``) and returns a `Run` (``code``, ``out``, ``err``); past its deadline the
  process is killed and the test fails with what it printed so far.
- ``await python(str(REPO_ROOT / "examples" / "quickstart.py"), "--duration", "3")`` runs a script (or
  ``python("-c", code)``) the same way. Both run in a fresh empty directory unless given ``cwd``.
- ``async with sim_process("--fund", f"{addr}=5000") as sim:`` starts ``wingbeat sim --port 0`` as its own
  process, waits until it prints its URL (``sim.url``), and stops it with SIGINT on exit (``sim.exit_code``).
- `user_env` is the environment a fresh shell would give: none of wingbeat's variables (HL_PRIVATE_KEY,
  WINGBEAT_NETWORK, ...), no COLUMNS/LINES (piped output as a script sees it), plus what you pass.

Fixtures: ``live_exchange`` is an in-process `LocalExchange` as ``wingbeat sim`` runs it (built-in
liquidity on, relaxed rate limits); ``funded_account`` is a throwaway `Trader` funded with
`JOURNEY_FUNDS` USDC on it. The root conftest's ``local_exchange`` (liquidity off) and ``trader`` work
here too; `new_trader` makes an account that does not exist on any exchange until funded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import Trader, new_trader

if TYPE_CHECKING:
    from wingbeat.sim import LocalExchange

__all__ = [
    "JOURNEY_FUNDS",
    "REPO_ROOT",
    "WINGBEAT",
    "Run",
    "SimProcess",
    "account_env",
    "assert_error_line",
    "new_trader",
    "python",
    "run_process",
    "sim_process",
    "user_env",
    "wingbeat",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
WINGBEAT = (sys.executable, "-m", "wingbeat.engine.cli")
JOURNEY_FUNDS = Decimal(100_000)
DEFAULT_DEADLINE_S = 60.0
# what a user's shell would not have set; a test passes what its journey needs through ``env``
_WINGBEAT_VARIABLES = ("HL_PRIVATE_KEY", "WINGBEAT_NETWORK", "WINGBEAT_KEYSTORE_PASSWORD", "COLUMNS", "LINES")
_URL = re.compile(r"http://[\w.\-]+:\d+")


@dataclass(frozen=True, slots=True)
class Run:
    """Exit status and everything a finished process printed."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """The non-empty lines of stderr."""
        return [line for line in self.err.splitlines() if line.strip()]

    def __str__(self) -> str:  # what an assertion message shows
        return f"exit {self.code}\n--- stdout\n{self.out[-4000:]}\n--- stderr\n{self.err[-4000:]}"


def user_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without wingbeat's variables (and terminal size), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _WINGBEAT_VARIABLES}
    env["PYTHONUNBUFFERED"] = "1"  # lines arrive as printed, so a killed process still shows its progress
    env.update(extra or {})
    return env


def account_env(account: Trader, network: str | None = None, **extra: str) -> dict[str, str]:
    """``HL_PRIVATE_KEY`` for ``account`` and, if given, ``WINGBEAT_NETWORK`` (a URL or a network name)."""
    env = {"HL_PRIVATE_KEY": account.key, **extra}
    if network is not None:
        env["WINGBEAT_NETWORK"] = network
    return env


async def run_process(
    *argv: str,
    env: Mapping[str, str] | None = None,
    deadline: float = DEFAULT_DEADLINE_S,
    stdin: str | None = None,
    cwd: Path | str | None = None,
) -> Run:
    """Run ``argv`` to completion with `user_env` (+ ``env``); kill it and fail the test past ``deadline``.

    ``cwd`` defaults to a fresh empty directory, as a user's own folder: files a command writes where it
    runs (a journal's default ``orders.db``) never land in the repository.
    """
    if cwd is None:
        with tempfile.TemporaryDirectory(prefix="wingbeat-journey-") as fresh:
            return await run_process(*argv, env=env, deadline=deadline, stdin=stdin, cwd=fresh)
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=user_env(env),
        cwd=cwd,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out_task = asyncio.ensure_future(proc.stdout.read())
    err_task = asyncio.ensure_future(proc.stderr.read())
    if stdin is not None and proc.stdin is not None:
        proc.stdin.write(stdin.encode())
        with contextlib.suppress(ConnectionError):
            await proc.stdin.drain()
        proc.stdin.close()
    try:
        code = await asyncio.wait_for(proc.wait(), deadline)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        partial = Run(
            -9, (await out_task).decode(errors="replace"), (await err_task).decode(errors="replace")
        )
        pytest.fail(f"{' '.join(argv[1:])!r} did not finish within {deadline:g} s; killed\n{partial}")
    return Run(code, (await out_task).decode(errors="replace"), (await err_task).decode(errors="replace"))


async def wingbeat(
    *args: str,
    env: Mapping[str, str] | None = None,
    deadline: float = DEFAULT_DEADLINE_S,
    stdin: str | None = None,
    cwd: Path | str | None = None,
) -> Run:
    """``wingbeat ARGS`` as a subprocess of this interpreter (see `run_process`)."""
    return await run_process(*WINGBEAT, *args, env=env, deadline=deadline, stdin=stdin, cwd=cwd)


async def python(
    *args: str,
    env: Mapping[str, str] | None = None,
    deadline: float = DEFAULT_DEADLINE_S,
    stdin: str | None = None,
    cwd: Path | str | None = None,
) -> Run:
    """``python ARGS`` (a script path relative to ``cwd``, or ``-c CODE``) with this interpreter."""
    return await run_process(sys.executable, *args, env=env, deadline=deadline, stdin=stdin, cwd=cwd)


def assert_error_line(run: Run, code: int, needle: str) -> None:
    """The process failed with ``code`` and exactly one line on stderr containing ``needle``, no traceback."""
    assert run.code == code, run
    assert "Traceback" not in run.out + run.err, run
    assert len(run.err_lines) == 1, run
    assert needle in run.err_lines[0], run


@dataclass(slots=True)
class SimProcess:
    """A ``wingbeat sim`` process: ``url`` once ready; ``out``/``err`` fill as it prints."""

    proc: asyncio.subprocess.Process
    url: str = ""
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    exit_code: int | None = None

    async def stop(self, deadline: float = 15.0) -> int:
        """SIGINT (Ctrl-C), then wait up to ``deadline``; killed and failed if it does not exit."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), deadline)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
                pytest.fail(
                    f"wingbeat sim ignored SIGINT for {deadline:g} s; killed\n{''.join(self.err)[-4000:]}"
                )
        assert self.proc.returncode is not None
        self.exit_code = self.proc.returncode
        return self.exit_code


async def _collect(stream: asyncio.StreamReader, lines: list[str]) -> None:
    async for raw in stream:
        lines.append(raw.decode(errors="replace"))


@asynccontextmanager
async def sim_process(
    *args: str, env: Mapping[str, str] | None = None, ready_deadline: float = 30.0
) -> AsyncIterator[SimProcess]:
    """``wingbeat sim --port 0 ARGS`` in its own process, yielded once it printed its URL."""
    argv = [*WINGBEAT, "sim", *args]
    if "--port" not in args:
        argv[len(WINGBEAT) + 1 : len(WINGBEAT) + 1] = ["--port", "0"]  # a free port, chosen by the OS
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=user_env(env),
        cwd=tempfile.gettempdir(),  # never the repository: nothing it writes lands in the clone
    )
    assert proc.stdout is not None and proc.stderr is not None
    sim = SimProcess(proc)
    tasks = [asyncio.ensure_future(_collect(proc.stderr, sim.err))]
    try:
        try:
            async with asyncio.timeout(ready_deadline):
                while not sim.url:
                    line = (await proc.stdout.readline()).decode(errors="replace")
                    if not line:
                        await proc.wait()
                        pytest.fail(
                            f"wingbeat sim exited {proc.returncode} before it was ready\n{''.join(sim.err)}"
                        )
                    sim.out.append(line)
                    match = _URL.search(line)
                    if match:
                        sim.url = match.group(0)
        except TimeoutError:
            pytest.fail(
                f"wingbeat sim printed no URL within {ready_deadline:g} s\n{''.join(sim.out + sim.err)}"
            )
        tasks.append(asyncio.ensure_future(_collect(proc.stdout, sim.out)))
        yield sim
        await sim.stop()  # a sim that ignores Ctrl-C fails the journey
    finally:
        if proc.returncode is None:  # the journey failed: clean up without hiding its error
            proc.kill()
            await proc.wait()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)


@pytest.fixture
async def live_exchange() -> AsyncIterator[LocalExchange]:
    """An in-process local exchange as ``wingbeat sim`` runs it: built-in liquidity on."""
    from wingbeat.sim import LocalExchange
    from wingbeat.sim.protocol.rate_limits import RELAXED_RATE_LIMITS

    async with LocalExchange(port=0, liquidity=True, rate_limits=RELAXED_RATE_LIMITS) as ex:
        yield ex


@pytest.fixture
async def funded_account(live_exchange: LocalExchange) -> Trader:
    """A throwaway account funded with `JOURNEY_FUNDS` USDC on ``live_exchange``."""
    account = new_trader()
    await live_exchange.fund(account.address, JOURNEY_FUNDS)
    return account
