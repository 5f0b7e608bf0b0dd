"""Learning from dispatchers: their decisions become examples, and a retrained model serves only if better.

Every time a person decides what the classifier could not or got wrong (a triaged case registered with a
class, a case reassigned, returned and dispatched again, reclassified), the case's text and its final
class are a labelled example. ``urbanbrain classify retrain`` trains a new version on the corpus plus those
examples, scores it and the version in service on the held evaluation set (reports written apart from all
training data), and promotes it only when it sends more reports to the right department without a person
(triage counted as wrong) and keeps what it sends on its own at least as precise (or above the 95% floor).
Every version is kept (``<data_dir>/classifier/<version>/``) with its scores; a promotion is an audited
action, and the server picks the promoted version up within seconds.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from urbanbrain.core.actions import record
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.domains.cases.classify.model import TARGET_PRECISION, Classifier, load_default
from urbanbrain.domains.cases.lifecycle import RECLASSIFY
from urbanbrain.domains.cases.models import Case, CaseHistory, ClassifierVersion

PERSON_DECISIONS = ("register", "reassign", "dispatch", RECLASSIFY)
"""History transitions that, done by a person (not the automatic dispatcher), decide a case's class."""
AUTOMATIC = "system:dispatcher"
ACTIVE_FILE = "ACTIVE"
RECHECK_SECONDS = 10.0
_lock = threading.Lock()


def corrections(session: Session) -> list[tuple[str, str]]:
    """(text, class) of every case whose class or department a person decided, newest decision first."""
    decided = (
        select(CaseHistory.case_id)
        .where(CaseHistory.transition.in_(PERSON_DECISIONS), CaseHistory.actor != AUTOMATIC)
        .distinct()
    )
    rows = session.execute(
        select(Case.description, Case.category_code).where(
            Case.id.in_(decided), Case.category_code.is_not(None), Case.source != "sensor"
        )
    ).all()
    return [(r.description, r.category_code) for r in rows]


def versions_dir(platform: Platform) -> Path:
    return Path(platform.settings.data_dir) / "classifier"


def current(platform: Platform) -> Classifier:
    """The model in service: the promoted version of this installation, else the one shipped.

    Rechecked every few seconds, so a promotion made by ``urbanbrain classify retrain`` in another process
    reaches a running server without a restart."""
    now = time.monotonic()
    entry = platform.caches.get("cases.classifier")
    if entry is not None and now - entry[2] < RECHECK_SECONDS:
        return entry[0]  # type: ignore[no-any-return]
    with _lock:
        pointer = versions_dir(platform) / ACTIVE_FILE
        version = pointer.read_text().strip() if pointer.exists() else None
        if entry is not None and entry[1] == version:
            model = entry[0]
        elif version:
            model = Classifier.load(versions_dir(platform) / version / "model.npz")
        else:
            model = load_default()
        platform.caches["cases.classifier"] = (model, version, now)
    return model  # type: ignore[no-any-return]


def evaluate(model: Classifier, eval_rows: list[dict[str, Any]]) -> dict[str, float]:
    """Department accuracy (triage wrong), auto precision and triage rate on the held evaluation set."""
    preds = model.predict_many([r["text"] for r in eval_rows])
    right = [p.department == r["department"] for p, r in zip(preds, eval_rows, strict=True)]
    auto = [not p.needs_triage for p in preds]
    sent = [ok for ok, a in zip(right, auto, strict=True) if a]
    n = len(eval_rows)
    return {
        "department_accuracy": sum(ok and a for ok, a in zip(right, auto, strict=True)) / n,
        "auto_precision": sum(sent) / len(sent) if sent else 0.0,
        "triage_rate": 1 - sum(auto) / n,
        "n": n,
    }


def better(candidate: dict[str, float], active: dict[str, float]) -> tuple[bool, str]:
    """Whether the candidate should serve instead of the active model, and why (for the record)."""
    if candidate["department_accuracy"] <= active["department_accuracy"]:
        return False, (
            f"not more accurate: {candidate['department_accuracy']:.3f} vs {active['department_accuracy']:.3f}"
        )
    floor = min(active["auto_precision"], TARGET_PRECISION)
    if candidate["auto_precision"] < floor:
        return False, f"less precise on its own: {candidate['auto_precision']:.3f} < {floor:.3f}"
    return True, (
        f"department accuracy {active['department_accuracy']:.3f} -> {candidate['department_accuracy']:.3f}, "
        f"auto precision {candidate['auto_precision']:.3f}"
    )


def load_eval(folder: Path) -> list[dict[str, Any]]:
    """The reports of a held set's ``*.jsonl`` files (lines with a text and a department; a file of other
    labels beside them, such as ``remit_labels.jsonl``, is not a report file)."""
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        lines = (json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip())
        rows.extend(r for r in lines if "text" in r and "department" in r)
    return rows


@dataclass
class Outcome:
    version: str
    promoted: bool
    reason: str
    scores: dict[str, Any]
    n_corrections: int


def retrain(
    session: Session,
    platform: Platform,
    actor: Principal,
    eval_rows: list[dict[str, Any]],
    *,
    train_fn: Any = None,
) -> Outcome:
    """Train on corpus + corrections, score beside the active model, keep the version, promote if better."""
    from urbanbrain.domains.cases.classify.corpus import load_corpus, minors_and_departments
    from urbanbrain.domains.cases.classify.train import Sample, train

    fixes = corrections(session)
    samples = load_corpus() + [Sample(text=t, minor=c, writer="corrections") for t, c in fixes]
    minors, departments = minors_and_departments()
    model = (train_fn or train)(samples, minors, departments)
    now = platform.clock.now()
    earlier = session.scalar(select(func.count(ClassifierVersion.id))) or 0
    version = f"v{earlier + 1}-{now:%Y%m%dT%H%M%S}"
    model.meta.update(version=version, n_corrections=len(fixes))
    active = current(platform)
    scores = {"candidate": evaluate(model, eval_rows), "active": evaluate(active, eval_rows)}
    scores["active"]["version"] = active.version  # type: ignore[assignment]
    promoted, reason = better(scores["candidate"], scores["active"])
    folder = versions_dir(platform) / version
    model.save(folder / "model.npz")
    if promoted:
        session.execute(
            ClassifierVersion.__table__.update().values(active=False)  # type: ignore[attr-defined]
        )
    row = ClassifierVersion(
        version=version,
        created_at=now,
        created_by=actor.actor,
        n_corrections=len(fixes),
        scores=scores,
        promoted=promoted,
        active=promoted,
        reason=reason[:300],
    )
    session.add(row)
    record(
        session,
        platform.clock,
        actor,
        action="cases.classifier.promote" if promoted else "cases.classifier.keep",
        entity_type="classifier_version",
        entity_id=version,
        before={"version": active.version},
        after={"version": version if promoted else active.version, "reason": reason},
    )
    return Outcome(version, promoted, reason, scores, len(fixes))


def activate(platform: Platform, version: str) -> None:
    """Point the installation at ``version`` (after the promotion's transaction committed: a crash before
    this leaves the old version serving, never a version without its record)."""
    pointer = versions_dir(platform) / ACTIVE_FILE
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(version)
    tmp.replace(pointer)
    platform.caches.pop("cases.classifier", None)
