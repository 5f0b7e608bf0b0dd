"""Workflows as data, for every domain that has one (cases, the fire-safety hazard loop): states, each in
the open or closed group, and named transitions, each a source set, a target, a permission and small named
rules that must all pass. A domain declares its states, transitions and rules, and keeps its own attempt
(what its rules look at); the check and the published description are the same everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError


@dataclass(frozen=True)
class State:
    code: str
    zh: str
    en: str
    group: str  # open | closed


class Rule:
    """A named condition on a transition; ``check`` raises a clear error when it does not hold. ``a`` is
    the domain's attempt (the record, who acts, the step's parameters)."""

    code = "rule"

    def check(self, a: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str | None  # None: the state stays (escalate, requests, ...)
    permission: str
    rules: tuple[Rule, ...] = field(default=())
    zh: str = ""
    en: str = ""


def open_states(states: Mapping[str, State]) -> frozenset[str]:
    return frozenset(code for code, s in states.items() if s.group == "open")


def check(transition: Transition, state: str, actor: Principal, attempt: Any, not_allowed: str) -> None:
    """Refuse unless ``state`` is a source of the transition (error ``not_allowed``), the actor has the
    permission and every rule passes; the first failure explains itself."""
    if state not in transition.sources:
        raise UrbanBrainError(
            not_allowed,
            transition=transition.name,
            state=state,
            allowed=", ".join(sorted(transition.sources)),
        )
    actor.require(transition.permission)
    for rule in transition.rules:
        rule.check(attempt)


def describe(states: Mapping[str, State], transitions: Mapping[str, Transition]) -> dict[str, Any]:
    """The workflow as the API publishes it (``GET .../states``)."""
    return {
        "states": [
            {"code": s.code, "group": s.group, "name": {"zh-CN": s.zh, "en": s.en}} for s in states.values()
        ],
        "transitions": [
            {
                "name": t.name,
                "from": sorted(t.sources),
                "to": t.target,
                "permission": t.permission,
                "rules": [r.code for r in t.rules],
                "title": {"zh-CN": t.zh, "en": t.en},
            }
            for t in transitions.values()
        ],
    }


# --- the published shape (``GET .../states``) ---------------------------------------------------------------

Names = dict[str, str]  # {"zh-CN": ..., "en": ...}


class StatePublic(BaseModel):
    code: str
    group: Literal["open", "closed"]
    name: Names


class TransitionPublic(BaseModel):
    name: str
    from_: list[str] = Field(alias="from", description="The states it may start from.")
    to: str | None = Field(description="The state it leads to; null: the state stays.")
    permission: str
    rules: list[str] = Field(description="The named rules that must all pass.")
    title: Names


class WorkflowPublic(BaseModel):
    """A workflow as :func:`describe` publishes it: every domain with a workflow answers this shape."""

    states: list[StatePublic]
    transitions: list[TransitionPublic]
