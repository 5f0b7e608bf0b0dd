"""``python -m urbanbrain.cli``: the same as the ``urbanbrain`` console script."""

from urbanbrain.cli.main import app

app()
