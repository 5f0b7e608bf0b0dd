"""Code lists (代码表) that plugins publish for each other: a domain that stores another domain's code (a
sensing rule names the case class its alarms open) checks it against the list without importing that domain.

A plugin declares what it publishes in its manifest, naming a function of its own that returns the codes::

    [provides.codelists]
    case_category = "taxonomy:minor_codes"     # urbanbrain/domains/cases/taxonomy.py, minor_codes()
"""

from __future__ import annotations

import importlib
from functools import cache

from urbanbrain.core import plugins
from urbanbrain.core.errors import UrbanBrainError, register_messages

register_messages(
    {
        "codelist.missing": (
            422,
            "没有插件提供代码表 {name}（需要相应的领域插件）。",
            "No plugin provides the code list {name} (the domain that owns it is not installed).",
        ),
    }
)


def providers() -> dict[str, str]:
    """Code list name -> ``module:function`` (the module's full dotted name), from every manifest."""
    out: dict[str, str] = {}
    for m in plugins.discover():
        for name, target in ((m.raw.get("provides") or {}).get("codelists") or {}).items():
            module, _, function = str(target).partition(":")
            out[name] = f"{m.module}.{module}:{function}"
    return out


@cache
def codes(name: str) -> frozenset[str]:
    """The codes of the list ``name``; refuses a list no installed plugin provides."""
    target = providers().get(name)
    if target is None:
        raise UrbanBrainError("codelist.missing", name=name)
    module, _, function = target.partition(":")
    return frozenset(getattr(importlib.import_module(module), function)())
