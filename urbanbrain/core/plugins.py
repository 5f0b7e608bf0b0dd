"""The plugin loader and its contract checker.

Every domain (``urbanbrain/domains/<name>``) and app (``urbanbrain/apps/<name>``) is a folder with a
``manifest.toml`` and the same file names. The loader reads manifests, orders plugins by ``depends_on``
and imports their routers; ``urbanbrain check-plugins`` fails on anything that breaks the contract.
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from urbanbrain.core import boundaries, notify

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
KINDS = {"domain": "domains", "app": "apps"}
REQUIRED_FILES = ("models.py", "schemas.py", "actions.py", "queries.py", "events.py", "api.py")


@dataclass(frozen=True)
class Manifest:
    name: str
    kind: str
    title_zh: str
    title_en: str
    version: str
    depends_on: tuple[str, ...]
    permissions: tuple[str, ...]
    events: tuple[str, ...]
    path: Path
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def module(self) -> str:
        return f"urbanbrain.{KINDS[self.kind]}.{self.name}"

    @property
    def api_prefix(self) -> str:
        return f"/api/v1/{self.name}"


class PluginError(Exception):
    pass


def read_manifest(path: Path, kind: str) -> Manifest:
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    title = raw.get("title") or {}
    return Manifest(
        name=str(raw.get("name", "")),
        kind=str(raw.get("kind", kind)),
        title_zh=str(title.get("zh", "")),
        title_en=str(title.get("en", "")),
        version=str(raw.get("version", "")),
        depends_on=tuple(raw.get("depends_on", ())),
        permissions=tuple(raw.get("permissions", ())),
        events=tuple(raw.get("events", ())),
        path=path.parent,
        raw=raw,
    )


def discover(root: Path = PACKAGE_ROOT) -> list[Manifest]:
    found: list[Manifest] = []
    for kind, folder in KINDS.items():
        base = root / folder
        if not base.is_dir():
            continue
        for manifest in sorted(base.glob("*/manifest.toml")):
            found.append(read_manifest(manifest, kind))
    return found


def order(manifests: list[Manifest]) -> list[Manifest]:
    """Dependencies first (a stable topological sort); raises on unknown dependencies or cycles."""
    by_name = {m.name: m for m in manifests}
    done: list[Manifest] = []
    state: dict[str, int] = {}

    def visit(m: Manifest, chain: tuple[str, ...]) -> None:
        if state.get(m.name) == 2:
            return
        if state.get(m.name) == 1:
            raise PluginError(f"dependency cycle: {' -> '.join(chain + (m.name,))}")
        state[m.name] = 1
        for dep in m.depends_on:
            if dep not in by_name:
                raise PluginError(f"{m.name}: depends on unknown plugin {dep!r}")
            visit(by_name[dep], chain + (m.name,))
        state[m.name] = 2
        done.append(m)

    for m in manifests:
        visit(m, ())
    return done


def check(manifests: list[Manifest], *, tests_root: Path | None = None) -> list[str]:
    """Every way the plugins break the contract, as sentences. Empty means all is well."""
    problems: list[str] = []
    names = [m.name for m in manifests]
    for dup in {n for n in names if names.count(n) > 1}:
        problems.append(f"two plugins are named {dup!r}")
    try:
        order(manifests)
    except PluginError as exc:
        problems.append(str(exc))
    for m in manifests:
        where = f"{KINDS.get(m.kind, '?')}/{m.path.name}"
        if m.kind not in KINDS:
            problems.append(f"{where}: kind must be one of {sorted(KINDS)}")
            continue
        if m.name != m.path.name:
            problems.append(f"{where}: manifest name {m.name!r} differs from its folder")
        if m.path.parent.name != KINDS[m.kind]:
            problems.append(f"{where}: a {m.kind} must live under {KINDS[m.kind]}/")
        if not m.title_zh or not m.title_en:
            problems.append(f"{where}: title needs both zh and en")
        if not m.version:
            problems.append(f"{where}: version is missing")
        for f in REQUIRED_FILES:
            if not (m.path / f).is_file():
                problems.append(f"{where}: {f} is missing")
        for ev in m.events:
            parts = ev.split(".")
            if len(parts) != 3 or parts[0] != m.name or not all(parts):
                problems.append(f"{where}: event {ev!r} must read '{m.name}.<noun>.<verb>'")
        for perm in m.permissions:
            if not perm.startswith(m.name + "."):
                problems.append(f"{where}: permission {perm!r} must start with '{m.name}.'")
        if tests_root is not None and not (tests_root / KINDS[m.kind] / m.name).is_dir():
            problems.append(f"{where}: has no tests folder tests/{KINDS[m.kind]}/{m.name}/")
        for name, target in ((m.raw.get("provides") or {}).get("codelists") or {}).items():
            module = str(target).partition(":")[0]
            if not (m.path / (module.replace(".", "/") + ".py")).is_file():
                problems.append(f"{where}: code list {name!r} names {target!r}, which is not a module of it")
        problems.extend(boundaries.check_plugin_imports(m, m.path.parent.parent))
        problems.extend(_check_module(m, where))
    problems.extend(boundaries.check_consumed_events(manifests))
    if manifests:
        problems.extend(boundaries.check_core_imports(manifests[0].path.parent.parent))
    return problems


def _check_module(m: Manifest, where: str) -> list[str]:
    problems: list[str] = []
    if any(not (m.path / f).is_file() for f in REQUIRED_FILES):
        return problems
    try:
        events = importlib.import_module(m.module + ".events")
        api = importlib.import_module(m.module + ".api")
        importlib.import_module(m.module + ".models")
    except Exception as exc:  # the checker reports, it does not crash
        return [f"{where}: import failed: {exc!r}"]
    declared = set(getattr(events, "EVENT_TYPES", ()))
    if declared != set(m.events):
        problems.append(
            f"{where}: events.py EVENT_TYPES and manifest events differ: {sorted(declared ^ set(m.events))}"
        )
    if getattr(api, "router", None) is None:
        problems.append(f"{where}: api.py has no 'router'")
    from urbanbrain.core.db import Base

    for mapper in Base.registry.mappers:
        table = getattr(mapper.local_table, "name", "")
        if mapper.class_.__module__.startswith(m.module + ".") and not table.startswith(m.name + "_"):
            problems.append(f"{where}: table {table!r} must start with '{m.name}_'")
    return problems


def import_models(root: Path = PACKAGE_ROOT) -> None:
    """Import every plugin's tables (for migrations), without its API."""
    importlib.import_module("urbanbrain.core.models")
    for m in order(discover(root)):
        importlib.import_module(m.module + ".models")


def load(root: Path = PACKAGE_ROOT) -> list[tuple[Manifest, Any]]:
    """Import every plugin in dependency order; return (manifest, api module) pairs."""
    loaded = []
    for m in order(discover(root)):
        importlib.import_module(m.module + ".models")
        loaded.append((m, importlib.import_module(m.module + ".api")))
    return loaded


CONSUMERS_KEY = "core.consumers"


def subscribe_consumers(platform: Any, root: Path = PACKAGE_ROOT) -> None:
    """Start every bus consumer of the platform, once: the core's (notification subscriptions) and each
    plugin's (``consumers.py``, ``subscribe(platform)``). A server does this at start; so does anything else
    that makes events whose consequences must follow at once (a replay of the past)."""
    if platform.caches.get(CONSUMERS_KEY):
        return
    platform.caches[CONSUMERS_KEY] = True
    notify.follow_events(platform)
    for m in order(discover(root)):
        if (m.path / "consumers.py").is_file():
            importlib.import_module(m.module + ".consumers").subscribe(platform)
