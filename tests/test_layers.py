"""The layers of ovlite: no import circle in the core, and plugins that use only the plugin API.

Plugin API 2 (docs/plugins.md) promises that a plugin needs only ``ovlite`` (errors, types,
``Model``), ``ovlite.plugin`` and ``ovlite.properties``; and the core is layered so that no
module needs, however indirectly, a module that needs it.  Both are read from the source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "ovlite"
PLUGIN_PACKAGES = sorted(
    [*ROOT.glob("plugins/*/ovlite_*"), ROOT / "examples" / "reference-plugin" / "ovlite_reference"]
)
#: What a plugin package may import from ovlite.
PLUGIN_SURFACES = ("ovlite", "ovlite.plugin", "ovlite.properties")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import, at module level or inside functions, except under ``if TYPE_CHECKING``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _imported(
    module: str, is_package: bool, node: ast.Import | ast.ImportFrom, modules: set[str]
) -> list[str]:
    """The modules an import statement loads: ``from x import y`` loads ``x.y`` when that is
    one of ``modules``, else ``x``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join([*base, *([node.module] if node.module else [])])
    else:
        prefix = node.module or ""
    loaded = {f"{prefix}.{alias.name}" for alias in node.names} & modules
    return sorted(loaded) or [prefix]


def core_import_graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in CORE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text())):
            edges.update(set(_imported(module, is_package, node, set(files))) & set(files))
        edges.discard(module)
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (``[a, b, ..., a]``), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_of_the_core_imports_itself_in_a_circle() -> None:
    cycle = find_cycle(core_import_graph())
    assert cycle is None, "import circle in ovlite/: " + " -> ".join(cycle or [])


def test_the_core_reaches_meta_devices_only_through_the_registry() -> None:
    graph = core_import_graph()
    assert not {m for m in graph["ovlite.core"] if m.startswith("ovlite.meta")}


@pytest.mark.parametrize("package", PLUGIN_PACKAGES, ids=lambda p: p.name)
def test_plugins_import_only_the_plugin_surfaces(package: Path) -> None:
    core_modules = {_module_name(path) for path in CORE.rglob("*.py")}
    outside = []
    for path in sorted(package.rglob("*.py")):
        module = _module_name(path)
        for node in _runtime_imports(ast.parse(path.read_text())):
            for name in _imported(module, path.name == "__init__.py", node, core_modules):
                if name.split(".")[0] != "ovlite":
                    continue
                allowed = name in PLUGIN_SURFACES or name.startswith("ovlite.properties.")
                if not allowed:
                    outside.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not outside, "imports outside ovlite, ovlite.plugin, ovlite.properties:\n" + "\n".join(
        outside
    )
