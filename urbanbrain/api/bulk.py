"""Large answers of a fixed shape (the map's layers: tens of thousands of short rows) encoded straight by
msgspec. FastAPI would validate and convert every row through pydantic first, ~2 s for 50,000 devices; the
shape is made by the query and declared to the docs by the route's ``response_model``."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi.responses import Response

_encoder = msgspec.json.Encoder()


def bulk_json(body: Any) -> Response:
    return Response(_encoder.encode(body), media_type="application/json")
