"""Arrows point down: web/ and cli/ talk to core only through the service and its views;
core never imports web/, cli/, Dash or Flask; the emulator stands apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FACADE = {"core.service", "core.views", "core.insights.views"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("folder", ["web", "cli"])
def test_web_and_cli_use_core_only_through_the_service_and_its_views(folder):
    leaks = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in sources(folder)
        for module in imported_modules(path)
        if top(module) == "core" and not any(module.startswith(allowed) for allowed in FACADE)
    }
    assert not leaks


def test_core_knows_nothing_of_the_page_or_the_command_line():
    forbidden = {"web", "cli", "dash", "dash_bootstrap_components", "flask", "app", "runtime"}
    leaks = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in sources("core")
        for module in imported_modules(path)
        if top(module) in forbidden
    }
    assert not leaks


def test_the_emulator_imports_nothing_of_the_app():
    leaks = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in sources("emulator")
        for module in imported_modules(path)
        if top(module) in {"core", "web", "cli", "app"}
    }
    assert not leaks


def test_sql_lives_only_in_the_store():
    """Queries (sqlalchemy's select, insert, update, delete, text) are written in core/store
    only; everything else goes through its functions."""
    query_words = {"select", "insert", "update", "delete", "text"}
    leaks = set()
    for path in [
        *sources("core"),
        *sources("web"),
        *sources("cli"),
        ROOT / "app.py",
        ROOT / "runtime.py",
    ]:
        if "store" in path.relative_to(ROOT).parts:
            continue
        for module in imported_modules(path):
            if module.startswith("sqlalchemy.") and module.split(".")[-1] in query_words:
                leaks.add(f"{path.relative_to(ROOT)}: {module}")
    assert not leaks
