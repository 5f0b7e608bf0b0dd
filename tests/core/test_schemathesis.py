"""Schemathesis over /openapi.json, as an administrator, against the app in-process: every operation, from
its examples, the coverage phase's boundary values and a bounded fuzzing run, positive and negative data.
No answer may be a server error, and every answer must match the schema its operation declares.

On SQLite only: the fuzzing is about the HTTP layer, which both backends share; the other tests keep the
backends in lockstep. The run is deterministic (a fixed seed, derandomized Hypothesis), so CI does not flake.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pytest
import schemathesis

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]

# The live feed never ends: it has tests of its own (tests/core/test_live.py).
SKIPPED = "/api/v1/alerts/stream"
# Examples per operation in the fuzzing phase: with the examples and coverage phases, ~1 minute in all.
MAX_EXAMPLES = 10


@pytest.fixture
def backend() -> str:
    return "sqlite"


def without_lifespan(app: ASGI) -> ASGI:
    """The app, its lifespan acknowledged but not run: the test client of ``api`` already runs it once."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            step = (await receive())["type"].rsplit(".", 1)[1]  # startup, then shutdown
            await send({"type": f"lifespan.{step}.complete"})
            if step == "shutdown":
                return

    return asgi


# Bodies the door reads itself, documented as text: sent as the text generated.
schemathesis.serializer.alias(["application/x-ndjson", "text/csv"], "text/plain")


@schemathesis.hook
def before_load_schema(context: schemathesis.HookContext, raw_schema: dict[str, Any]) -> None:
    tuples_as_arrays(raw_schema)


def tuples_as_arrays(schema: Any) -> None:
    """Schemathesis 4.32 rewrites an OpenAPI 3.1 tuple (``prefixItems``) in a response into draft 4's
    ``items: [...]`` and then refuses its own rewrite; the tuple is checked as an array of its item types."""
    if isinstance(schema, dict):
        items = schema.pop("prefixItems", None)
        if items is not None:
            schema["items"] = {"anyOf": items}
        for value in schema.values():
            tuples_as_arrays(value)
    elif isinstance(schema, list):
        for value in schema:
            tuples_as_arrays(value)


@pytest.fixture
def urbanbrain_schema(api: Any) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "seed": 20180709,
            "headers": api.user("admin"),
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            # Stateful links would chain operations; each operation alone is what the run bounds in time.
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
            },
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(api.client.app), config=config)


schema = schemathesis.pytest.from_fixture("urbanbrain_schema").exclude(path=SKIPPED)


@schema.parametrize()
def test_no_server_errors_and_answers_match_their_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()
