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

from urbanbrain.domains.sensing.ingest.dedupe import Verdict

T = TypeVar("T")
MAX_BODY_BYTES = 16 * 1024 * 1024
SMALL_BODY = 32  # messages; a smaller body's columns are built without numpy (see parse)
MAX_FUTURE_SKEW_S = 300.0  # a reading further ahead of the platform clock is a broken device clock
TOLERANT_BYTES = 1 << 20  # a malformed array up to this size is taken apart element by element


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
    except (msgspec.DecodeError, RecursionError):
        pass
    dead: list[Dead] = []
    good: list[Message] = []
    try:
        raws: list[Any] = [_raw.decode(text)] if text[:1] != b"[" else _raw_list.decode(text)
    except RecursionError:
        return None, [Dead("not_json", "nested too deeply (a message is an object of values)", body[:4096])]
    except msgspec.DecodeError as exc:
        # Still a list (a NaN or a typo in one element)? Then the good elements are kept.
        elements = _elements(text)
        if elements is None:
            return None, [Dead("not_json", str(exc), body)]
        raws = elements
    for raw in raws:
        try:
            good.append(_one.decode(raw))
        except (msgspec.DecodeError, RecursionError) as exc:
            detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            dead.append(Dead("invalid_message", detail, bytes(raw)[:4096]))
    return good, dead


def _elements(text: bytes) -> list[bytes] | None:
    """The elements of a top-level JSON array whose elements need not all be valid JSON (``[{...}, NaN]``),
    cut at the commas outside strings, brackets and braces; None when the text is not such an array (or is
    too large to take apart here)."""
    if len(text) > TOLERANT_BYTES or text[:1] != b"[" or text[-1:] != b"]":
        return None
    out: list[bytes] = []
    depth, in_string, escaped, start = 0, False, False, 1
    for i in range(1, len(text) - 1):
        c = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:  # quote
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x5B, 0x7B):  # [ {
            depth += 1
        elif c in (0x5D, 0x7D):  # ] }
            depth -= 1
            if depth < 0:
                return None
        elif c == 0x2C and depth == 0:  # a comma between elements
            out.append(text[start:i].strip())
            start = i + 1
    if in_string or depth:
        return None
    last = text[start:-1].strip()
    if last or out:
        out.append(last)
    return out


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
    fresh: Callable[[str, str, float], Verdict] | None = None,
    known: Mapping[str, DeviceInfo] | None = None,
    fresh_all: Callable[[Sequence[str], Sequence[str], Any], bool] | None = None,
    max_age_s: float | None = None,
) -> Parsed:
    """Decode and check one body. ``topic_device`` is the device the MQTT topic names (messages may omit
    theirs, and may not name another); ``only_device`` is the device a device key authenticated (it may
    send only its own readings). ``fresh(device, message id, ts)`` says whether a message is new (and
    remembers it), a repeat or too late (see ``dedupe.py``); a repeat is dropped and counted, not
    dead-lettered: resending is what devices should do. ``known`` is the caller's map of active devices,
    looked in before ``devices`` is asked (it may load). ``fresh_all(devices, message ids, times)`` is
    ``fresh`` for a whole body at once: True (and all remembered) when every message is new, False (and
    nothing remembered) otherwise. A reading older than ``max_age_s`` before ``now_s`` is refused as
    ``too_old`` (a device clock years off must not make lake partitions of years long gone).

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
        oldest_ok = -math.inf if max_age_s is None else now_s - max_age_s
        good = _all_good(
            messages, known, topic_device, only_device, (oldest_ok, now_s + MAX_FUTURE_SKEW_S), fresh_all
        )
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
    oldest_ok = -math.inf if max_age_s is None else now_s - max_age_s
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
        elif ts < oldest_ok:
            reason, detail = "too_old", f"ts {m.ts!r} is more than {(now_s - oldest_ok) / 86400:g} days old"
        elif not info.measurements.issuperset(values):
            unknown = [k for k in values if k not in info.measurements]
            reason, detail = "unknown_measurement", f"{device} does not measure {', '.join(unknown)}"
        elif not all(map(isfinite, values.values())):
            reason, detail = "not_a_number", "values must be finite numbers"
        if reason:
            dead.append(Dead(reason, detail, _encode(m), device, m.id))
            continue
        assert info is not None and ts is not None and device is not None
        verdict = fresh(device, m.id, ts) if fresh is not None else Verdict.NEW
        if verdict is Verdict.REPEAT:
            duplicates += 1
            continue
        if verdict is Verdict.TOO_LATE:
            detail = f"ts {m.ts!r} is further behind {device}'s newest message than the allowed lateness"
            dead.append(Dead("too_late", detail, _encode(m), device, m.id))
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
    bounds: tuple[float, float],
    fresh_all: Callable[[Sequence[str], Sequence[str], Any], bool] | None,
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
    oldest_ok, latest_ok = bounds
    if not (np.isfinite(ts).all() and (ts <= latest_ok).all() and (ts >= oldest_ok).all()):
        return None
    values = list(map(_values_of, messages))
    if not all(map(frozenset.issuperset, map(_measurements_of, infos), values)):
        return None
    vals = np.fromiter(chain.from_iterable(map(dict.values, values)), np.float64)
    if not np.isfinite(vals).all():
        return None
    ids = list(map(_id_of, messages))
    if fresh_all is not None and not fresh_all(devices, ids, ts):
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
