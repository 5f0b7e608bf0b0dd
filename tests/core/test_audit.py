"""The audit chain records every write and detects edited and deleted rows, on both backends."""

import os
import subprocess
import sys

from sqlalchemy import select, text

from urbanbrain.core.audit import verify_chain
from urbanbrain.core.auth.actions import do_create_user
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.models import AuditEntry
from urbanbrain.domains.registry.actions import do_create_department, do_update_department
from urbanbrain.domains.registry.queries import get_department
from urbanbrain.domains.registry.schemas import DepartmentCreate, DepartmentUpdate


def _write_some(platform, n=5):
    with platform.db.session() as s:
        user = do_create_user(
            s, platform.clock, SYSTEM, username="steward", password="long enough pw", role="admin"
        )
    from urbanbrain.core.auth.actions import principal_for_user

    actor = principal_for_user(user)
    for i in range(n):
        with platform.db.session() as s:
            do_create_department(
                s,
                platform,
                actor,
                DepartmentCreate(code=f"dept-{i}", name=f"部门{i}", name_en=f"Dept {i}", kind="functional"),
            )
    with platform.db.session() as s:
        dept = get_department(s, f"dept-{n - 1}")
        do_update_department(s, platform, actor, dept, DepartmentUpdate(phone="0755-1234"))


def _verify(platform):
    with platform.db.session() as s:
        return verify_chain(s)


def test_every_write_is_audited_with_actor_before_and_after(platform):
    _write_some(platform)
    with platform.db.session() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [r.action for r in rows] == ["core.user.create"] + ["registry.department.create"] * 5 + [
        "registry.department.update"
    ]
    update = rows[-1]
    assert update.actor.startswith("user:steward")
    assert update.before["phone"] is None and update.after["phone"] == "0755-1234"
    assert update.after["version"] == 2
    assert rows[0].after["password_hash"] == "<protected>"
    assert _verify(platform) == (7, [])


def test_edited_row_is_detected(platform):
    _write_some(platform)
    with platform.db.engine.begin() as conn:
        conn.execute(text("UPDATE core_audit SET actor = 'user:someone-else' WHERE seq = 3"))
    count, problems = _verify(platform)
    assert [(p.seq, p.kind) for p in problems] == [(3, "edited")]


def test_deleted_row_in_the_middle_is_detected(platform):
    _write_some(platform)
    with platform.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM core_audit WHERE seq = 4"))
    _, problems = _verify(platform)
    kinds = {p.kind for p in problems}
    assert "missing" in kinds and "broken_link" in kinds


def test_deleted_newest_row_is_detected_against_the_head(platform):
    _write_some(platform)
    with platform.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM core_audit WHERE seq = 7"))
    _, problems = _verify(platform)
    assert [p.kind for p in problems] == ["head_mismatch"]


def test_audit_verify_command_exit_codes(platform, tmp_path):
    _write_some(platform, n=2)
    env = dict(os.environ, URBANBRAIN_DATABASE_URL=platform.db.url, URBANBRAIN_DATA_DIR=str(tmp_path / "cli"))
    cli = [sys.executable, "-m", "urbanbrain.cli", "audit", "verify"]
    ok = subprocess.run(cli, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact: 4 rows" in ok.stdout
    with platform.db.engine.begin() as conn:
        conn.execute(text("UPDATE core_audit SET after = NULL WHERE seq = 2"))
    bad = subprocess.run(cli, env=env, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "BROKEN" in bad.stdout and "seq 2: edited" in bad.stdout
