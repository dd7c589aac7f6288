"""The house plan of lib/: a shared core, one package per paper above it, no import circle.

Every ``import`` statement of every module counts, also those inside functions. Imports under
``if TYPE_CHECKING:`` are never run; they are allowed for one thing only: naming the type of a
config from the importing module's own wing (``lib.<wing>.config``). :mod:`lib.profiles`, the
registry of stages, names each config as ``"module:Class"`` text and imports no wing.
"""
import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parent.parent / "lib"
PAPERS = ("lib.trust_region_meta", "lib.bomrl")
FACE = "lib.profiles"  # the registry of stages: notebooks and tools consult it, no lib module imports it
CONFIGS = {p: f"{p}.config" for p in PAPERS}  # each wing's configs, beside the code they configure
PROTOCOLS = ("lib.bomrl.locomotion_protocol", "lib.bomrl.frozen_lake_protocol")  # experiments as data: they import no study


def module_name(path: Path) -> str:
    parts = path.relative_to(LIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _lib_modules(nodes, known: set) -> set:
    """The lib modules that import statements in ``nodes`` name (``from lib.x import y`` counts
    lib.x.y when that is a module)."""
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("lib")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lib"):
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            out |= subs or {node.module}
    return {m for m in out if m in known and m != "lib"}


def imports_of(path: Path, known: set) -> tuple[set, set]:
    """``(run-time imports, type-only imports)`` of the module at ``path``."""
    tree = ast.parse(path.read_text())
    guarded = [n for n in ast.walk(tree) if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"]
    type_only = {id(m) for g in guarded for m in ast.walk(g)}
    nodes = [n for n in ast.walk(tree) if id(n) not in type_only]
    return _lib_modules(nodes, known), _lib_modules([n for g in guarded for n in ast.walk(g)], known)


@pytest.fixture(scope="module")
def graphs() -> tuple[dict, dict]:
    paths = {module_name(p): p for p in LIB.rglob("*.py")}
    known = set(paths)
    both = {m: imports_of(p, known) for m, p in paths.items()}
    return {m: b[0] for m, b in both.items()}, {m: b[1] for m, b in both.items()}


@pytest.fixture(scope="module")
def graph(graphs) -> dict:
    return graphs[0]


def test_the_import_graph_has_no_cycle(graph):
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_two_paper_packages_do_not_import_each_other(graph):
    for m, deps in graph.items():
        for own, other in (PAPERS, PAPERS[::-1]):
            if m.startswith(own):
                assert not any(d.startswith(other) for d in deps), f"{m} imports {other}: {sorted(deps)}"


def test_the_core_and_the_registry_import_no_paper_package_and_no_lib_module_imports_the_registry(graphs):
    for m, deps in graphs[0].items():
        if m.startswith(PAPERS):
            continue
        assert not any(d.startswith(PAPERS) for d in deps | graphs[1][m]), f"core module {m} imports a paper package"
    for m, deps in graphs[0].items():
        assert FACE not in deps, f"{m} imports {FACE} (it sits on top: configs flow down as arguments)"


def test_a_protocol_module_imports_no_study_and_no_config(graph):
    for m in PROTOCOLS:
        bad = sorted(d for d in graph[m] if d.endswith(("_study", "_report", ".config", ".claims")))
        assert not bad, f"{m} imports {bad}: a protocol is data that studies read"


def test_type_only_imports_name_only_the_config_of_their_own_wing(graphs):
    for m, deps in graphs[1].items():
        own = {c for p, c in CONFIGS.items() if m.startswith(p)}
        assert deps <= own, f"{m} imports {sorted(deps - own)} for types only; import them for real"


def test_every_package_opens_with_a_chapter_index():
    for pkg in ("lib", *PAPERS):
        init = LIB.parent.joinpath(*pkg.split("."), "__init__.py")
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        modules = sorted(p.stem for p in init.parent.glob("*.py") if p.stem != "__init__")
        missing = [m for m in modules if m not in doc]
        assert not missing, f"{init} does not name {missing}"
