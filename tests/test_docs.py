"""The README checked against the code (as datasette's tests/test_docs.py does): its command table lists
exactly the CLI's subcommands and options, its layout names every module, and every environment variable
the package reads is documented. Each test fails with what is missing or extra, so the fix is in the README
(or the code), never in the test's expectations."""

from __future__ import annotations

import argparse
import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

import samordning
from samordning.cli import build_parser

PACKAGE = Path(samordning.__file__).resolve().parent
README = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
OPTION = re.compile(r"--[a-z][a-z-]*")
# Read by the package but set by others, not settings a user gives: Voilà puts the page's query there.
NOT_SETTINGS = {"QUERY_STRING"}


def section(title: str) -> str:
    """The README's text under ``## title``, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no section '## {title}'"
    return match.group(1)


# -- the command table --------------------------------------------------------------------------------------

def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # argparse has no API
    return dict(action.choices)


def options(parser: argparse.ArgumentParser) -> set[str]:
    """A parser's long options, without --help."""
    return {s for a in parser._actions if not isinstance(a, argparse._HelpAction)
            for s in a.option_strings if s.startswith("--")}


def choices(parser: argparse.ArgumentParser) -> set[str]:
    """The words a positional argument takes (``payment add|list``)."""
    return {c for a in parser._actions if not a.option_strings and a.choices for c in a.choices}


def command_table() -> dict[str, list[str]]:
    """Each command of the README's table → the usage written for it in the first cell (one or more rows)."""
    usage: dict[str, list[str]] = defaultdict(list)
    for line in section("The command line").splitlines():
        if not line.startswith("| `"):
            continue
        first = re.split(r"(?<!\\)\|", line)[1].replace("\\|", "|")
        for code in re.findall(r"`([^`]*)`", first):
            words = code.split()
            assert words[0] == "samordning" and len(words) > 1, f"a command in the table is not `samordning …`: {code}"
            usage[words[1]].append(code)
    return usage


def common_options() -> set[str]:
    """The options the README says every command takes (the paragraph above the table)."""
    sentence = re.search(r"^Every command takes.*?(?=\n\n)", section("The command line"), re.MULTILINE | re.DOTALL)
    assert sentence, "the command line section no longer says which options every command takes"
    return set(OPTION.findall(sentence.group(0)))


def test_the_command_table_lists_exactly_the_subcommands() -> None:
    documented, actual = set(command_table()), set(subcommands())
    assert documented == actual, f"missing from the README: {sorted(actual - documented)}; " \
                                 f"not commands: {sorted(documented - actual)}"


def test_every_command_takes_the_options_said_to_be_common() -> None:
    common = common_options()
    assert {"--db", "--agreement"} <= common
    lacking = {name: sorted(common - options(p)) for name, p in subcommands().items() if common - options(p)}
    assert not lacking, f"the README says every command takes {sorted(common)}; these do not: {lacking}"


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_the_command_table_lists_exactly_each_commands_options(name: str) -> None:
    parser = subcommands()[name]
    written = command_table().get(name, [])
    documented = {o for usage in written for o in OPTION.findall(usage)} | common_options()
    actual = options(parser)
    assert documented == actual, f"samordning {name}: missing from the README: {sorted(actual - documented)}; " \
                                 f"not options: {sorted(documented - actual)}"
    words = {w for usage in written for w in re.split(r"[\s|\[\]]+", usage)}
    assert choices(parser) <= words, f"samordning {name}: the README does not name {sorted(choices(parser) - words)}"


def test_the_programs_own_options_are_documented() -> None:
    top = options(build_parser())
    assert "--version" in top
    missing = sorted(o for o in top if f"samordning {o}" not in section("The command line"))
    assert not missing, f"the command line section does not mention {missing}"


# -- the layout -------------------------------------------------------------------------------------------

def modules() -> list[tuple[str, ...]]:
    """Every module of the package as its path parts below ``samordning/`` (packages' __init__ and the
    migration scripts left out: the package and ``versions/`` stand for them)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if path.name != "__init__.py" and parts[:2] != ("migrations", "versions"):
            found.append(parts)
    return found


def named(layout: str, parts: tuple[str, ...]) -> bool:
    """A module is named when the layout names its file and each folder it is in (``ingest/`` … ``sie.py``),
    or a package two or more levels down as a whole (``ui/dashboard/`` covers the modules below it): the
    package's own modules and its first-level packages' modules are each named."""
    def mentions(word: str) -> bool:
        return re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", layout) is not None

    folders = parts[:-1]
    if all(mentions(f"{folder}/") for folder in folders) and mentions(parts[-1]):
        return True
    return any(all(mentions(f"{folder}/") for folder in folders[:depth]) for depth in range(2, len(folders) + 1))


def package_layout() -> str:
    """The package's part of the Layout section: the ``samordning/`` line and the indented lines below it."""
    lines = section("Layout").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("samordning/"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return "\n".join(lines[start:end])


def test_what_names_a_module() -> None:
    assert named("  ingest/   the importer: detect.py, sie.py", ("ingest", "sie.py"))
    assert not named("  ingest/   the importer: detect.py", ("ingest", "sie.py"))
    assert not named("  sie.py    SIE", ("ingest", "sie.py"))  # the folder must be named too
    assert named("  ui/  charts.py\n    dashboard/  the dashboard", ("ui", "dashboard", "tabs", "overview.py"))
    assert not named("  ui/  the UI layer", ("ui", "charts.py"))  # a first-level package names its modules


def test_the_layout_names_every_module() -> None:
    layout = package_layout()
    missing = ["/".join(parts) for parts in modules() if not named(layout, parts)]
    assert not missing, f"the README's Layout section does not name {missing}"


def test_the_layout_names_no_module_that_is_gone() -> None:
    present = {parts[-1] for parts in modules()}
    written = re.findall(r"(?<![\w.])([\w/]+\.py)\b", package_layout())
    gone = sorted({path for path in written if not path.startswith("tests/") and path.split("/")[-1] not in present})
    assert not gone, f"the README's Layout section names modules that do not exist: {gone}"


# -- environment variables -------------------------------------------------------------------------------

def environment_variables() -> dict[str, list[str]]:
    """Every environment variable the package reads (``os.environ.get``, ``os.environ[…]``, ``os.getenv``),
    with where; a name held in a module constant (``DB_ENV = "SAMORDNING_DB"``) is looked up."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))}
    constants = {node.targets[0].id: node.value.value for tree in trees.values() for node in tree.body
                 if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    found: dict[str, list[str]] = defaultdict(list)
    for path, tree in trees.items():
        for node in ast.walk(tree):
            key = _read_key(node)
            if key is None:
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                found[key.value].append(where)
            elif isinstance(key, ast.Name) and key.id in constants:
                found[constants[key.id]].append(where)
            else:
                pytest.fail(f"{where}: an environment variable whose name this test cannot tell ({ast.unparse(key)})")
    return found


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) \
        and node.value.id == "os"


def _read_key(node: ast.AST) -> ast.expr | None:
    """The name argument of a read of the environment, if ``node`` is one."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
        if node.func.attr == "get" and _is_environ(node.func.value):
            return node.args[0]
        if node.func.attr == "getenv" and isinstance(node.func.value, ast.Name) and node.func.value.id == "os":
            return node.args[0]
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(node.value):
        return node.slice
    return None


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    read = environment_variables()
    assert {"SAMORDNING_DB", "SAMORDNING_DEBUG", "SAMORDNING_TOKEN"} <= set(read)
    missing = {name: where for name, where in read.items() if name not in NOT_SETTINGS and name not in README}
    assert not missing, f"environment variables read by the code but not in README.md: {missing}"
