"""The wire format of device readings, and its parser: bytes in, columns of good readings and the bad
messages (each with its reason) out.

A message is ``{"id": "<idempotency id>", "device": "<device id>", "ts": <epoch s> | "<ISO-8601>",
"values": {"<measurement>": <number>, ...}}``. A body is one message, a JSON array of them, or NDJSON. On MQTT
the topic names the device, so ``device`` may be left out there.

The fast path decodes the whole body into typed structs with msgspec in one call; only when that fails is
the body taken apart message by message, so one bad message costs only itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from operator import attrgetter
from typing import Annotated, Any, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

T = TypeVar("T")
MAX_BODY_BYTES = 16 * 1024 * 1024
SMALL_BODY = 32  # messages; a smaller body's columns are built without numpy (see parse)
MAX_FUTURE_SKEW_S = 300.0  # a reading further ahead of the platform clock is a broken device clock


class Message(msgspec.Struct, gc=False):
    """One device message. Not tracked by Python's garbage collector (it cannot be part of a cycle): with
    thousands per second, tracked ones made the collector run a full pass every second or so, stopping
    the pipeline for about 100 ms each time (see :func:`urbanbrain.domains.sensing.ingest.service.calm_gc`)."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    ts: float | str
    values: Annotated[dict[str, float], msgspec.Meta(min_length=1, max_length=64)]
    device: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


_many = msgspec.json.Decoder(list[Message])
_one = msgspec.json.Decoder(Message)
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_raw = msgspec.json.Decoder(msgspec.Raw)
_encode = msgspec.json.Encoder().encode


class Dead(msgspec.Struct, array_like=True, gc=False):
    """A message that is not taken: why, and the message itself (as bytes) for the dead-letter store. The
    journal and the readings stream keep it as it is (a record's ``dead``)."""

    reason: str
    detail: str
    payload: bytes
    device_id: str | None = None
    message_id: str | None = None


@dataclass
class DeviceInfo:
    """What the parser needs to know of a device: its index in the engine and what it may measure."""

    index: int
    measurements: frozenset[str]


@dataclass
class Parsed:
    """Good readings as columns (one row per value), the messages they came from, and the dead."""

    device_index: npt.NDArray[np.int64]  # the device, as its index in the engine (and the catalog)
    measurement: list[str]
    value: npt.NDArray[np.float64]
    ts: npt.NDArray[np.float64]
    message_id: list[str]
    messages: list[Message] = field(default_factory=list)
    dead: list[Dead] = field(default_factory=list)
    duplicates: int = 0
    keys: list[tuple[str, str]] = field(default_factory=list)  # (device, message id) of ``messages``

    @property
    def readings(self) -> int:
        return len(self.value)


def split_body(body: bytes, ndjson: bool) -> tuple[list[Message] | None, list[Dead]]:
    """Typed messages, or ``None`` with the dead when the body is not wholly valid (see :func:`parse`)."""
    text = body.strip()
    if not text:
        return [], [Dead("empty", "the body holds no message", body)]
    if ndjson:
        lines = [line for line in text.split(b"\n") if line.strip()]
        text = b"[" + b",".join(lines) + b"]"
    try:
        if text[:1] == b"[":
            return _many.decode(text), []
        return [_one.decode(text)], []
    except msgspec.DecodeError:
        pass
    dead: list[Dead] = []
    good: list[Message] = []
    try:
        raws = [_raw.decode(text)] if text[:1] != b"[" else _raw_list.decode(text)
    except msgspec.DecodeError as exc:
        return None, [Dead("not_json", str(exc), body)]
    for raw in raws:
        try:
            good.append(_one.decode(raw))
        except msgspec.DecodeError as exc:
            dead.append(Dead("invalid_message", str(exc), bytes(raw)))
    return good, dead


def _epoch(ts: float | str) -> float | None:
    if type(ts) is float:
        return ts
    if isinstance(ts, str):
        try:
            when = datetime.fromisoformat(ts)
        except ValueError:
            return None
        if when.tzinfo is None:
            return None  # a local time without its offset is ambiguous: refuse rather than guess
        return when.timestamp()
    return float(ts)


def parse(
    body: bytes,
    *,
    devices: Callable[[str], DeviceInfo | None],
    now_s: float,
    ndjson: bool = False,
    topic_device: str | None = None,
    only_device: str | None = None,
    fresh: Callable[[str, str], bool] | None = None,
    known: Mapping[str, DeviceInfo] | None = None,
    fresh_all: Callable[[Sequence[str], Sequence[str]], bool] | None = None,
) -> Parsed:
    """Decode and check one body. ``topic_device`` is the device the MQTT topic names (messages may omit
    theirs, and may not name another); ``only_device`` is the device a device key authenticated (it may
    send only its own readings). ``fresh(device, message id)`` says whether a message is new (and remembers
    it); a repeated message is dropped and counted, not dead-lettered: resending is what devices should do.
    ``known`` is the caller's map of active devices, looked in before ``devices`` is asked (it may load).
    ``fresh_all(devices, message ids)`` is ``fresh`` for a whole body at once: True (and all remembered)
    when every message is new, False (and nothing remembered) otherwise.

    A large body whose every message is good (the normal case) is checked column by column in
    :func:`_all_good`; any other body goes through the loop below, once per message, which says what is
    wrong with each bad one. The loop runs once per message, not per reading: a message's values are added
    with ``extend`` and its device, time and id repeated over them with numpy at the end.
    """
    messages, dead = split_body(body, ndjson)
    if (
        messages
        and not dead
        and len(messages) > SMALL_BODY
        and known is not None
        and (fresh is None or fresh_all is not None)
    ):
        good = _all_good(messages, known, topic_device, only_device, now_s + MAX_FUTURE_SKEW_S, fresh_all)
        if good is not None:
            return good
    lookup = (known or {}).get
    dev_idx: list[int] = []
    times: list[float] = []
    mids: list[str] = []
    counts: list[int] = []
    meas: list[str] = []
    vals: list[float] = []
    kept: list[Message] = []
    keys: list[tuple[str, str]] = []
    latest_ok = now_s + MAX_FUTURE_SKEW_S
    duplicates = 0
    isfinite = math.isfinite
    for m in messages or ():
        device = m.device or topic_device
        reason = detail = ""
        info = (lookup(device) or devices(device)) if device else None
        ts = m.ts if type(m.ts) is float else _epoch(m.ts)
        values = m.values
        if device is None:
            reason, detail = "no_device", "the message names no device"
        elif topic_device is not None and device != topic_device:
            reason, detail = "wrong_device", f"the topic names {topic_device}, the message {device}"
        elif only_device is not None and device != only_device:
            reason, detail = "wrong_device", f"this key belongs to {only_device}, not {device}"
        elif info is None:
            reason, detail = "unknown_device", f"no active device {device!r}"
        elif ts is None or not isfinite(ts):
            reason, detail = "bad_timestamp", f"ts {m.ts!r} is not epoch seconds or ISO-8601 with an offset"
        elif ts > latest_ok:
            reason, detail = "bad_timestamp", f"ts {m.ts!r} is more than {MAX_FUTURE_SKEW_S:.0f} s ahead"
        elif not info.measurements.issuperset(values):
            unknown = [k for k in values if k not in info.measurements]
            reason, detail = "unknown_measurement", f"{device} does not measure {', '.join(unknown)}"
        elif not all(map(isfinite, values.values())):
            reason, detail = "not_a_number", "values must be finite numbers"
        if reason:
            dead.append(Dead(reason, detail, _encode(m), device, m.id))
            continue
        assert info is not None and ts is not None and device is not None
        if fresh is not None and not fresh(device, m.id):
            duplicates += 1
            continue
        kept.append(m)
        keys.append((device, m.id))
        dev_idx.append(info.index)
        times.append(ts)
        mids.append(m.id)
        counts.append(len(values))
        meas.extend(values)
        vals.extend(values.values())
    if len(counts) <= SMALL_BODY:  # numpy's fixed cost per call is more than a few messages' Python
        if len(counts) == 1:  # one message (MQTT): its device, time and id once per value
            c = counts[0]
            dev_idx, times, mids = dev_idx * c, times * c, mids * c
        else:
            dev_idx, times, mids = _each(dev_idx, counts), _each(times, counts), _each(mids, counts)
        return Parsed(
            np.array(dev_idx, dtype=np.int64),
            meas,
            np.array(vals, dtype=np.float64),
            np.array(times, dtype=np.float64),
            mids,
            kept,
            dead,
            duplicates,
            keys,
        )
    per_message = np.array(counts, dtype=np.int64)
    return Parsed(
        np.repeat(np.array(dev_idx, dtype=np.int64), per_message),
        meas,
        np.array(vals, dtype=np.float64),
        np.repeat(np.array(times, dtype=np.float64), per_message),
        _repeat(mids, per_message),
        kept,
        dead,
        duplicates,
        keys,
    )


_device_of = attrgetter("device")
_id_of = attrgetter("id")
_ts_of = attrgetter("ts")
_values_of = attrgetter("values")
_index_of = attrgetter("index")
_measurements_of = attrgetter("measurements")


def _all_good(
    messages: list[Message],
    known: Mapping[str, DeviceInfo],
    topic_device: str | None,
    only_device: str | None,
    latest_ok: float,
    fresh_all: Callable[[Sequence[str], Sequence[str]], bool] | None,
) -> Parsed | None:
    """The columns of a body whose every message is good and new, or ``None`` if any is not (the caller
    then checks message by message). The same checks as :func:`parse`'s loop, each over a whole column in
    one call that loops in C (``map`` over unbound methods, ``chain``, numpy): the per-message loop was most
    of the HTTP door's time, and the interpreter lock it held was what capped the door's rate."""
    devices = list(map(_device_of, messages))
    if topic_device is not None:  # MQTT: all name the topic's device, or all leave it to the topic
        if devices.count(None) == len(devices):
            devices = [topic_device] * len(devices)
        elif devices.count(topic_device) != len(devices):
            return None
    if None in devices or (only_device is not None and devices.count(only_device) != len(devices)):
        return None
    if not known.keys() >= set(devices):  # a set test: ``None in infos`` would call each info's __eq__
        return None
    infos = list(map(known.__getitem__, devices))
    stamps = list(map(_ts_of, messages))
    if str in set(map(type, stamps)):
        return None  # ISO-8601 times: the loop converts them one by one
    ts = np.array(stamps, dtype=np.float64)
    if not (np.isfinite(ts).all() and (ts <= latest_ok).all()):
        return None
    values = list(map(_values_of, messages))
    if not all(map(frozenset.issuperset, map(_measurements_of, infos), values)):
        return None
    vals = np.fromiter(chain.from_iterable(map(dict.values, values)), np.float64)
    if not np.isfinite(vals).all():
        return None
    ids = list(map(_id_of, messages))
    if fresh_all is not None and not fresh_all(devices, ids):
        return None
    counts = np.fromiter(map(len, values), np.int64, len(values))
    return Parsed(
        np.repeat(np.fromiter(map(_index_of, infos), np.int64, len(infos)), counts),
        list(chain.from_iterable(values)),
        vals,
        np.repeat(ts, counts),
        _repeat(ids, counts),
        messages,
        [],
        0,
        list(zip(devices, ids, strict=True)),
    )


def _each(items: list[T], counts: list[int]) -> list[T]:
    """Each item ``counts[i]`` times (few items)."""
    return [x for x, c in zip(items, counts, strict=True) for _ in range(c)]


def _repeat(items: list[str], counts: npt.NDArray[np.int64]) -> list[str]:
    """Each item ``counts[i]`` times, as a list (numpy does the repeating)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return list(np.repeat(out, counts))


def encode_messages(messages: list[Message]) -> bytes:
    """Messages back to a JSON array (the journal keeps only the good part of a partly bad body)."""
    return _encode(messages)


def dead_payload(dead: Dead) -> str:
    """The dead message as text for the store (bytes that are not UTF-8 are kept escaped)."""
    return dead.payload.decode("utf-8", errors="backslashreplace")


def message_dict(m: Message) -> dict[str, Any]:
    return msgspec.structs.asdict(m)
