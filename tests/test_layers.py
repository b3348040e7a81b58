"""The layers of the package, read from its import statements (every one, those inside functions
included): rules and storage at the bottom, then the warehouse contract, then privacy, then the
projects and the synthetic warehouse, with the command line and the Dagster definitions on top.

A module may import its own layer or a lower one, never a higher one; no two modules import each
other, directly or through others; the deliberation packages and the synthetic warehouse do not
import each other; and no module uses another module's private (``_``) names. Test modules do not import each other
(fixtures live in ``conftest.py``, shared builders in helper modules).
"""

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cohort"

#: bottom to top; a module belongs to the first layer with a prefix it starts with
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "rules and storage",
        ("cohort.clock", "cohort.settings", "cohort.storage", "cohort.classifications", "cohort.partitions"),
    ),
    ("the warehouse contract", ("cohort.sources", "cohort.resources")),
    ("privacy", ("cohort.privacy",)),
    ("projects and the synthetic warehouse", ("cohort.projects", "cohort.warehouse", "cohort.analysis")),
    ("command line and definitions", ("cohort.ops", "cohort.cli", "cohort.definitions", "cohort.__main__")),
]

#: the project kernel every deliberation package may use; the packages themselves are independent
PROJECT_KERNEL = (
    "cohort.projects.spec",
    "cohort.projects.schemas",
    "cohort.projects.mobility",
    "cohort.projects.anonymous",
    "cohort.projects.step",
)


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # a module of the package
    names: tuple[str, ...]  # the names taken from it (``from m import a, b``), else ()
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The package module ``name`` refers to (a module, or the package a name is taken from)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cohort"):
                    target = _resolve(alias.name, known)
                    if target:
                        yield Import(name, target, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if not source.startswith("cohort"):
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:  # ``from cohort.ops import runner``: the module itself
                    yield Import(name, submodule, (), node.lineno)
                else:
                    target = _resolve(source, known)
                    if target:
                        yield Import(name, target, (alias.name,), node.lineno)


def all_imports() -> list[Import]:
    known = modules()
    return [imp for name, path in known.items() for imp in imports_of(name, path, known)]


def layer_of(module: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    if module == "cohort":
        return 0
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in {Path(__file__).name}")


def deliberation_package(module: str) -> str | None:
    """``cohort.projects.<package>`` for a module inside a deliberation's package, else None."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == ["cohort", "projects"] and module not in PROJECT_KERNEL:
        return ".".join(parts[:3])
    return None


def upward(imports: list[Import]) -> list[str]:
    return [
        f"{i.importer} (line {i.line}, {LAYERS[layer_of(i.importer)][0]}) imports {i.imported} "
        f"({LAYERS[layer_of(i.imported)][0]})"
        for i in imports
        if layer_of(i.imported) > layer_of(i.importer)
    ]


def across_siblings(imports: list[Import]) -> list[str]:
    bad = []
    for i in imports:
        mine, theirs = deliberation_package(i.importer), deliberation_package(i.imported)
        if mine and theirs and mine != theirs:
            bad.append(f"{i.importer} (line {i.line}) imports another deliberation's {i.imported}")
        generator = "cohort.warehouse"
        if (i.importer.startswith("cohort.projects") and i.imported.startswith(generator)) or (
            i.importer.startswith(generator) and i.imported.startswith("cohort.projects")
        ):
            bad.append(f"{i.importer} (line {i.line}) imports {i.imported}: projects and generator are apart")
    return bad


def cycles(imports: list[Import]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for i in imports:
        if i.importer != i.imported:
            graph.setdefault(i.importer, set()).add(i.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def private_names(imports: list[Import], known: dict[str, Path]) -> list[str]:
    """``from m import _x`` from another module, or ``m._x`` on a module imported under a name."""
    bad = [
        f"{i.importer} (line {i.line}) takes {n} from {i.imported}"
        for i in imports
        for n in i.names
        if n.startswith("_") and not n.startswith("__")
    ]
    for name, path in known.items():
        tree = ast.parse(path.read_text())
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cohort"):
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in known:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in known and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                bad.append(f"{name} (line {node.lineno}) uses {aliases[node.value.id]}.{node.attr}")
    return bad


def test_every_module_is_in_a_layer():
    for name in modules():
        layer_of(name)


def test_no_module_imports_a_higher_layer():
    assert upward(all_imports()) == []


def test_no_import_circles():
    assert cycles(all_imports()) == []


def test_deliberations_and_the_generator_stay_apart():
    assert across_siblings(all_imports()) == []


def test_no_private_names_across_modules():
    assert private_names(all_imports(), modules()) == []


def imports_of_test_modules(folder: Path) -> list[str]:
    """Imports of one test module by another: shared fixtures belong in ``conftest.py`` and
    shared builders in a helper module (``hand_cohort.py``, ...), so each test module stands alone."""
    bad = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            bad += [f"{path.name} (line {node.lineno}) imports {n}" for n in names if n.startswith("test_")]
    return bad


def test_no_test_module_imports_another():
    assert imports_of_test_modules(Path(__file__).parent) == []


# The checks above must be able to fail: each is run on a small made-up package.


@pytest.fixture
def made_up(tmp_path, monkeypatch) -> Path:
    """A throw-away ``cohort`` package laid out like the real one."""
    root = tmp_path / "cohort"
    for folder in ("", "privacy", "projects", "projects/alpha", "projects/beta", "warehouse", "ops"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "__init__.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", root)
    return root


def test_the_checks_find_an_upward_import_a_circle_a_sibling_and_a_private_name(made_up):
    (made_up / "storage.py").write_text("def _tmp():\n    pass\n")
    (made_up / "privacy" / "scan.py").write_text(
        "from cohort.ops import runner\nfrom cohort import storage\n"
    )
    (made_up / "ops" / "runner.py").write_text("from cohort.privacy import scan\n")
    (made_up / "projects" / "alpha" / "build.py").write_text(
        "from cohort.projects.beta import build\nfrom cohort import storage\nstorage._tmp()\n"
    )
    (made_up / "projects" / "beta" / "build.py").write_text(
        "def f():\n    from cohort.warehouse import model\n"
    )
    (made_up / "warehouse" / "model.py").write_text("from cohort.storage import _tmp\n")
    imports = all_imports()
    assert upward(imports) == [
        "cohort.privacy.scan (line 1, privacy) imports cohort.ops.runner (command line and definitions)"
    ]
    assert cycles(imports) == [["cohort.ops.runner", "cohort.privacy.scan"]]
    assert across_siblings(imports) == [
        "cohort.projects.alpha.build (line 1) imports another deliberation's cohort.projects.beta.build",
        "cohort.projects.beta.build (line 2) imports cohort.warehouse.model: projects and generator are apart",
    ]
    (made_up / "test_one.py").write_text("from test_two import helper\n")
    assert imports_of_test_modules(made_up) == ["test_one.py (line 1) imports test_two"]
    assert sorted(private_names(imports, modules())) == [
        "cohort.projects.alpha.build (line 3) uses cohort.storage._tmp",
        "cohort.warehouse.model (line 1) takes _tmp from cohort.storage",
    ]


# Comments and docs cite files of the repository only, and the files they cite exist.
REPOSITORY = PACKAGE.parent
#: a path outside the repository, or a file path (with an extension) inside it; a folder, a glob
#: or a tag such as ``cohort/project`` is not a citation
CITED_PATH = re.compile(
    r"(?<![\w/.])((?:\.\./)+[\w./-]+|(?:docs|cohort|tests|benchmarks|scripts)/[\w/-]*\.[a-z]+\b)"
)


def cited_paths(root: Path, parts: tuple[str, ...]) -> list[str]:
    """Every path that a source, SQL, spec or Markdown file under ``root``'s ``parts`` (folders or
    files) cites and that lies outside the repository (``../``) or does not exist in it (paths are
    read from the repository's root, as the README and the comments write them)."""
    files = [
        f for part in parts for f in ([root / part] if (root / part).is_file() else (root / part).rglob("*"))
    ]
    bad = []
    for path in sorted(files):
        if path.suffix not in (".py", ".sql", ".yaml", ".md"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for cited in CITED_PATH.findall(line):
                target = cited.split("#")[0].rstrip(".")
                if cited.startswith("../") or not (root / target).exists():
                    bad.append(f"{path.relative_to(root)}:{number} cites {cited}")
    return bad


def test_comments_and_docs_cite_existing_files_of_the_repository():
    assert cited_paths(REPOSITORY, ("cohort", "docs", "benchmarks", "scripts", "README.md")) == []


def test_the_citation_check_finds_a_missing_file_and_a_path_outside(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "here.md").write_text("see docs/here.md\n")
    (tmp_path / "notes.py").write_text("# see ../shared/DESIGN.md and docs/gone.md, docs/here.md\n")
    assert cited_paths(tmp_path, ("docs", "notes.py")) == [
        "notes.py:1 cites ../shared/DESIGN.md",
        "notes.py:1 cites docs/gone.md",
    ]
