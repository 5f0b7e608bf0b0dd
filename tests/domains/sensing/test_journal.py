"""The write-ahead journal: records survive a reopen, a torn tail is cut off, checkpoints drop old segments,
threads never lose or repeat a record, and corruption stops replay loudly."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from urbanbrain.domains.sensing.ingest.journal import MAGIC, Journal, JournalError


def records(n: int, start: int = 0, size: int = 100) -> list[bytes]:
    return [f"reading-{i:08d}-".encode().ljust(size, b"x") for i in range(start, start + n)]


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.wal"))


def test_records_come_back_in_order_with_their_sequence_numbers(tmp_path: Path) -> None:
    with Journal(tmp_path, fsync=False) as journal:
        assert journal.append(records(3)) == 3
        assert journal.append([b"", b"\x00" * 10]) == 5
        assert journal.append([]) == 5
        assert list(journal.replay()) == [
            (1, records(1)[0]),
            *zip([2, 3], records(2, 1), strict=True),
            (4, b""),
            (5, b"\0" * 10),
        ]


def test_sequence_numbers_continue_after_reopen(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        journal.append(records(10))
    with Journal(tmp_path) as journal:
        assert journal.last_seq == 10
        assert journal.append(records(5, 10)) == 15
        assert [seq for seq, _ in journal.replay()] == list(range(1, 16))


def test_a_second_journal_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    with Journal(tmp_path, fsync=False), pytest.raises(JournalError, match="another Journal"):
        Journal(tmp_path, fsync=False)


@pytest.mark.parametrize("damage", ["cut 3 bytes", "cut into the header", "append garbage", "append zeros"])
def test_a_torn_tail_is_dropped_and_appends_go_on(tmp_path: Path, damage: str, caplog) -> None:
    with Journal(tmp_path, fsync=False) as journal:
        journal.append(records(10))
    (segment,) = segments(tmp_path)
    size = segment.stat().st_size
    with open(segment, "r+b") as f:
        if damage == "cut 3 bytes":
            f.truncate(size - 3)
        elif damage == "cut into the header":
            f.truncate(size - 104)
        elif damage == "append garbage":
            f.seek(0, 2)
            f.write(b"\x17\x03garbage that is no frame")
        else:
            f.seek(0, 2)
            f.write(b"\0" * 4096)
    expected_last = 9 if damage.startswith("cut") else 10
    with caplog.at_level(logging.WARNING), Journal(tmp_path, fsync=False) as journal:
        assert journal.last_seq == expected_last
        assert "torn tail" in caplog.text
        assert journal.append([b"after the crash"]) == expected_last + 1
    with Journal(tmp_path, fsync=False) as journal:
        replayed = list(journal.replay())
    assert [seq for seq, _ in replayed] == list(range(1, expected_last + 2))
    assert replayed[-1] == (expected_last + 1, b"after the crash")
    assert replayed[:expected_last] == list(
        zip(range(1, expected_last + 1), records(expected_last), strict=True)
    )


def test_a_segment_torn_before_its_first_record_is_removed(tmp_path: Path) -> None:
    with Journal(tmp_path, fsync=False, segment_bytes=1000) as journal:
        journal.append(records(5))
    (tmp_path / f"{6:020d}.wal").write_bytes(MAGIC[:3])
    with Journal(tmp_path, fsync=False, segment_bytes=1000) as journal:
        assert journal.last_seq == 5
        assert journal.append(records(1, 5)) == 6
        assert [seq for seq, _ in journal.replay()] == list(range(1, 7))


def test_checkpoint_removes_old_segments_and_replay_starts_after_it(tmp_path: Path) -> None:
    with Journal(tmp_path, segment_bytes=2000) as journal:
        for start in range(0, 100, 10):
            journal.append(records(10, start))  # 1080 bytes of frames: one append per segment
        assert len(segments(tmp_path)) == 10
        journal.checkpoint(35)
        assert journal.checkpointed_seq == 35
        # Segments 1-10, 11-20, 21-30 are wholly processed; 31-40 still holds 36-40.
        assert [int(p.stem) for p in segments(tmp_path)] == [31, 41, 51, 61, 71, 81, 91]
        assert [seq for seq, _ in journal.replay()] == list(range(36, 101))
        journal.checkpoint(20)  # an older checkpoint changes nothing
        assert journal.checkpointed_seq == 35
        with pytest.raises(ValueError, match="last record is 100"):
            journal.checkpoint(101)
    with Journal(tmp_path) as journal:
        assert journal.checkpointed_seq == 35
        assert [seq for seq, rec in journal.replay()][:2] == [36, 37]
        journal.checkpoint(100)
        assert list(journal.replay()) == []
        assert [int(p.stem) for p in segments(tmp_path)] == [91]  # the active segment stays
    with Journal(tmp_path) as journal:
        assert (journal.last_seq, journal.checkpointed_seq, journal.pending_bytes) == (100, 100, 0)
        assert journal.append([b"next"]) == 101


def test_pending_bytes_is_the_backlog_after_the_checkpoint(tmp_path: Path) -> None:
    frame = 8 + 100
    with Journal(tmp_path, fsync=False, segment_bytes=5000) as journal:
        assert journal.pending_bytes == 0
        journal.append(records(30))
        journal.append(records(30, 30))
        assert journal.pending_bytes == 60 * frame
        journal.checkpoint(30)
        assert journal.pending_bytes == 30 * frame
    with Journal(tmp_path, fsync=False, segment_bytes=5000) as journal:
        assert journal.pending_bytes == 30 * frame
        journal.checkpoint(45)
        # Counted per append: the backlog found on open counts as one, so 46-60 still count as 31-60.
        assert journal.pending_bytes == 30 * frame
    with Journal(tmp_path, fsync=False, segment_bytes=5000) as journal:
        assert journal.pending_bytes == 15 * frame  # recounted from the files on open


def test_segments_roll_over_and_one_append_never_spans_two(tmp_path: Path) -> None:
    with Journal(tmp_path, segment_bytes=1000, fsync=False) as journal:
        for start in range(0, 60, 3):
            journal.append(records(3, start))  # 324 bytes: three appends fill a segment (8 + 972 bytes)
        journal.append(records(20, 60))  # larger than a segment: it gets one of its own
        assert journal.last_seq == 80
    assert [int(p.stem) for p in segments(tmp_path)] == [1, 10, 19, 28, 37, 46, 55, 61]
    sizes = [p.stat().st_size for p in segments(tmp_path)]
    assert sizes[:6] == [len(MAGIC) + 9 * 108] * 6
    assert sizes[-1] == len(MAGIC) + 20 * 108
    with Journal(tmp_path, segment_bytes=1000, fsync=False) as journal:
        assert [rec for _, rec in journal.replay()] == records(80)


def test_concurrent_appends_keep_every_record_exactly_once(tmp_path: Path) -> None:
    threads, batches, per_batch = 8, 50, 20
    seen: dict[int, list[int]] = {}
    with Journal(tmp_path, segment_bytes=64 * 1024, fsync=False) as journal:

        def writer(t: int) -> None:
            for b in range(batches):
                last = journal.append([f"{t}:{b}:{i}".encode() for i in range(per_batch)])
                seen.setdefault(t, []).append(last)

        workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        total = threads * batches * per_batch
        assert journal.last_seq == total
    with Journal(tmp_path, fsync=False) as journal:
        replayed = list(journal.replay())
    assert [seq for seq, _ in replayed] == list(range(1, total + 1))
    assert len({rec for _, rec in replayed}) == total
    # The records of one append are consecutive and end at the number append returned.
    by_record = {rec: seq for seq, rec in replayed}
    for t, lasts in seen.items():
        for b, last in enumerate(lasts):
            assert [by_record[f"{t}:{b}:{i}".encode()] for i in range(per_batch)] == list(
                range(last - per_batch + 1, last + 1)
            )


def test_a_corrupt_record_stops_replay_of_its_segment_loudly(tmp_path: Path, caplog) -> None:
    with Journal(tmp_path, fsync=False, segment_bytes=2000) as journal:
        journal.append(records(10))  # segment 1: records 1-10
        journal.append(records(10, 10))  # segment 11: records 11-20
    first = segments(tmp_path)[0]
    data = bytearray(first.read_bytes())
    data[len(MAGIC) + 4 * 108 + 8 + 50] ^= 0x01  # one bit of record 5's payload
    first.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING), Journal(tmp_path, fsync=False) as journal:
        assert journal.last_seq == 20
        replayed = [seq for seq, _ in journal.replay()]
    assert replayed == [1, 2, 3, 4, *range(11, 21)]
    assert "record 5 at byte" in caplog.text and "records 5..10 of this segment are skipped" in caplog.text


def test_corruption_in_the_last_segment_keeps_its_numbers_and_opens_a_new_segment(
    tmp_path: Path, caplog
) -> None:
    with Journal(tmp_path, fsync=False) as journal:
        journal.append(records(10))
    (segment,) = segments(tmp_path)
    data = bytearray(segment.read_bytes())
    data[len(MAGIC) + 2 * 108 + 4] ^= 0xFF  # the CRC of record 3
    segment.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING), Journal(tmp_path, fsync=False) as journal:
        assert "record 3 is corrupt" in caplog.text
        assert journal.last_seq == 10  # 4-10 were acknowledged: their numbers are not handed out again
        assert journal.append([b"eleven"]) == 11
        assert [seq for seq, _ in journal.replay()] == [1, 2, 11]
    assert [int(p.stem) for p in segments(tmp_path)] == [1, 11]
    assert segment.stat().st_size == len(data)  # the damaged segment is kept as it is, for inspection


def test_a_lost_tail_that_was_checkpointed_does_not_reuse_its_numbers(tmp_path: Path, caplog) -> None:
    with Journal(tmp_path, fsync=False) as journal:
        journal.append(records(10))
        journal.checkpoint(10)
    (segment,) = segments(tmp_path)
    with open(segment, "r+b") as f:
        f.truncate(len(MAGIC) + 5 * 108)  # without fsync, a power cut can take written, processed records
    with caplog.at_level(logging.WARNING), Journal(tmp_path, fsync=False) as journal:
        assert journal.last_seq == 10
        assert journal.append([b"eleven"]) == 11
        assert list(journal.replay()) == [(11, b"eleven")]
    assert "records 6..10 are missing but checkpointed" in caplog.text
    with Journal(tmp_path, fsync=False) as journal:
        assert list(journal.replay()) == [(11, b"eleven")]


def test_an_unreadable_checkpoint_file_replays_everything(tmp_path: Path, caplog) -> None:
    with Journal(tmp_path, fsync=False) as journal:
        journal.append(records(5))
        journal.checkpoint(3)
    (tmp_path / "checkpoint").write_text("")
    with caplog.at_level(logging.WARNING), Journal(tmp_path, fsync=False) as journal:
        assert journal.checkpointed_seq == 0
        assert [seq for seq, _ in journal.replay()] == [1, 2, 3, 4, 5]
    assert "checkpoint file unreadable" in caplog.text


def test_a_closed_journal_refuses_appends(tmp_path: Path) -> None:
    journal = Journal(tmp_path, fsync=False)
    journal.close()
    with pytest.raises(JournalError, match="closed"):
        journal.append([b"late"])
    Journal(tmp_path, fsync=False).close()  # the directory lock was released


def test_remembered_message_ids_survive_a_restart_in_every_state_format():
    """The ids and their devices' newest times are saved in pieces (so saving a million does not hold up
    the alarms); state files written before the times were kept still load."""
    import msgspec

    from urbanbrain.domains.sensing.ingest.dedupe import SEPARATOR, Seen, Verdict

    now = 1_700_000_000.0
    seen = Seen(chunk=10_000)
    for i in range(30_000 + 7):  # sealed chunks and a partial one
        assert seen.check(f"D{i % 50}", f"m{i}", now + i * 0.001) is Verdict.NEW
    saved = Seen.encode(seen.snapshot(excluding=[("D3", "m3")]))  # m3 was not journaled: to be taken again
    again = Seen.load(saved)
    assert len(again) == len(seen) - 1 and again.newest == seen.newest
    last = 30_000 + 6
    assert again.check(f"D{last % 50}", f"m{last}", now) is Verdict.REPEAT
    assert again.check("D3", "m3", now + 3 * 0.001) is Verdict.NEW
    assert again.check("D4", "late", now - 120) is Verdict.TOO_LATE  # D4's newest came back too
    ids = [f"D{i % 50}{SEPARATOR}m{i}" for i in range(30_007)]
    for older in (
        msgspec.msgpack.encode([ids[:10], ids[10:]]),
        msgspec.msgpack.encode({"chunked": [[msgspec.msgpack.encode(ids)], []]}),
    ):
        loaded = Seen.load(older)
        assert len(loaded) == len(seen) and loaded.holds("D7", "m7") and not loaded.holds("D7", "m8")
