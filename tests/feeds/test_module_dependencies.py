"""Issue 14: catalog/feeds/services.py and catalog/tasks.py imported each other. One direction now:
the task calls the service; the service starts the task by its name (moodstream.celery.enqueue)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add("." * node.level + node.module)
    return modules


def test_the_feed_package_never_imports_the_tasks_module():
    for path in (ROOT / "catalog" / "feeds").glob("*.py"):
        imported = _imported_modules(path)
        assert "catalog.tasks" not in imported and "..tasks" not in imported, path


def test_the_tasks_module_calls_the_feed_services():
    assert "catalog.feeds.services" in _imported_modules(ROOT / "catalog" / "tasks.py")
