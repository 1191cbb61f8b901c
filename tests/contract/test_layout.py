"""The house rules of mteval/, read from its source: imports run one way, short modules, a small root,
no attribute probes on systems and metrics outside their own packages."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "mteval"

#: Floors, lowest first: a module imports only from its own package or from a lower floor, also
#: inside functions. Data flows corpus -> system -> metrics -> results -> compare/gate/report.
FLOORS = [
    {"", "errors"},  # "": the package itself (its __init__ and __file__)
    {"files", "validate", "signature"},
    {"types", "text", "cores", "cache", "provenance", "stats"},
    {"locations"},  # where conf/ and results/ are, in a checkout or an installed wheel
    {"hub", "data"},
    {"systems"},
    {"metrics"},
    {"pipeline"},
    {"results"},
    {"compare"},
    {"gate", "report"},
    {"testing"},  # tiny models and doubles, built for tests and benchmarks
    {"bench"},
    {"commands"},
]
def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported mteval module, line, inside a function) for every import in one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in child.names]
            for target in targets:
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.append((target, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


def graph() -> dict[str, list[tuple[str, int, bool]]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def floor_of(module: str) -> int:
    pkg = package_of(module)
    for i, names in enumerate(FLOORS):
        if pkg in names:
            return i
    raise AssertionError(f"{module}: package {pkg!r} has no floor in tests/contract/test_layout.py FLOORS")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules_counting_imports_inside_functions():
    edges = {name: {t for t, _, _ in found} for name, found in graph().items()}
    assert cycles(edges) == []


def test_no_import_cycle_between_packages():
    edges: dict[str, set[str]] = {}
    for name, found in graph().items():
        for target, _, _ in found:
            if package_of(name) != package_of(target):
                edges.setdefault(package_of(name), set()).add(package_of(target))
    assert cycles(edges) == []


def test_imports_run_one_way_down_the_floors():
    upward = [f"{PACKAGE.parent / name.replace('.', '/')}.py:{line}: {name} imports {target}"
              for name, found in graph().items() if package_of(name)
              for target, line, _ in found
              if package_of(target) != package_of(name) and floor_of(target) >= floor_of(name)]
    assert upward == []


def test_only_heavy_libraries_are_imported_inside_functions():
    """Project modules are imported at the top, where the reader sees them (a function-level import of
    one hid the cycles of issue 18); only heavy third-party libraries load lazily."""
    lazy = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    top = node.module.split(".")[0]
                elif isinstance(node, ast.Import):
                    top = node.names[0].name.split(".")[0]
                else:
                    continue
                if top == "mteval":
                    lazy.append(f"{path}:{node.lineno}")
    assert len(lazy) <= LAZY_PROJECT_IMPORTS, lazy


#: Function-level imports of project modules still standing: each is of hub/cpu_speed.py, which imports
#: torch at its top, loaded only where a model runs on the CPU. The number may only go down.
LAZY_PROJECT_IMPORTS = 4


def test_a_small_root_and_short_modules():
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= 12, root
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert long == {}


@pytest.mark.parametrize("module", sorted(modules()))
def test_every_module_opens_with_a_docstring(module):
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{module} has no module docstring"


def test_no_attribute_probes_on_systems_or_metrics_outside_their_packages():
    """What the pipeline needs from a system or metric is declared on its base class (issue 18)."""
    probes = []
    for name, path in modules().items():
        if package_of(name) in {"systems", "metrics"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"getattr", "hasattr"}
                    and node.args and isinstance(node.args[0], ast.Name)
                    and node.args[0].id in {"system", "metric", "m", "inner", "chat"}):
                probes.append(f"{path}:{node.lineno}")
    assert probes == []
