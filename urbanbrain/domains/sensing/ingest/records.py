"""What the journal and the readings stream keep of an accepted body (a ``Record``), and what a door answers
its sender (a ``Receipt``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from urbanbrain.domains.sensing.ingest.wire import Dead


class Record(msgspec.Struct, array_like=True, gc=False):
    """What the journal keeps of one accepted body: enough to parse it again the same way."""

    source: str
    received: float
    body: bytes
    ndjson: bool
    topic_device: str | None
    dead: list[Dead]


encode_record = msgspec.msgpack.Encoder().encode  # the journal's records, and the readings stream's
decode_record = msgspec.msgpack.Decoder(Record).decode


@dataclass
class Receipt:
    messages: int
    readings: int
    duplicates: int
    dead: list[Dead]

    def public(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for d in self.dead:
            reasons[d.reason] = reasons.get(d.reason, 0) + 1
        return {
            "messages": self.messages,
            "readings": self.readings,
            "duplicates": self.duplicates,
            "dead_lettered": len(self.dead),
            "reasons": reasons,
        }
