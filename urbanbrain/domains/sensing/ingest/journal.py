"""The write-ahead journal of the ingestion doors: a batch of readings is acknowledged to the device (HTTP 202,
MQTT PUBACK) once it is here, and processed afterwards; after a crash the records past the last checkpoint are
replayed.

**Layout.** Under ``directory``: segment files ``<first seq, 20 digits>.wal`` and the file ``checkpoint``.
A segment starts with the 8-byte ``MAGIC`` and holds frames ``<u32 length><u32 crc><payload>``, little-endian;
the CRC32 covers the payload and, through its seed, the length, so a header of zeros is never valid. Sequence
numbers are not stored: a record's number is its segment's first number plus its position. Segments roll over
before an append would take one past ``segment_bytes``; one append never spans two segments.

**Durability.** One :meth:`Journal.append` is one ``write`` and, with ``fsync``, one ``fdatasync`` (and a
directory fsync when it opened a new segment): callers group-commit by passing many records at once. A write
or fsync that fails leaves the journal unusable (every later call raises ``JournalError``): after a failed
fsync the kernel may have dropped the dirty pages, so nothing written since can be trusted.

**Recovery.** On open the last segment is scanned. A bad frame that is not followed by a good one is a torn
tail (the process died mid-write, or the disk kept only part of the last write); it is truncated away with a
warning and its records reuse their numbers, which is right because an append that did not finish was never
acknowledged. A torn append may keep some of its leading records: they are replayed (at-least-once; message
ids let consumers drop the repeat when the device resends).

**Corruption** (a bad frame followed by good ones: a flipped bit, not a torn write) is different: the journal
cannot tell a record damaged in place from framing that has gone astray, so :meth:`Journal.replay` stops
reading that segment at the bad record, logs the lost sequence numbers at ERROR, and goes on with the next
segment. Open still counts the frames after the bad one, so their numbers are never handed out again, and
starts a new segment for later appends.

**Threads.** Appends and checkpoints may come from any number of threads; records of one append are
consecutive. :meth:`Journal.replay` is meant for start-up, before new appends; it stops at the last record
that existed when it began. One ``Journal`` per directory: a second one fails on the directory's lock.
"""

from __future__ import annotations

import bisect
import fcntl
import logging
import os
import struct
import threading
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

logger = logging.getLogger(__name__)

MAGIC: Final = b"UBWAL\x00\x00\x01"
HEADER = struct.Struct("<II")
SEGMENT_SUFFIX = ".wal"
CHECKPOINT_NAME = "checkpoint"
LOCK_NAME = "LOCK"
MAX_RECORD_BYTES = 0xFFFF_FFFF
MAX_MARKS = 100_000
_CRC_SEED = 0xA5A5_A5A5  # mixed with the length: a frame of zeros then has a CRC that cannot be zero
_datasync = getattr(os, "fdatasync", os.fsync)


class JournalError(RuntimeError):
    """The journal cannot be used: its directory is locked by another journal, or a write or fsync failed."""


def _frame_crc(payload: bytes | memoryview, length: int) -> int:
    return zlib.crc32(payload, length ^ _CRC_SEED)


def _check_frame(data: bytes, pos: int) -> tuple[bool, int]:
    """Whether the frame at ``pos`` is whole and its CRC matches, and where it ends (-1: past the data)."""
    if pos + HEADER.size > len(data):
        return False, -1
    length, crc = HEADER.unpack_from(data, pos)
    end = pos + HEADER.size + length
    if end > len(data):
        return False, -1
    return _frame_crc(memoryview(data)[pos + HEADER.size : end], length) == crc, end


def _segment_name(first_seq: int) -> str:
    return f"{first_seq:020d}{SEGMENT_SUFFIX}"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """An append-only, checksummed, segmented log of opaque records with sequence numbers from 1."""

    def __init__(self, directory: Path, *, segment_bytes: int = 64 * 1024 * 1024, fsync: bool = True) -> None:
        if segment_bytes <= len(MAGIC):
            raise ValueError(f"segment_bytes must exceed {len(MAGIC)}, got {segment_bytes}")
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self._lock = threading.Lock()
        self._checkpoint_lock = threading.Lock()
        self._failed: str | None = None
        self._closed = False
        self._fd: int | None = None  # the active (last) segment, opened for appending
        self._active_size = 0
        self._seal = False  # the next append starts a new segment
        self._firsts: list[int] = []  # first sequence number of each segment on disk, ascending
        # (last seq, frame bytes after the checkpoint at open + appended since) per append; the first one is
        # the latest at or below the checkpoint, so pending_bytes is a subtraction
        self._marks: deque[tuple[int, int]] = deque()
        self._appended = 0
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise JournalError(f"the journal in {self.directory} is open in another Journal") from None
        try:
            self._open()
        except BaseException:
            os.close(self._lock_fd)
            raise

    # ------------------------------------------------------------------------------------------- opening

    def _open(self) -> None:
        (self.directory / (CHECKPOINT_NAME + ".tmp")).unlink(missing_ok=True)
        self._checkpointed = self._read_checkpoint()
        self._firsts = sorted(
            int(p.name[: -len(SEGMENT_SUFFIX)])
            for p in self.directory.glob("*" + SEGMENT_SUFFIX)
            if p.name[: -len(SEGMENT_SUFFIX)].isdigit()
        )
        self._last_seq = self._checkpointed
        if self._firsts:
            recovered = self._recover_last_segment()
            if recovered < self._checkpointed:
                # Only without fsync: records already processed were lost from the tail. Numbering goes on
                # after the checkpoint, in a new segment, so numbers on disk keep matching positions.
                logger.warning(
                    "journal %s: records %d..%d are missing but checkpointed; continuing after them",
                    self.directory,
                    recovered + 1,
                    self._checkpointed,
                )
                self._seal = True
            self._last_seq = max(self._last_seq, recovered)
        self._drop_checkpointed_segments()  # finishes a checkpoint that died before its deletions
        self._marks.append((self._checkpointed, 0))
        if self._last_seq > self._checkpointed:
            self._appended = self._bytes_after(self._checkpointed)
            self._marks.append((self._last_seq, self._appended))

    def _read_checkpoint(self) -> int:
        path = self.directory / CHECKPOINT_NAME
        try:
            text = path.read_text("ascii").strip()
        except FileNotFoundError:
            return 0
        if not text.isdigit():
            # Only possible without fsync: the rename reached the disk before the data. Replaying
            # everything is safe (at-least-once); losing records is not.
            logger.warning(
                "journal %s: checkpoint file unreadable (%r); replaying from the start", path, text
            )
            return 0
        return int(text)

    def _recover_last_segment(self) -> int:
        """Truncate a torn tail off the last segment, seal it if it is corrupt, and return the last seq."""
        first = self._firsts[-1]
        path = self.directory / _segment_name(first)
        data = path.read_bytes()
        if len(data) < len(MAGIC):
            # Died while creating the segment: it holds no record.
            logger.warning("journal %s: removing segment torn before its first record", path)
            path.unlink()
            self._firsts.pop()
            self._sync_dir()
            return first - 1
        if data[: len(MAGIC)] != MAGIC:
            raise JournalError(f"{path} is not a journal segment (bad magic {data[:8]!r})")
        pos, count, corrupt_at = len(MAGIC), 0, -1
        while pos < len(data):
            ok, end = _check_frame(data, pos)
            if ok:
                count, pos = count + 1, end
                continue
            # A bad frame: follow the lengths; a good frame further on means corruption, none a torn tail.
            bad, ahead = 0, pos
            while ahead < len(data):
                ok, end = _check_frame(data, ahead)
                if ok or end == -1:
                    break
                bad, ahead = bad + 1, end
            if not ok:
                break
            if corrupt_at < 0:
                corrupt_at = first + count
            count, pos = count + bad, ahead
        if pos < len(data):
            logger.warning(
                "journal %s: dropping a torn tail of %d bytes after record %d",
                path,
                len(data) - pos,
                first + count - 1,
            )
            with open(path, "r+b") as f:
                f.truncate(pos)
                if self.fsync:
                    _datasync(f.fileno())
        if corrupt_at >= 0:
            logger.error(
                "journal %s: record %d is corrupt (CRC mismatch) with good records after it; replay of this "
                "segment will stop there, new records go to a new segment",
                path,
                corrupt_at,
            )
            self._seal = True
        else:
            self._active_size = pos
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        return first + count - 1

    def _bytes_after(self, seq: int) -> int:
        """Bytes of the frames after ``seq`` on disk, walking the headers of the segment that holds it."""
        total = 0
        for i, first in enumerate(self._firsts):
            path = self.directory / _segment_name(first)
            last = self._firsts[i + 1] - 1 if i + 1 < len(self._firsts) else self._last_seq
            if last <= seq:
                continue
            size = path.stat().st_size
            if first > seq:
                total += size - len(MAGIC)
                continue
            with open(path, "rb") as f:
                data = f.read()
            pos, n = len(MAGIC), first
            while n <= seq and pos + HEADER.size <= len(data):
                pos += HEADER.size + HEADER.unpack_from(data, pos)[0]
                n += 1
            total += max(0, size - pos)
        return total

    # ------------------------------------------------------------------------------------------ appending

    def append(self, records: Sequence[bytes | bytearray | memoryview]) -> int:
        """Write ``records`` (one write, one fdatasync) and return the sequence number of the last one.

        Returns :attr:`last_seq` unchanged for an empty list. Raises ``ValueError`` for a record of 4 GiB or
        more and ``JournalError`` when the journal is closed or has failed.
        """
        if not records:
            return self.last_seq
        crc32, pack, seed = zlib.crc32, HEADER.pack, _CRC_SEED
        parts: list[bytes | bytearray | memoryview] = []
        add = parts.append
        for record in records:
            n = len(record)
            if n > MAX_RECORD_BYTES:
                raise ValueError(f"a journal record holds at most {MAX_RECORD_BYTES} bytes, got {n}")
            add(pack(n, crc32(record, n ^ seed)))
            add(record)
        buffer = b"".join(parts)
        with self._lock:
            self._check_usable()
            created = (
                self._fd is None
                or self._seal
                or (self._active_size > len(MAGIC) and self._active_size + len(buffer) > self.segment_bytes)
            )
            if created:
                self._start_segment()
                buffer = MAGIC + buffer
            assert self._fd is not None
            self._write(buffer, created)
            self._active_size += len(buffer)
            self._last_seq += len(records)
            self._appended += len(buffer) - (len(MAGIC) if created else 0)
            self._marks.append((self._last_seq, self._appended))
            if len(self._marks) > MAX_MARKS:
                # Never checkpointed for a long while: keep every other mark; pending_bytes only gets coarser.
                self._marks = deque([*list(self._marks)[:-1:2], self._marks[-1]])
            return self._last_seq

    def _start_segment(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        first = self._last_seq + 1
        if self._firsts and self._firsts[-1] == first:
            # The last segment holds no record (all of it was a torn tail or it was sealed empty).
            (self.directory / _segment_name(first)).unlink()
            self._firsts.pop()
        self._fd = os.open(
            self.directory / _segment_name(first), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o644
        )
        self._firsts.append(first)
        self._active_size = 0
        self._seal = False

    def _write(self, buffer: bytes, created: bool) -> None:
        assert self._fd is not None
        start = self._active_size
        try:
            view = memoryview(buffer)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            try:
                os.ftruncate(self._fd, start)  # leave no partial frame for the next append to follow
            except OSError:
                self._failed = f"write failed and the partial write could not be undone: {exc}"
                raise JournalError(self._failed) from exc
            raise
        if self.fsync:
            try:
                _datasync(self._fd)
                if created:
                    _fsync_dir(self.directory)
            except OSError as exc:
                self._failed = f"fsync failed: {exc}"
                raise JournalError(self._failed) from exc

    def _check_usable(self) -> None:
        if self._closed:
            raise JournalError(f"the journal in {self.directory} is closed")
        if self._failed:
            raise JournalError(f"the journal in {self.directory} has failed: {self._failed}")

    # ----------------------------------------------------------------------------------------- checkpoints

    def checkpoint(self, seq: int) -> None:
        """Record that everything up to ``seq`` is processed, durably, and delete segments wholly covered.

        A ``seq`` at or below the current checkpoint changes nothing; one past :attr:`last_seq` is a
        ``ValueError``.
        """
        with self._checkpoint_lock:
            self._check_usable()
            if seq > self.last_seq:
                raise ValueError(f"cannot checkpoint {seq}: the last record is {self.last_seq}")
            if seq <= self._checkpointed:
                return
            tmp = self.directory / (CHECKPOINT_NAME + ".tmp")
            with open(tmp, "w", encoding="ascii") as f:
                f.write(f"{seq}\n")
                f.flush()
                if self.fsync:
                    os.fsync(f.fileno())
            os.replace(tmp, self.directory / CHECKPOINT_NAME)
            self._sync_dir()
            with self._lock:
                self._checkpointed = seq
                while len(self._marks) > 1 and self._marks[1][0] <= seq:
                    self._marks.popleft()
                removed = self._drop_checkpointed_segments()
            if removed:
                self._sync_dir()

    def _drop_checkpointed_segments(self) -> int:
        """Delete segments whose records are all at or below the checkpoint, never the last one."""
        if not self._firsts:
            return 0
        keep_from = max(0, bisect.bisect_right(self._firsts, self._checkpointed + 1) - 1)
        keep_from = min(keep_from, len(self._firsts) - 1)
        for first in self._firsts[:keep_from]:
            (self.directory / _segment_name(first)).unlink(missing_ok=True)
        del self._firsts[:keep_from]
        return keep_from

    def _sync_dir(self) -> None:
        if self.fsync:
            _fsync_dir(self.directory)

    # -------------------------------------------------------------------------------------------- reading

    def replay(self) -> Iterator[tuple[int, bytes]]:
        """Yield ``(seq, record)`` for every record after the checkpoint, in order, up to :attr:`last_seq`
        as it was when replay began. A corrupt record ends its segment's replay (logged at ERROR)."""
        with self._lock:
            firsts = list(self._firsts)
            last = self._last_seq
            after = self._checkpointed
        for i, first in enumerate(firsts):
            seg_last = firsts[i + 1] - 1 if i + 1 < len(firsts) else last
            if seg_last <= after:
                continue
            path = self.directory / _segment_name(first)
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                if seg_last <= self._checkpointed:
                    continue  # checkpointed and deleted while we were reading
                raise
            if data[: len(MAGIC)] != MAGIC:
                raise JournalError(f"{path} is not a journal segment (bad magic {data[:8]!r})")
            pos, seq = len(MAGIC), first
            while seq <= seg_last:
                ok, end = _check_frame(data, pos)
                if not ok:
                    logger.error(
                        "journal %s: record %d at byte %d is %s; records %d..%d of this segment are skipped",
                        path,
                        seq,
                        pos,
                        "corrupt (CRC mismatch)" if end != -1 else "cut short",
                        seq,
                        seg_last,
                    )
                    break
                if seq > after:
                    yield seq, data[pos + HEADER.size : end]
                seq += 1
                pos = end

    # -------------------------------------------------------------------------------------------- state

    @property
    def last_seq(self) -> int:
        """Sequence number of the last record appended (0 when there has been none)."""
        return self._last_seq

    @property
    def checkpointed_seq(self) -> int:
        """The last checkpoint: every record up to it has been processed."""
        return self._checkpointed

    @property
    def pending_bytes(self) -> int:
        """Bytes of the frames after the checkpoint: the backlog. Counted per append: a checkpoint in the
        middle of an append's records leaves that whole append counted until the checkpoint passes it."""
        with self._lock:
            return self._appended - self._marks[0][1]

    def close(self) -> None:
        """Close the active segment and release the directory. Later calls raise ``JournalError``."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            os.close(self._lock_fd)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
