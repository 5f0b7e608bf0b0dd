"""The boundaries between plugins, read from their source (every import statement, wherever it stands):

* a domain or app imports another plugin only if its manifest's ``depends_on`` names it, and then only that
  plugin's public modules (``actions``, ``queries``, ``events``, ``schemas``);
* no plugin imports the demo data, the simulators or the command line (they are clients of the plugins);
* the core imports no plugin (it finds them through their manifests);
* every event a plugin ``consumes`` is one some plugin declares.

``urbanbrain check-plugins`` reports each breach as a sentence naming the file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PUBLIC_MODULES = frozenset({"actions", "queries", "events", "schemas"})
CLIENTS = ("urbanbrain.demo", "urbanbrain.simulate", "urbanbrain.cli")
PLUGIN_ROOTS = {"urbanbrain.domains": "domain", "urbanbrain.apps": "app"}


def _module_of(path: Path, package_root: Path) -> str:
    parts = list(path.relative_to(package_root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, package_root: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every module a file imports; ``from pkg import name`` yields ``pkg.name`` (a
    submodule or a name in ``pkg``: callers treat both alike)."""
    here = _module_of(path, package_root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _plugin_of(module: str) -> tuple[str, str, str | None] | None:
    """(kind root, plugin name, first module inside it) of a module inside a plugin, else None."""
    for root in PLUGIN_ROOTS:
        if module.startswith(root + "."):
            rest = module[len(root) + 1 :].split(".")
            return root, rest[0], rest[1] if len(rest) > 1 else None
    return None


def check_plugin_imports(manifest: Any, package_root: Path) -> list[str]:
    """The boundary breaches of one plugin's source files."""
    problems: list[str] = []
    own_root = "urbanbrain." + ("domains" if manifest.kind == "domain" else "apps")
    for path in sorted(manifest.path.rglob("*.py")):
        where = path.relative_to(package_root.parent)
        for line, target in imports(path, package_root):
            if target.startswith(CLIENTS):
                problems.append(f"{where}:{line}: imports {target}: demo data, simulators and the command "
                                f"line are clients of the plugins, never the other way round")  # fmt: skip
                continue
            found = _plugin_of(target)
            if found is None:
                continue
            root, name, inner = found
            if root == own_root and name == manifest.name:
                continue
            shown = ".".join(target.split(".")[:4])  # the plugin's module, not the name taken from it
            if name not in manifest.depends_on:
                problems.append(f"{where}:{line}: imports {shown}, but {name!r} is not in depends_on of "
                                f"{manifest.name!r}: depend on it, or react to its events")  # fmt: skip
            elif inner is not None and inner not in PUBLIC_MODULES:
                problems.append(f"{where}:{line}: reaches into {root}.{name}.{inner}: use its public modules "
                                f"({', '.join(sorted(PUBLIC_MODULES))})")  # fmt: skip
    return problems


def check_core_imports(package_root: Path) -> list[str]:
    """The core finds plugins through their manifests and never imports one."""
    problems: list[str] = []
    core = package_root / "core"
    for path in sorted(core.rglob("*.py")):
        where = path.relative_to(package_root.parent)
        for line, target in imports(path, package_root):
            if _plugin_of(target) is not None or target.startswith(CLIENTS):
                problems.append(f"{where}:{line}: the core imports {target}: it must not know any plugin")
    return problems


def check_consumed_events(manifests: list[Any]) -> list[str]:
    declared = {event for m in manifests for event in m.events}
    problems = []
    for m in manifests:
        for event in m.raw.get("consumes", ()):
            if event not in declared:
                problems.append(f"{m.name}: consumes {event!r}, which no plugin declares in its events")
    return problems
