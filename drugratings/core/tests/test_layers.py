"""The layers hold without tricks: no import of our own code hides inside a function.

An import inside a function is how a cycle between apps gets papered over (the cycle is still
there, it just fails later). The layer order itself is checked by import-linter (`make lint`).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the drugratings package

# (file relative to drugratings/, function) -> why an import inside it is right.
ALLOWED: dict[tuple[str, str], str] = {}


def _ours(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in {"drugratings", "ratingstats"}
    return any(a.name.split(".")[0] in {"drugratings", "ratingstats"} for a in node.names)


def _is_ready(path: Path, function: str) -> bool:
    # Django loads each AppConfig before the app's models exist: registering event handlers
    # and worker jobs in `ready` is the one place an import must wait (Django's documented way).
    return path.name == "apps.py" and function == "ready"


def function_level_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, function, import) of every import of our own code inside a function."""
    found = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            name = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name
            if function and isinstance(child, ast.Import | ast.ImportFrom) and _ours(child):
                found.append((child.lineno, function, ast.unparse(child)))
            visit(child, name)

    visit(ast.parse(path.read_text(), str(path)), None)
    return found


def product_files() -> list[Path]:
    return [
        p
        for p in sorted(ROOT.rglob("*.py"))
        if not {"tests", "migrations", "testing"} & set(p.relative_to(ROOT).parts)
        and p.name != "conftest.py"
    ]


def test_the_scan_finds_a_function_level_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n\n\ndef f():\n    from drugratings.ratings import actions\n"
        "    import json\n    return actions, json\n"
    )
    assert function_level_imports(sample) == [(5, "f", "from drugratings.ratings import actions")]


def test_no_import_of_our_code_inside_a_function():
    files = product_files()
    assert len(files) > 100  # the walk really covers the product
    offenders = [
        f"{path.relative_to(ROOT)}:{line} in {function}(): {text}"
        for path in files
        for line, function, text in function_level_imports(path)
        if not _is_ready(path, function) and (str(path.relative_to(ROOT)), function) not in ALLOWED
    ]
    assert offenders == [], "\n".join(offenders)
