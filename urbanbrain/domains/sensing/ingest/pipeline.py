"""The ingestion pipeline: every door (HTTP, MQTT) hands it bodies of readings; it checks them, journals
them, acknowledges, then evaluates the rules, keeps the latest values, appends to the lake and records alarms.

Two threads per process do everything after the check, in groups. The journal thread writes all bodies
waiting with one write and one fsync (group commit) and answers their senders; the writer thread processes
what is journaled with one call to the rules engine and one append to the lake, recording the group's alarms
first. So the work per reading is vectorised, the database sees one short transaction per group, not one
per reading, and a body is journaled while the group before it is processed. Checkpoints are written, and
cases opened, on threads of their own.

**Nothing acknowledged is lost.** A body is acknowledged only once it is in the journal. Every
``checkpoint_seconds`` the lake is flushed, the latest values written, and the rules engine's state saved with
the journal position; after a crash the journal's later records are replayed through the same steps (alarms
are recorded idempotently, so replay raises nothing twice).

**Backpressure.** At most ``sensing_max_pending`` readings wait between acknowledgement and processing (plus
the bodies waiting for the journal); past that a door is told ``sensing.busy`` (HTTP 429 with Retry-After;
the MQTT door waits, so the broker holds the messages).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from urbanbrain.core import memory
from urbanbrain.core.config import pending_readings_for_memory
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.loops import BackgroundLoop
from urbanbrain.domains.sensing.engine import RuleEngine
from urbanbrain.domains.sensing.ingest import writes
from urbanbrain.domains.sensing.ingest.catalog import RELOAD_SECONDS, Catalog
from urbanbrain.domains.sensing.ingest.dedupe import Seen
from urbanbrain.domains.sensing.ingest.journal import Journal
from urbanbrain.domains.sensing.ingest.process import GroupProcessing
from urbanbrain.domains.sensing.ingest.records import Receipt, Record, decode_record, encode_record
from urbanbrain.domains.sensing.ingest.wire import (
    MAX_BODY_BYTES,
    Dead,
    DeviceInfo,
    Parsed,
    encode_messages,
    parse,
)
from urbanbrain.domains.sensing.lake import Lake

log = logging.getLogger(__name__)
CACHE_KEY = "sensing.pipeline"
GROUP_READINGS = 250_000  # at most this many readings per processing group
LATEST_CHUNK = 1000  # latest values per transaction on SQLite (see Pipeline._write_latest)


@dataclass
class _Waiting:
    record: bytes
    parsed: Parsed
    received: float
    source: str
    future: Future[Receipt]
    keys: list[tuple[str, str]] = field(default_factory=list)


class Pipeline(GroupProcessing):
    def __init__(
        self,
        platform: Platform,
        root: Path | None = None,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        s = platform.settings
        self.platform = platform
        self.root = Path(root or s.data_dir / "sensing")
        self.root.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(self.root / "journal", fsync=s.sensing_journal_fsync)
        self.lake = Lake(s.data_dir / "lake", utc_offset_hours=s.utc_offset_hours, flush_rows=10**9,
                         flush_seconds=1e9, fsync=s.sensing_journal_fsync)  # fmt: skip
        self.state_path = self.root / "state.bin"
        # Names this pipeline's lake files (several workers share one lake, each with its own journal).
        self.writer_name = re.sub(r"[^A-Za-z0-9_]", "_", self.root.name) or "sensing"
        self.max_pending = s.sensing_max_pending or pending_readings_for_memory()
        self.checkpoint_seconds = s.sensing_checkpoint_seconds
        self.catalog = Catalog(owns)
        self.engine = RuleEngine([], s.sensing_allowed_lateness_s)
        self.seen = Seen(window_s=s.sensing_allowed_lateness_s)
        self.max_age_s = s.sensing_max_age_days * 86400.0
        self._checkpointer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sensing-checkpoint")
        self._checkpointing: Future[None] | None = None
        self.stats = {"bodies": 0, "readings": 0, "duplicates": 0, "dead": 0, "alarms": 0, "groups": 0}
        self._lock = threading.Lock()  # guards the inbox and the queued count (held briefly)
        self._seen_lock = threading.Lock()  # guards the seen ids, from the check until the body is queued
        self._inbox: deque[_Waiting] = deque()
        self._in_flight: list[tuple[str, str]] = []  # keys of the bodies being written to the journal
        self._journaled: deque[tuple[int, list[_Waiting]]] = deque()  # journaled, not yet processed
        self._journal_lock = threading.Lock()  # one journal writer at a time
        # The journal thread: bodies waiting go to the journal in one write (group commit), their senders are
        # answered and the writer is handed them; on a thread of its own, a body never waits for the
        # processing of the group before it (and its alarm is raised one group sooner).
        self._journaller = BackgroundLoop(
            "sensing-journal", self._journal_all, 0.2, on_stop=self._journal_all
        )
        self._queued = 0
        self._commands: deque[tuple[Callable[[], Any], Future[Any]]] = deque()

        self._idle = threading.Event()
        # The writer thread: everything after the journal (a broken group is in the journal and is replayed).
        self._writer = BackgroundLoop("sensing-pipeline", self._step, 0.2, on_stop=self._step)
        self._stopped = False
        self._processed_seq = 0
        self._last_checkpoint = time.monotonic()
        self._last_reload = time.monotonic()
        self._pending_latest: dict[tuple[str, str], tuple[float, float, str]] = {}
        self._pending_dead: list[tuple[str, float, Dead]] = []
        self._taken = platform.metrics.counter(
            "urbanbrain_readings_total", "Readings taken: journaled and acknowledged to their sender"
        )

    # -- start and stop ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Load devices and rules, restore the saved state, replay the journal, then take readings."""
        seq = self._restore()
        # Lake files of a checkpoint whose state was never saved: the replay below writes their rows again.
        discarded = self.lake.discard_unsaved(self.writer_name, seq, self.journal.last_seq)
        if discarded:
            log.info(
                "sensing: %d lake files of an unfinished checkpoint removed; the journal replays them",
                discarded,
            )
        self._reload(force=True)
        replayed = 0
        for n, blob in self.journal.replay():
            if n <= seq:
                continue
            rec = decode_record(blob)
            parsed = self._parse(rec.body, rec.ndjson, rec.topic_device, None, rec.received, replay=True)
            self._process([parsed], rec.received, rec.source, [d for d in rec.dead])
            self._processed_seq = n
            replayed += 1
        if replayed:
            log.info("sensing: replayed %d journal records after seq %d", replayed, seq)
            self.checkpoint()
        self._processed_seq = max(self._processed_seq, self.journal.last_seq)
        self.engine.resume(self.platform.clock.now().timestamp())
        self._watch()
        self._writer.start()
        self._journaller.start()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._journaller.stop(timeout=30)
        self._writer.stop(timeout=30)
        try:
            self.checkpoint()
        finally:
            self._checkpointer.shutdown(wait=True)
            self.journal.close()
            self.lake.close()

    # -- the doors' side ------------------------------------------------------------------------------

    def device(self, device_id: str) -> DeviceInfo | None:
        return self.catalog.device(device_id, self.platform)

    def device_for_key(self, key: str) -> str | None:
        return self.catalog.device_for_key(key, self.platform)

    def submit(
        self,
        body: bytes,
        *,
        source: str = "http",
        ndjson: bool = False,
        topic_device: str | None = None,
        only_device: str | None = None,
    ) -> Future[Receipt]:
        """Check a body and queue it; the future gives the receipt once the body is journaled (or raises
        ``sensing.busy`` / ``sensing.unavailable``). Bad messages are dead-lettered, never refused whole."""
        if len(body) > MAX_BODY_BYTES:
            raise UrbanBrainError("sensing.body_too_large", limit=MAX_BODY_BYTES)
        now = self.platform.clock.now().timestamp()
        return self._queue(body, ndjson, topic_device, only_device, now, source, [])

    def submit_record(self, rec: Record) -> Future[Receipt]:
        """Take a record a door checked and sent through the readings stream (scale-out, see stream.py): its
        messages are checked again here (against this worker's devices, and for repeats) and the dead the
        door found are dead-lettered here with them."""
        return self._queue(rec.body, rec.ndjson, rec.topic_device, None, rec.received, rec.source, rec.dead)

    def _queue(
        self,
        body: bytes,
        ndjson: bool,
        topic_device: str | None,
        only_device: str | None,
        now: float,
        source: str,
        dead_before: list[Dead],
    ) -> Future[Receipt]:
        if self._queued >= self.max_pending:
            raise UrbanBrainError("sensing.busy", retry_after=1)
        # The seen-lock spans the check of message ids and the queueing, so a checkpoint never saves an id
        # as taken while its body is not yet queued for the journal (see checkpoint).
        with self._seen_lock:
            parsed = self._parse(body, ndjson, topic_device, only_device, now) if body else \
                Parsed(np.empty(0, np.int64), [], np.empty(0), np.empty(0), [])  # fmt: skip
            if dead_before:
                parsed.dead[:0] = list(dead_before)  # fmt: skip
            whole = not parsed.dead and not parsed.duplicates
            dead = list(parsed.dead)
            kept = body if whole else (encode_messages(parsed.messages) if parsed.messages else b"")
            rec = Record(source, now, kept, ndjson and whole, topic_device, dead)
            future: Future[Receipt] = Future()
            # Running from the start: a sender that gives up (an HTTP client gone, a stopping worker) cannot
            # cancel it, so the journal thread can always answer it; the body is journaled all the same.
            future.set_running_or_notify_cancel()
            keys = parsed.keys
            with self._lock:
                self._inbox.append(_Waiting(encode_record(rec), parsed, now, source, future, keys))
                self._queued += parsed.readings + 1
        self._journaller.wake()
        return future

    def ingest(self, body: bytes, **kw: Any) -> Receipt:
        """:meth:`submit` and wait for the journal (tools and tests)."""
        return self.submit(body, **kw).result(timeout=60)

    def _parse(
        self,
        body: bytes,
        ndjson: bool,
        topic_device: str | None,
        only: str | None,
        now: float,
        *,
        replay: bool = False,
    ) -> Parsed:
        """Check a body; its messages' ids are remembered as taken (on replay: whether or not seen before,
        and however old: the journal holds only what was taken)."""
        seen = self.seen
        fresh, fresh_all = (seen.remember, seen.remember_all) if replay else (seen.check, seen.check_all)
        return parse(body, devices=self.device, now_s=now, ndjson=ndjson, topic_device=topic_device,
                     only_device=only, fresh=fresh, fresh_all=fresh_all, known=self.catalog.active,
                     max_age_s=None if replay else self.max_age_s)  # fmt: skip

    # -- the writer thread ----------------------------------------------------------------------------

    def call(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` on the writer thread (the engine is not shared between threads)."""
        future: Future[Any] = Future()
        self._commands.append((fn, future))
        self._writer.wake()
        return future

    def drain(self, timeout: float = 60) -> None:
        """Wait until everything submitted so far is processed and the watermark has moved to now (what the
        alarms set off, cases and notifications, follows on the bus)."""
        self._journal_all()
        self.call(lambda: None).result(timeout=timeout)
        self.call(self._advance).result(timeout=timeout)

    def reload(self) -> None:
        """Take device and rule changes now (after this process changed them)."""
        self.call(lambda: self._reload(force=True)).result(timeout=60)

    def _step(self) -> None:
        while self._commands:
            fn, future = self._commands.popleft()
            try:
                self._group()
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)
        self._group()
        self._advance()
        now = time.monotonic()
        if now - self._last_reload >= RELOAD_SECONDS:
            self._reload(force=False)
        if now - self._last_checkpoint >= self.checkpoint_seconds:
            self.checkpoint(background=True)

    def _take(self) -> list[_Waiting]:
        taken: list[_Waiting] = []
        readings = 0
        with self._lock:
            while self._inbox and readings < GROUP_READINGS:
                w = self._inbox.popleft()
                taken.append(w)
                readings += w.parsed.readings
            self._in_flight = [k for w in taken for k in w.keys]
        return taken

    def _journal_all(self) -> None:
        """Journal everything in the inbox now (the journal thread, or a caller of :meth:`drain`)."""
        while True:
            with self._journal_lock:
                taken = self._take()
                if not taken:
                    return
                try:
                    seq = self.journal.append([w.record for w in taken])
                except Exception as exc:
                    log.exception("sensing journal")
                    with self._seen_lock, self._lock:
                        for w in taken:
                            self.seen.forget(w.keys)
                            self._queued -= w.parsed.readings + 1
                        self._in_flight = []
                    for w in taken:
                        w.future.set_exception(
                            UrbanBrainError("sensing.unavailable", reason=type(exc).__name__)
                        )
                    continue
                for w in taken:
                    p = w.parsed
                    w.future.set_result(Receipt(len(p.messages), p.readings, p.duplicates, p.dead))
                self._taken.inc(sum(w.parsed.readings for w in taken))
                with self._lock:
                    self._journaled.append((seq, taken))
                    self._in_flight = []
            self._writer.wake()

    def _group(self) -> None:
        """Process what is journaled, in groups of at most ``GROUP_READINGS`` readings."""
        while True:
            taken: list[_Waiting] = []
            readings, seq = 0, 0
            with self._lock:
                while self._journaled and readings < GROUP_READINGS:
                    seq, more = self._journaled.popleft()
                    taken += more
                    readings += sum(w.parsed.readings for w in more)
            if not taken:
                return
            dead = [d for w in taken for d in w.parsed.dead]
            received = taken[0].received
            try:
                self._process([w.parsed for w in taken], received, taken[0].source, dead,
                              [(w.parsed.readings, w.received) for w in taken])  # fmt: skip
            finally:
                self._processed_seq = seq
                with self._lock:
                    self._queued -= sum(w.parsed.readings + 1 for w in taken)

    # -- checkpoints ----------------------------------------------------------------------------------

    def checkpoint(self, *, background: bool = False) -> None:
        """Lake flushed, latest values written, engine state and seen ids saved, journal trimmed.

        The writer thread takes what is due up to the processed journal position (the buffered lake rows,
        the latest values, a copy of the seen ids, the engine's state); with ``background`` the writing is
        done on the checkpoint thread, so the alarms of the next readings do not wait for it (it stopped
        the writer for 50-70 ms every 2 s). A checkpoint asked for while the last is still writing is left
        for the next round; one in the foreground waits for it first."""
        self._last_checkpoint = time.monotonic()
        if self._checkpointing is not None and not self._checkpointing.done():
            if background:
                return
            wait([self._checkpointing])  # a failure was logged there; this one tries again
        seq = self._processed_seq
        now = self.platform.clock.now().timestamp()
        batches = self.lake.take_pending()
        latest, self._pending_latest = self._pending_latest, {}
        with self._seen_lock:
            with self._lock:
                not_journaled = [k for w in self._inbox for k in w.keys] + self._in_flight
            seen = self.seen.snapshot(excluding=not_journaled)
        engine = self.engine.snapshot()
        if background:
            self._checkpointing = self._checkpointer.submit(
                self._save, seq, now, batches, latest, seen, engine
            )
        else:
            self._save(seq, now, batches, latest, seen, engine)

    def _save(
        self,
        seq: int,
        now: float,
        batches: list[Any],
        latest: dict[tuple[str, str], tuple[float, float, str]],
        seen: tuple[Any, ...],
        engine: bytes,
    ) -> None:
        """Write what :meth:`checkpoint` took; the journal is trimmed only once all of it is durable (after
        a failure the journal replays the readings since the last checkpoint, lake rows and all)."""
        try:
            self.lake.write(batches, now, checkpoint=(self.writer_name, seq))
            self._write_latest(latest)
            blob = msgspec.msgpack.encode({"seq": seq, "engine": engine, "seen": Seen.encode(seen)})
            tmp = self.state_path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.state_path)
            if seq:
                self.journal.checkpoint(seq)
            if self._queued == 0:  # idle again after a burst: give its memory back to the system
                memory.trim()
        except Exception:
            log.exception(
                "sensing checkpoint at journal seq %d failed; the journal keeps what it covers", seq
            )
            raise

    def _write_latest(self, latest: dict[tuple[str, str], tuple[float, float, str]]) -> None:
        """On SQLite, in transactions of ``LATEST_CHUNK`` rows: the database has one write lock, and an alarm's
        transaction waited for all of a checkpoint's latest values (10,000 rows, 50-100 ms at 10,000
        readings/s). Each row is an upsert that keeps the newer reading, so the chunks need no one
        transaction; the journal is trimmed only after the last."""
        items = list(latest.items())
        step = LATEST_CHUNK if self.platform.db.dialect == "sqlite" else max(1, len(items))
        for start in range(0, len(items), step):
            with self.platform.db.session() as session:
                writes.write_latest(session, dict(items[start : start + step]))
            time.sleep(0)  # the writer, if it waits for the lock, takes it before the next chunk

    def _restore(self) -> int:
        if not self.state_path.exists():
            return 0
        state = msgspec.msgpack.decode(self.state_path.read_bytes())
        with self.platform.db.sessionmaker() as session:
            rules = self.catalog.rules(session)
        self.engine = RuleEngine.restore(
            state["engine"], rules, self.platform.settings.sensing_allowed_lateness_s
        )
        self.catalog.adopt(self.engine.device_ids)
        self.seen = Seen.load(state["seen"], window_s=self.platform.settings.sensing_allowed_lateness_s)
        return int(state["seq"])

    # -- what the API shows -----------------------------------------------------------------------------

    def _watch(self) -> None:
        """Gauges read when Prometheus scrapes, from this (the newest started) pipeline of the platform."""
        metrics = self.platform.metrics
        metrics.gauge(
            "urbanbrain_pipeline_queued_readings",
            "Readings (and bodies) taken or waiting for the journal, not yet processed",
        ).set_function(lambda: self._queued)
        metrics.gauge(
            "urbanbrain_journal_lag_records",
            "Journal records not yet processed: last seq minus processed seq",
        ).set_function(lambda: self.journal.last_seq - self._processed_seq)

    def health(self) -> dict[str, Any]:
        return {
            **self.stats,
            "queued": self._queued,
            "journal_seq": self.journal.last_seq,
            "checkpointed_seq": self.journal.checkpointed_seq,
            "lake_pending_rows": self.lake.pending_rows,
            "devices": len(self.engine.device_ids),
            "rules": len(self.engine.rules),
            "rule_state_bytes": self.engine.memory_bytes(),
            "watermark": self.engine.watermark,
        }


def get(platform: Platform) -> Pipeline | None:
    pipeline: Pipeline | None = platform.caches.get(CACHE_KEY)
    return pipeline
