"""Module boundaries (issue 8, "Done when"): no command module imports another command module.

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
