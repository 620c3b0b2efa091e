"""The import structure of the application code, in figures: cycles, arrows up, floors.

Usage: ``python scripts/import_graph.py [ROOT]`` (default: this checkout). Reads the
application packages with grimp (the library behind import-linter), counting every
import that runs (those under ``if TYPE_CHECKING:`` do not; migrations are left out), and
prints:

- the import cycles: strongly connected components of modules, with their members;
- the arrows that run back up: imports from a module to one of a higher layer, the layers
  being those of the import-linter contract in ``pyproject.toml`` (a module belongs to the
  layer that names it or its nearest parent package);
- the floors: the length of the longest chain of imports once each cycle counts as one;
- the function-level imports of project modules (an import inside a function or method);
- the modules no layer names.

``duplicates`` (on the development machine) counts the repeated code; run it beside this.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import grimp

PACKAGES = ("common", "campaigns", "config", "departments", "evaluations", "evidence")
PACKAGES += ("exports", "rechecks")


def _layers(root: Path) -> list[list[str]]:
    """The layers of the contract, lowest first, each a list of module names."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    contracts = config.get("tool", {}).get("importlinter", {}).get("contracts", [])
    for contract in contracts:
        if contract.get("type") == "layers":
            layers = []
            for line in reversed(contract["layers"]):
                sep = "|" if "|" in line else ":"
                layers.append([name.strip().strip("()") for name in line.split(sep)])
            return layers
    return []


def _layer_of(module: str, index: dict[str, int]) -> int | None:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = index.get(".".join(parts[:end]))
        if found is not None:
            return found
    return None


def _sccs(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    result.append(sorted(component))
    return result


def _function_level_imports(root: Path, packages: list[str]) -> list[str]:
    """``path:line module`` for every import of a project module inside a function."""
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for func in ast.walk(tree):
                if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(func):
                    names = []
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                        names = [node.module]
                    elif isinstance(node, ast.Import):
                        names = [alias.name for alias in node.names]
                    for name in names:
                        if name.split(".")[0] in packages:
                            found.append(f"{path.relative_to(root)}:{node.lineno} {name}")
    return sorted(set(found))


@dataclass
class Figures:
    """The import structure of one tree."""

    edges: dict[str, set[str]]
    cycles: list[list[str]]
    arrows_up: list[str]
    unplaced: list[str]
    layers: int
    floors: int
    function_level: list[str] = field(default_factory=list)


def measure(root: Path) -> Figures:
    """Read the application packages under ``root`` and count what the module docstring says."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    packages = [p for p in PACKAGES if (root / p / "__init__.py").exists()]
    graph = grimp.build_graph(*packages, cache_dir=None, exclude_type_checking_imports=True)
    nodes = sorted(m for m in graph.modules if ".migrations" not in m)
    edges: dict[str, set[str]] = defaultdict(set)
    for module in nodes:
        edges[module] = {
            m for m in graph.find_modules_directly_imported_by(module) if ".migrations" not in m
        }
    components = _sccs(nodes, edges)
    cycles = sorted((c for c in components if len(c) > 1), key=len, reverse=True)

    layers = _layers(root)
    index = {name: level for level, names in enumerate(layers) for name in names}
    up = []
    unplaced = []
    for module in nodes:
        mine = _layer_of(module, index)
        if mine is None:
            if graph.find_modules_directly_imported_by(module) or module.count("."):
                unplaced.append(module)
            continue
        for imported in sorted(edges[module]):
            theirs = _layer_of(imported, index)
            if theirs is not None and theirs > mine:
                up.append(f"{module} -> {imported}  (layer {mine} -> {theirs})")

    # Floors: the longest chain of imports in the graph of cycles (each cycle one node).
    component_of = {member: n for n, component in enumerate(components) for member in component}
    below: dict[int, set[int]] = defaultdict(set)
    for module in nodes:
        for imported in edges[module]:
            if component_of[module] != component_of[imported]:
                below[component_of[module]].add(component_of[imported])
    height: dict[int, int] = {}
    # Components come out of Tarjan's algorithm lowest first: each one's imports are done.
    for n in range(len(components)):
        height[n] = 1 + max((height[c] for c in below[n]), default=0)
    return Figures(
        edges=dict(edges),
        cycles=cycles,
        arrows_up=up,
        unplaced=unplaced,
        layers=len(layers),
        floors=max(height.values(), default=0),
        function_level=_function_level_imports(root, packages),
    )


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
    figures = measure(root)
    print(f"import cycles: {len(figures.cycles)}")
    for cycle in figures.cycles:
        print(f"  ({len(cycle)}) " + " ".join(cycle))
    print(
        f"arrows back up (against the {figures.layers} layers of pyproject.toml): "
        f"{len(figures.arrows_up)}"
    )
    for line in figures.arrows_up:
        print(f"  {line}")
    if figures.unplaced:
        print(f"modules no layer names: {len(figures.unplaced)}: " + " ".join(figures.unplaced))
    print(f"floors: {figures.floors}")
    print(f"function-level imports of project modules: {len(figures.function_level)}")
    for line in figures.function_level:
        print(f"  {line}")


if __name__ == "__main__":
    main()
