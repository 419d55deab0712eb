"""The repository is self-contained: no file reads the reference folder beside the clone or an absolute path."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("src", "tests", "benchmarks", "examples", "Makefile", ".ci", "pyproject.toml")
# The reference folder beside the clone (as a relative path or a quoted path part) and absolute roots of
# this machine; the pattern is assembled from its parts so that this file does not match itself.
_REFERENCE = "sh" + "ared"
_ROOTS = ("work", "root", "home", "Users")
OUTSIDE = re.compile(
    re.escape(os.pardir + "/" + _REFERENCE) + rf"""|["']{_REFERENCE}["']|["']/(?:{"|".join(_ROOTS)})/"""
)


def scanned_files() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(
                p for p in path.rglob("*") if p.is_file() and p.suffix in {".py", ".toml", ".md", ""}
            )
    return [p for p in files if "__pycache__" not in p.parts]


def test_no_file_reads_outside_the_clone() -> None:
    offenders = []
    for path in scanned_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "reads outside the repository:\n" + "\n".join(offenders)


def test_the_fixtures_the_tests_use_are_in_the_repository() -> None:
    fixtures = ROOT / "tests" / "fixtures" / "hyperliquid"
    assert (fixtures / "vectors.json").is_file()
    assert len(list((fixtures / "payloads").glob("info_*.json"))) >= 20
    assert (fixtures / "README.md").read_text().count("_source") >= 1
