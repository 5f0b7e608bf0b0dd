"""The readings stream, for scaling out: doors check readings and send them through NATS JetStream, one
subject per partition (``ub.sensing.<district>.p.<N>``, see partition.py); each worker takes the records of the
partitions it owns with durable consumers and processes them in its own pipeline (journal, rules, lake).

**Nothing acknowledged is lost.** A door answers a device (HTTP 202, MQTT PUBACK) once JetStream has stored
every partition's part of its body. A worker acknowledges a record to JetStream once its own journal holds it;
a record redelivered after a worker's crash is taken once (the worker remembers message ids). The stream is a
work queue: a record acknowledged by its worker is removed from it.

**One building, one worker.** Partitions follow buildings, so a device's readings and its building's
composite rules stay in one worker; devices without a building follow their partition group (a crowd
zone's inputs), else themselves. Each partition has one durable consumer; two processes given the same
partition would share its consumer and split its readings: give each worker partitions of its own.

**Alarms on every screen.** A worker's alarms are events like any other: they leave its outbox on the bus
(NATS JetStream), and every process's live feed listens to them, so the command centre sees every worker's
alarms whichever API process it is connected to.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import re
import threading
import uuid
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import nats
import nats.errors
import nats.js.errors
from nats.js.api import ConsumerConfig, RetentionPolicy, StorageType, StreamConfig

from urbanbrain.core.bus.loop_thread import LoopThread
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.loops import BackgroundLoop
from urbanbrain.domains.sensing.ingest.catalog import RELOAD_SECONDS, Catalog, read_only
from urbanbrain.domains.sensing.ingest.partition import partition_of
from urbanbrain.domains.sensing.ingest.pipeline import Pipeline
from urbanbrain.domains.sensing.ingest.records import Receipt, Record, decode_record, encode_record
from urbanbrain.domains.sensing.ingest.wire import MAX_BODY_BYTES, Dead, Message, encode_messages, parse

log = logging.getLogger(__name__)
FETCH_RECORDS = 256  # records a worker asks JetStream for at a time, per partition
MAX_PUBLISHING = 20_000  # bodies a door may have waiting for JetStream; more: sensing.busy
_NAMESPACE = re.compile(r"[A-Za-z0-9_-]*")


class ReadingsStream:
    """One JetStream connection on a thread of its own (nats-py is asyncio; the doors' callers and the
    pipeline are threads)."""

    def __init__(self, url: str, district: str, partitions: int) -> None:
        parts = urlsplit(url)
        # ``?namespace=x`` keeps several platforms apart on one NATS server (tests, staging beside production).
        namespace = parse_qs(parts.query).get("namespace", [""])[0]
        if not _NAMESPACE.fullmatch(namespace):
            raise ValueError("the readings stream's namespace may hold only letters, digits, - and _")
        self.url = f"nats://{parts.netloc}"
        self.district, self.partitions = namespace + district, partitions
        self.name = f"UB_SENSING_{self.district}"
        self.origin = uuid.uuid4().hex  # names this process's connection on the server
        self.io = LoopThread("sensing-stream")
        self.nc: Any = None
        self.js: Any = None

    def subject(self, partition: int) -> str:
        return f"ub.sensing.{self.district}.p.{partition}"

    def start(self) -> None:
        self.io.start()
        self.io.call(self._connect())

    async def _connect(self) -> None:
        self.nc = await nats.connect(self.url, max_reconnect_attempts=-1, name=f"urbanbrain-{self.origin}")
        self.js = self.nc.jetstream()
        config = StreamConfig(
            name=self.name,
            subjects=[f"ub.sensing.{self.district}.p.*"],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
        )
        try:
            await self.js.stream_info(self.name)
        except nats.js.errors.NotFoundError:
            await self.js.add_stream(config)

    def publish(self, parts: list[tuple[int, bytes]]) -> concurrent.futures.Future[None]:
        """Store each (partition, record) in JetStream; the future is done when all are stored."""
        return self.io.submit(self._publish(parts))

    async def _publish(self, parts: list[tuple[int, bytes]]) -> None:
        await asyncio.gather(*(self.js.publish(self.subject(p), blob) for p, blob in parts))

    def close(self) -> None:
        self.io.stop(self._close_connection)

    async def _close_connection(self) -> None:
        with contextlib.suppress(Exception):
            await self.nc.close()

    @property
    def closing(self) -> bool:
        return self.io.stopping


class Router:
    """The doors' side: check a body as the pipeline would (a bad message gets its answer here), split its
    messages by partition and store the parts in JetStream. Repeats are dropped by the workers, so a door's
    receipt counts none."""

    def __init__(self, platform: Platform, stream: ReadingsStream) -> None:
        self.platform, self.stream = platform, stream
        self.catalog = Catalog()  # every device: the door routes all of them
        self._publishing = 0
        self._lock = threading.Lock()
        # The doors' threads (the HTTP event loop, the MQTT door's loop) must not wait for the database: device
        # changes are read on a loop of their own (a failed read: the doors go on with what they know).
        self._reloader = BackgroundLoop("sensing-router-catalog", self.reload, RELOAD_SECONDS)

    def start(self) -> None:
        """Read every device now, then look for changes every ``RELOAD_SECONDS``."""
        self.reload(force=True)
        self._reloader.start()

    def stop(self) -> None:
        self._reloader.stop()

    def device(self, device_id: str) -> Any:
        return self.catalog.device(device_id, self.platform)

    def device_for_key(self, key: str) -> str | None:
        return self.catalog.device_for_key(key, self.platform)

    def reload(self, *, force: bool = False) -> None:
        """Take device changes (a device moved to another building, or given another partition group, moves
        to that partition)."""
        with self.platform.db.sessionmaker() as session:
            read_only(session)
            self.catalog.reload(session, self.platform, force=force)

    def partition(self, device_id: str | None) -> int:
        """The partition of a device's readings: of its building, else its partition group, else itself."""
        if device_id is None:
            return 0
        return partition_of(self.catalog.partition_key(device_id), self.stream.partitions)

    def submit(
        self,
        body: bytes,
        *,
        source: str = "http",
        ndjson: bool = False,
        topic_device: str | None = None,
        only_device: str | None = None,
    ) -> concurrent.futures.Future[Receipt]:
        if len(body) > MAX_BODY_BYTES:
            raise UrbanBrainError("sensing.body_too_large", limit=MAX_BODY_BYTES)
        if self._publishing >= MAX_PUBLISHING:
            raise UrbanBrainError("sensing.busy", retry_after=1)
        now = self.platform.clock.now().timestamp()
        parsed = parse(body, devices=self.device, now_s=now, ndjson=ndjson, topic_device=topic_device,
                       only_device=only_device, known=self.catalog.active,
                       max_age_s=self.platform.settings.sensing_max_age_days * 86400.0)  # fmt: skip
        by_part: dict[int, list[Message]] = defaultdict(list)
        for m in parsed.messages:
            by_part[self.partition(m.device or topic_device)].append(m)
        dead_by_part: dict[int, list[Dead]] = defaultdict(list)
        for d in parsed.dead:
            dead_by_part[self.partition(d.device_id)].append(d)
        whole = not parsed.dead and len(by_part) == 1
        parts: list[tuple[int, bytes]] = []
        for p in sorted(set(by_part) | set(dead_by_part)):
            messages = by_part.get(p, [])
            kept = body if whole else (encode_messages(messages) if messages else b"")
            rec = Record(source, now, kept, ndjson and whole, topic_device, dead_by_part.get(p, []))
            parts.append((p, encode_record(rec)))
        receipt = Receipt(len(parsed.messages), parsed.readings, 0, parsed.dead)
        done: concurrent.futures.Future[Receipt] = concurrent.futures.Future()
        with self._lock:
            self._publishing += 1
        stored = self.stream.publish(parts)
        stored.add_done_callback(lambda f: self._stored(f, done, receipt))
        return done

    def _stored(
        self,
        stored: concurrent.futures.Future[None],
        done: concurrent.futures.Future[Receipt],
        receipt: Receipt,
    ) -> None:
        with self._lock:
            self._publishing -= 1
        exc = stored.exception()
        if exc is None:
            done.set_result(receipt)
        else:
            log.warning("sensing: JetStream did not store readings: %r", exc)
            done.set_exception(UrbanBrainError("sensing.unavailable", reason=type(exc).__name__))


class Worker:
    """The workers' side: one durable consumer per owned partition, each record handed to the pipeline and
    acknowledged to JetStream once the pipeline's journal has it."""

    def __init__(self, stream: ReadingsStream, pipeline: Pipeline, owned: frozenset[int]) -> None:
        self.stream, self.pipeline, self.owned = stream, pipeline, owned
        self.records = 0

    def start(self) -> None:
        for p in sorted(self.owned):
            sub = self.stream.io.call(self._subscribe(p))
            self.stream.io.spawn(self._pump(sub))

    async def _subscribe(self, partition: int) -> Any:
        durable = f"ub-sensing-{self.stream.district}-p{partition}"
        config = ConsumerConfig(ack_wait=60, max_ack_pending=4 * FETCH_RECORDS)
        return await self.stream.js.pull_subscribe(
            self.stream.subject(partition), durable=durable, stream=self.stream.name, config=config
        )

    async def _pump(self, sub: Any) -> None:
        while not self.stream.closing:
            try:
                msgs = await sub.fetch(FETCH_RECORDS, timeout=0.5)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.stream.closing:
                    return
                log.exception("sensing: fetching readings from JetStream")
                await asyncio.sleep(0.5)
                continue
            try:
                await self._take(msgs)
            except asyncio.CancelledError:
                raise
            except Exception:  # unacknowledged: JetStream delivers them again after ack_wait
                log.exception("sensing: taking records from JetStream")
                await asyncio.sleep(0.5)

    async def _take(self, msgs: list[Any]) -> None:
        records: list[Record] = []
        for msg in msgs:
            try:
                records.append(decode_record(msg.data))
            except msgspec.DecodeError as exc:
                # Not a door's record (something else published on the subject): kept as a dead letter.
                why = Dead("unreadable_record", f"{msg.subject}: {exc}", bytes(msg.data), None, None)
                now = self.pipeline.platform.clock.now().timestamp()
                records.append(Record("stream", now, b"", False, None, [why]))
        journaled = []
        start = 0
        for rec, count in merge(records):
            journaled.append((msgs[start : start + count], await self._hand_on(rec)))
            start += count
        for covered, future in journaled:
            try:
                await future
            except UrbanBrainError:  # the journal could not take it: JetStream keeps it for later
                for msg in covered:
                    await msg.nak(delay=1.0)
            else:
                for msg in covered:
                    await msg.ack()
                self.records += len(covered)

    async def _hand_on(self, rec: Record) -> asyncio.Future[Any]:
        while True:
            try:
                return asyncio.wrap_future(self.pipeline.submit_record(rec))
            except UrbanBrainError as exc:
                if exc.code != "sensing.busy":
                    raise
                await asyncio.sleep(0.05)


def merge(records: list[Record]) -> list[tuple[Record, int]]:
    """Consecutive records of JSON arrays from one kind of door as one record, each with the number of
    records it stands for. A body cut into parts by partition arrives as many small records; checked one by
    one they cost the worker a third of its rate, as one array once. Records of MQTT topics (the topic names
    the device) and NDJSON stay as they are."""
    out: list[tuple[Record, int]] = []
    run: list[Record] = []

    def close_run() -> None:
        if len(run) == 1:
            out.append((run[0], 1))
        elif run:
            inner = [body[1:-1] for body in (r.body.strip() for r in run) if len(body) > 2]
            body = b"[" + b",".join(inner) + b"]" if inner else b""
            dead = [d for r in run for d in r.dead]
            out.append(
                (Record(run[0].source, min(r.received for r in run), body, False, None, dead), len(run))
            )
        run.clear()

    for rec in records:
        if rec.topic_device is None and not rec.ndjson and rec.body.lstrip()[:1] in (b"[", b""):
            if run and run[0].source != rec.source:
                close_run()
            run.append(rec)
        else:
            close_run()
            out.append((rec, 1))
    close_run()
    return out
