"""The package's import graph has no cycle, counting imports inside functions too (a loop
hidden by a function-local import is still a loop), and problem discovery imports nothing
of rendering."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "generator"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["wsgen", *parts])


def _imports(path: Path, name: str) -> set[str]:
    """The wsgen modules a module imports (its package for `from . import x` of a name)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("wsgen")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("wsgen"):
                target = node.module
            else:
                continue
            found.add(target)
            found |= {f"{target}.{a.name}" for a in node.names}
    return found


def graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    return {name: {m for m in _imports(path, name) if m in modules and m != name}
            for name, path in modules.items()}


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _reachable(edges, start) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in edges.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_import_cycle():
    # a package's __init__ re-exporting its modules is not a cycle of the code: leave out
    # the edges from a package to its own submodules
    edges = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph().items()}
    assert _cycle(edges) is None, " -> ".join(_cycle(edges))


def test_the_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_problem_discovery_imports_no_rendering():
    reached = _reachable(graph(), "wsgen.registry")
    assert not {m for m in reached if m.startswith(("wsgen.formats", "wsgen.pipeline",
                                                     "wsgen.quality", "wsgen.exam"))}, reached


def test_constants_are_defined_once():
    """No two modules of the engine define the same constant (a module-level UPPER_CASE
    name given a literal value) with the same value: one place decides it, the others
    import it."""
    seen: dict[tuple[str, str], str] = {}
    repeated = []
    for path in ROOT.rglob("*.py"):
        for node in ast.parse(path.read_text("utf-8")).body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)):
                continue
            name = node.targets[0].id
            if not name.isupper() or name.startswith("_"):
                continue
            try:
                value = repr(ast.literal_eval(node.value))
            except ValueError:
                continue
            where = seen.setdefault((name, value), str(path.relative_to(ROOT)))
            if where != str(path.relative_to(ROOT)):
                repeated.append(f"{name} = {value} in {where} and {path.relative_to(ROOT)}")
    assert not repeated, repeated
