"""kiosk.core.options: the option vocabulary, PrintOptions and the page-range parser; no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kiosk.core.errors import PageRangeError
from kiosk.core.options import (
    PrintOptions,
    check_page_ranges,
    count_pages,
    page_range_spans,
    parse_page_ranges,
)

CORE = Path(__file__).resolve().parents[2] / "kiosk" / "core"


@pytest.mark.parametrize(
    ("spec", "count", "expected"),
    [
        ("", 4, [0, 1, 2, 3]),
        ("1-3,5", 6, [0, 1, 2, 4]),
        ("5,1-2", 6, [0, 1, 4]),
        ("2-", 4, [1, 2, 3]),
        ("-2", 4, [0, 1]),
        ("1-3,2-4", 5, [0, 1, 2, 3]),
        (" 3 , 3 ", 3, [2]),
    ],
)
def test_page_ranges_select_pages(spec: str, count: int, expected: list[int]) -> None:
    assert parse_page_ranges(spec, count) == expected
    assert count_pages(spec, count) == len(expected)


@pytest.mark.parametrize("spec", ["0", "3-1", "7", "a", "1-2-3", ",", "1,,2", "-", "1.5", "x" * 300])
def test_bad_page_ranges_are_clean_errors(spec: str) -> None:
    with pytest.raises(PageRangeError):
        parse_page_ranges(spec, 6)


def test_page_range_on_empty_document() -> None:
    with pytest.raises(PageRangeError):
        parse_page_ranges("", 0)


@pytest.mark.parametrize("spec", ["", "1-3,5", "9-", "-2", "100000"])
def test_syntax_check_without_a_page_count(spec: str) -> None:
    check_page_ranges(spec)
    assert page_range_spans(spec, None) == ([] if spec == "" else page_range_spans(spec, None))


@pytest.mark.parametrize("spec", ["0", "3-1", "a", "1,,2", "-"])
def test_syntax_check_refuses_bad_ranges(spec: str) -> None:
    with pytest.raises(PageRangeError):
        check_page_ranges(spec)


@pytest.mark.parametrize(
    "change",
    [
        {"copies": 0},
        {"copies": 1000},
        {"copies": True},
        {"sides": "duplex"},
        {"color": "rgb"},
        {"color": "bw"},
        {"media": "A5"},
        {"pages_per_sheet": 3},
        {"orientation": "upside-down"},
    ],
)
def test_invalid_options(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PrintOptions().with_(**change)


def test_defaults_and_vocabulary() -> None:
    opts = PrintOptions()
    assert (
        opts.copies,
        opts.sides,
        opts.color,
        opts.page_ranges,
        opts.media,
        opts.pages_per_sheet,
        opts.orientation,
    ) == (1, "one-sided", "monochrome", "", "A4", 1, "portrait")
    assert opts.with_(sides="two-sided-short-edge", pages_per_sheet=4, orientation="landscape").duplex


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(CORE.parents[1]).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, modules: set[str]) -> set[str]:
    """Module-level imports, including those under ``if TYPE_CHECKING:`` (mypy follows them).

    ``from package import submodule`` depends on the submodule, not on the package.
    """
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                subs = {f"{node.module}.{alias.name}" for alias in node.names}
                found.update(subs & modules)
                if subs - modules:
                    found.add(node.module)
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)

    visit(tree.body)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state and (found := walk(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := walk(start)):
            return found
    return None


def test_options_jobs_pricing_printing_have_no_import_cycle() -> None:
    """The old cycle jobs -> pricing -> jobs (and printing.base -> jobs) cannot come back."""
    paths = {_module_name(path): path for path in CORE.rglob("*.py")}
    graph = {name: _imports(ast.parse(path.read_text(encoding="utf-8")), set(paths)) for name, path in paths.items()}
    graph = {name: {dep for dep in deps if dep in graph and dep != name} for name, deps in graph.items()}
    assert graph["kiosk.core.options"] <= {"kiosk.core.errors"}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
