"""The settings every command reads, or one line per bad value (naming its variable) and exit status 2."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from urbanbrain.core import config
from urbanbrain.core.config import Settings


def settings_or_exit(**overrides: object) -> Settings:
    """The settings, or one line per bad value (naming its variable) on stderr and exit status 2."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        for line in config.problems(err):
            typer.echo(f"urbanbrain: {line}", err=True)
        raise typer.Exit(2) from None
