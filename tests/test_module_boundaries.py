"""Module boundaries (issue 8, "Done when"): no command module imports another command module, and
the package's modules import each other without cycles.

The command modules are the ``heartbert`` subcommands (``cli.COMMANDS``) and the console scripts in
``pyproject.toml``. Every import in them is read from the source (module level and inside functions),
so a lazy ``from .plots import ...`` inside ``main`` counts too. Shared code belongs in a library
module (``plotting``, ``inference``, ``runtime``, ``data`` ...).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "heartbert_hf"


def command_modules() -> set[str]:
    """Dotted names of every command module: the subcommands and the console scripts' modules."""
    from heartbert_hf.cli import COMMANDS

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"].get("scripts", {})
    return {module for module, _ in COMMANDS.values()} | {target.split(":")[0] for target in scripts.values()}


def imported_modules(source: str, module: str) -> set[str]:
    """Every module ``source`` (the text of ``module``) imports, as absolute dotted names.

    ``from . import x`` counts as importing ``package.x`` (``x`` may be a module); string arguments
    of ``importlib.import_module`` count too.
    """
    package = module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def _path(module: str) -> Path:
    return REPO / (module.replace(".", "/") + ".py")


def test_the_checker_sees_lazy_and_relative_imports():
    source = "import os\n\ndef main():\n    from .plots import main as m\n    from . import embed\n    from .data.wfdb_io import read_record\n"
    found = imported_modules(source, f"{PACKAGE}.quickstart")
    assert {f"{PACKAGE}.plots", f"{PACKAGE}.embed", f"{PACKAGE}.data.wfdb_io"} <= found and "os" in found


def test_command_modules_exist():
    modules = command_modules()
    assert {f"{PACKAGE}.plots", f"{PACKAGE}.embed", f"{PACKAGE}.quickstart", f"{PACKAGE}.cli"} <= modules
    missing = sorted(m for m in modules if not _path(m).is_file())
    assert not missing, f"command modules without a source file: {missing}"


def test_no_command_module_imports_another():
    modules = command_modules()
    offenders = {}
    for module in sorted(modules):
        others = (imported_modules(_path(module).read_text(), module) & modules) - {module}
        if others:
            offenders[module] = sorted(others)
    assert not offenders, f"command modules importing other command modules (move the shared code into a library module): {offenders}"


def package_modules() -> dict[str, Path]:
    """Dotted name → source of every package module (the copied remote-code files of shipped models excluded)."""
    out = {}
    for path in (REPO / PACKAGE).rglob("*.py"):
        rel = path.relative_to(REPO).with_suffix("")
        if "models" in rel.parts or "dataset_scripts" in rel.parts:
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        out[".".join(parts)] = path
    return out


def import_time_edges(source: str, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Package modules that ``module`` imports while it is being imported: module-level statements
    (also inside top-level ``try`` / ``if``, but not ``if TYPE_CHECKING``); imports inside functions run later."""
    tree = ast.parse(source)
    body = list(tree.body)
    top = []
    while body:
        node = body.pop(0)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.If, ast.Try)):
            body[:0] = [*node.body, *getattr(node, "orelse", []), *[s for h in getattr(node, "handlers", []) for s in h.body]]
        top.append(node)
    wrapped = ast.Module(body=[n for n in top if isinstance(n, (ast.Import, ast.ImportFrom))], type_ignores=[])
    name = f"{module}.__init__" if is_package else module
    return {m for m in imported_modules(ast.unparse(wrapped), name) if m in known and m != module}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (module → modules it imports), or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if not state.get(nxt) and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if not state.get(node) and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    src = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import x\ntry:\n    from .c import y\nexcept ImportError:\n    pass\ndef f():\n    from .d import z\n"
    known = {f"{PACKAGE}.{m}" for m in "abcd"}
    assert import_time_edges(src, f"{PACKAGE}.a", False, known) == {f"{PACKAGE}.c"}


def test_no_import_cycles_in_the_package():
    modules = package_modules()
    assert f"{PACKAGE}.modeling_heartbert" in modules and f"{PACKAGE}.data.corpus" in modules
    graph = {m: import_time_edges(p.read_text(), m, p.name == "__init__.py", set(modules)) for m, p in modules.items()}
    assert sum(len(v) for v in graph.values()) > 20  # the checker sees the package's real imports
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"
