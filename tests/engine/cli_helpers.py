"""Run the ``wingbeat`` command line as a user would: a subprocess of this interpreter."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

CLI = [sys.executable, "-m", "wingbeat.engine.cli"]


@dataclass(frozen=True, slots=True)
class Result:
    """Exit status and captured output of one command."""

    code: int
    out: str
    err: str


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without wingbeat's variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("HL_PRIVATE_KEY", "WINGBEAT_NETWORK")}
    env["COLUMNS"] = "200"  # wide tables: assertions do not depend on wrapping
    env.update(extra or {})
    return env


def child_json(script: str, timeout: float = 60) -> Any:
    """Run the Python ``script`` in a child interpreter (process-wide settings stay out of the suite) and
    return the JSON it prints; a failing child fails the test with its stderr."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout,
                          env=cli_env(), check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    """Run ``wingbeat ARGS`` to completion (blocking: only for commands that need no in-test server)."""
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, env=cli_env(env), timeout=timeout,
                          check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


async def run_cli_async(*args: str, env: dict[str, str] | None = None, limit: float = 60) -> Result:
    """Run ``wingbeat ARGS`` while this event loop keeps serving (an in-test local exchange)."""
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=cli_env(env))
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


def assert_user_error(result: Result, code: int, needle: str) -> None:
    """A short error message on stderr, the expected status, and no traceback."""
    assert result.code == code, (result.code, result.out, result.err)
    assert needle in result.err, result.err
    assert "Traceback" not in result.err + result.out
    assert len(result.err.strip().splitlines()) <= 2, result.err
