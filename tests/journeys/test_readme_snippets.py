"""The README as a newcomer reads it: every ``python`` block runs as written and prints what it says.

The blocks are read from README.md at test time, so the README and this test cannot drift apart. A block
marks what it must print with ``# prints: TEXT`` comments (each TEXT must appear on its output, in order).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.journeys.conftest import REPO_ROOT, python, wingbeat

README = REPO_ROOT / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_PRINTS = re.compile(r"#\s*prints:\s*(.+?)\s*$", re.M)


def python_blocks() -> list[str]:
    """Every ```python block of the README, in order."""
    return _BLOCK.findall(README.read_text())


def test_the_readme_starts_with_the_two_commands_and_links_the_docs() -> None:
    text = README.read_text()
    block = text.split("```")[1]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make run", "make test"]
    for link in (
        "docs/ARCHITECTURE.md",
        "docs/CONTRIBUTING.md",
        "benchmarks/README.md",
        "docs/img/live-view.png",
    ):
        assert f"]({link})" in text, link
        assert (REPO_ROOT / link).is_file(), link


def test_every_python_block_says_what_it_prints() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 2  # the quick start and the strategy at least
    for block in blocks:
        assert _PRINTS.search(block), block


@pytest.mark.parametrize("index", range(len(python_blocks())))
async def test_python_block_runs_as_written(index: int, tmp_path: Path) -> None:
    block = python_blocks()[index]
    run = await python("-c", block, cwd=tmp_path, deadline=60)  # cwd: files it writes (orders.db) stay there
    assert run.code == 0, run
    assert "Traceback" not in run.err, run
    position = 0
    for expected in _PRINTS.findall(block):
        found = run.out.find(expected, position)
        assert found >= 0, f"{expected!r} not printed (in order)\n{run}"
        position = found + len(expected)


async def test_the_quick_start_leaves_its_order_in_the_journal(tmp_path: Path) -> None:
    quick_start = python_blocks()[0]
    assert 'journal_path="orders.db"' in quick_start
    assert (await python("-c", quick_start, cwd=tmp_path)).code == 0
    run = await wingbeat("journal", "orders.db", "--json", cwd=tmp_path)
    assert run.code == 0, run
    [order] = json.loads(run.out)["orders"]
    assert (order["trading_pair"], order["side"], order["state"]) == ("BTC-USD", "buy", "CANCELED"), order
    assert order["executed_amount"] == "0", order
