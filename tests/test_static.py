"""The package's own static checks, run with the tests so CI keeps them: ruff (lint), mypy (types, the
package and the tests), and the architecture of docs/design.md (no import cycle, AWS only in fsx.py,
a thin provider)."""

from __future__ import annotations

import ast
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "fsx_backup_component"
# Each test directory is its own import root (no __init__.py; helpers imported by bare name).
TEST_DIRECTORIES = sorted(p.name for p in (REPO / "tests").iterdir() if p.is_dir() and any(p.glob("*.py")))


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("target", ["fsx_backup_component", "bench", "examples", "tools"])
def test_ruff_is_clean(target: str) -> None:
    done = _run("ruff", "check", target)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean_on_the_package_and_its_tools() -> None:
    done = _run("mypy", "fsx_backup_component", "bench", "tools", "tests/conftest.py", "tests/test_static.py")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("directory", TEST_DIRECTORIES)
def test_mypy_is_clean_on_the_tests(directory: str) -> None:
    done = _run("mypy", f"tests/{directory}", env={"MYPYPATH": f"tests/{directory}"})
    assert done.returncode == 0, done.stdout + done.stderr


def test_test_file_names_are_unique_across_test_directories() -> None:
    """The test directories have no __init__.py: pytest imports each test file by its bare name, and
    two files of one name stop the whole run at collection."""
    names = [p.name for p in (REPO / "tests").rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []


# -------------------------------------------------------------------------------------------------
# architecture (docs/design.md, "Where each rule lives")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports, at any depth (function bodies and TYPE_CHECKING blocks included)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from . import fsx`
    return found


def _package_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_anywhere_in_the_package() -> None:
    graph = _package_graph()
    # Parent packages are imported implicitly; only module-to-module imports can form a cycle.
    graph = {name: {m for m in deps if not name.startswith(m + ".")} for name, deps in graph.items()}
    assert _cycles(graph) == []


def test_aws_is_called_from_fsx_py_only() -> None:
    """boto3/botocore in the package: fsx.py (every AWS call) and the emulator (testing/)."""
    users = {
        name
        for name, path in ((_module_name(p), p) for p in PACKAGE.rglob("*.py"))
        if any(m.split(".")[0] in ("boto3", "botocore") for m in _imports(path))
    }
    assert {u for u in users if not u.startswith("fsx_backup_component.testing")} == {"fsx_backup_component.fsx"}


def test_the_provider_is_a_thin_adapter_and_the_poller_generic() -> None:
    graph = _package_graph()
    assert "fsx_backup_component.fsx" not in graph["fsx_backup_component.provider"]
    assert "fsx_backup_component.fsx" not in graph["fsx_backup_component.watcher"]
    assert len((PACKAGE / "provider.py").read_text(encoding="utf-8").splitlines()) < 250
    # The pure modules import no I/O: only each other and errors.py.
    for pure in ("eligibility", "token"):
        assert graph[f"fsx_backup_component.{pure}"] <= {"fsx_backup_component.errors"}, pure


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _floors() -> dict[str, int]:
    """{module: floor} from docs/design.md's "The modules, floor by floor" (0 = the top floor)."""
    text = (REPO / "docs" / "design.md").read_text(encoding="utf-8")
    block = text.split("## The modules, floor by floor", 1)[1].split("```", 2)[1]
    floors: dict[str, int] = {}
    floor = -1
    for line in block.splitlines():
        if line.startswith("testing/"):
            break  # the emulator: outside the floors (it imports nothing of them)
        if not line.strip():
            continue
        if line[:15].strip():
            floor += 1
        path = line[15:].split()[0]
        floors["fsx_backup_component." + path.removesuffix(".py").replace("/", ".")] = floor
    return floors


def _layered_modules() -> set[str]:
    return {
        _module_name(p) for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" and "testing" not in p.relative_to(PACKAGE).parts
    }


def test_the_design_doc_lists_every_module_and_only_modules_that_exist() -> None:
    assert set(_floors()) == _layered_modules()


def test_no_module_imports_one_on_a_floor_above_its_own() -> None:
    floors = _floors()
    graph = _package_graph()
    upward = sorted(
        f"{name} (floor {floors[name]}) imports {dep} (floor {floors[dep]})"
        for name in _layered_modules() & set(floors)
        for dep in graph[name]
        if dep in floors and floors[dep] < floors[name]
    )
    assert upward == []


# Files the docs cite that are not ours: other projects' code we learned from, and the
# measured "before" of a refactor.
FOREIGN_CITATIONS = {
    "pulumi/runtime/stack.py", "pulumi/dynamic/__main__.py", "pulumi/resource_hooks.py",
    "retries/standard.py", "tasks.py", "upload.py", "download.py", "futures.py", "exceptions.py",
    "base.py", "config.py", "operations.py",
}


def test_every_file_the_docs_cite_exists() -> None:
    ours = [p.relative_to(REPO).as_posix() for p in REPO.rglob("*.py") if ".venv" not in p.parts]
    docs = [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md", REPO / "BENCHMARKS.md"]
    missing = sorted(
        f"{doc.name}: {cited}"
        for doc in docs
        for cited in set(re.findall(r"(?<![\w/.-])([\w./-]*[\w-]+\.py)\b", doc.read_text(encoding="utf-8")))
        if (name := cited.lstrip("/")) not in FOREIGN_CITATIONS
        and not any(p == name or p.endswith("/" + name) for p in ours)
    )
    assert missing == []


def test_the_modules_scheduled_first_exist() -> None:
    """tests/conftest.py collects these first so the parallel run starts them first: a renamed one
    would silently fall back to the end of the run."""
    tree = ast.parse((REPO / "tests" / "conftest.py").read_text(encoding="utf-8"))
    (listed,) = [
        ast.literal_eval(node.value) for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SLOWEST_FIRST" for t in node.targets)
    ]
    assert listed and [m for m in listed if not (REPO / m).is_file()] == []
