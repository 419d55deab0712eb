"""Owned background tasks: every task has a name, an owner that keeps a reference, a logged failure and a
cancel-and-await on stop. No fire-and-forget anywhere in wingbeat."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["TaskOwner"]

_T = TypeVar("_T")


class TaskOwner:
    """Creates, keeps and stops the background tasks of one component.

    ``create_task`` names each task ``"<owner>.<name>"`` and holds a strong reference until it ends; a task
    that ends with an exception is logged on the owner's logger. ``stop()`` cancels every live task and
    awaits them (bounded by a timeout), so no task outlives its component.
    """

    __slots__ = ("_logger", "_name", "_tasks")

    def __init__(self, name: str, logger: logging.Logger | None = None) -> None:
        self._name = name
        self._logger = logger or logging.getLogger(f"wingbeat.tasks.{name}")
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def name(self) -> str:
        """Prefix of every task name."""
        return self._name

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        """Tasks that are still running."""
        return frozenset(self._tasks)

    def create_task(self, coro: Coroutine[Any, Any, _T], *, name: str) -> asyncio.Task[_T]:
        """Start ``coro`` as a task named ``"<owner>.<name>"`` that this owner keeps and logs."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._name}.{name}")
        self._tasks.add(task)
        task.add_done_callback(self._on_done)
        return task

    def _on_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._logger.error("task %s failed", task.get_name(), exc_info=exc)

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a grace period, not a deadline
        """Cancel every live task and wait (up to ``timeout`` seconds) until they have all ended."""
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            self._logger.error("task %s did not stop within %.1fs", task.get_name(), timeout)
