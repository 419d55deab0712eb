"""The README's command table and ``wingbeat --help`` list the same commands, so neither drifts."""

from __future__ import annotations

import re

from tests.journeys.conftest import REPO_ROOT, wingbeat

README = REPO_ROOT / "README.md"


def readme_commands() -> set[str]:
    """The commands named (`wingbeat NAME ...`) in the first cell of the README's "Command line" table."""
    section = README.read_text().split("## Command line", 1)[1].split("\n## ", 1)[0]
    first_cells = re.findall(r"^\|((?:[^|\\]|\\.)*)\|", section, re.M)  # up to the first unescaped |
    return {name for cell in first_cells for name in re.findall(r"`wingbeat ([a-z][a-z-]*)", cell)}


async def test_every_command_of_the_cli_is_in_the_readme_and_nothing_else() -> None:
    run = await wingbeat("--help", deadline=30)
    assert run.code == 0, run
    listed = run.out.split("Commands", 1)[1]
    commands = set(re.findall(r"^[\s│|]*([a-z][a-z-]+)\s{2,}\S", listed, re.M))
    assert {"demo", "run", "sim"} <= commands, run  # the parse found the list
    assert readme_commands() == commands
