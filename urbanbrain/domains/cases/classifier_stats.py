"""How the classifier does in service, day by day, as dispatchers correct it (for the command centre).

A report the classifier sent on its own (dispatched by the automatic dispatcher) and that a department then
returned as not its own, or a dispatcher reassigned or filed under another class, was wrong; one a person
had to classify was unsure (triage). The share of automatic dispatches nobody corrected is the accuracy the
centre watches fall or rise, beside the versions that were trained and which one serves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from urbanbrain.domains.cases.classify.retrain import AUTOMATIC
from urbanbrain.domains.cases.lifecycle import RECLASSIFY
from urbanbrain.domains.cases.models import Case, CaseHistory, ClassifierVersion

CORRECTIONS = ("return", "reassign", RECLASSIFY)


def daily(session: Session, now: datetime, days: int, utc_offset_hours: int) -> list[dict[str, Any]]:
    """One row per local day of the last ``days``: reports classified, sent alone, corrected, triaged."""
    since = now - timedelta(days=days)
    cases = session.execute(
        select(Case.id, Case.reported_at).where(Case.classified_as.is_not(None), Case.reported_at >= since)
    ).all()
    ids = [c.id for c in cases]
    auto: set[int] = set()
    corrected: set[int] = set()
    for start in range(0, len(ids), 5000):  # bounded IN lists
        chunk = ids[start : start + 5000]
        for case_id, transition, actor in session.execute(
            select(CaseHistory.case_id, CaseHistory.transition, CaseHistory.actor).where(
                CaseHistory.case_id.in_(chunk),
                CaseHistory.transition.in_(("dispatch", "answer", *CORRECTIONS)),
            )
        ):
            if transition in ("dispatch", "answer") and actor == AUTOMATIC:
                auto.add(case_id)
            elif transition in CORRECTIONS and actor != AUTOMATIC:
                corrected.add(case_id)
    rows: dict[str, dict[str, int]] = {}
    shift = timedelta(hours=utc_offset_hours)
    for c in cases:
        day = (c.reported_at + shift).date().isoformat()
        row = rows.setdefault(day, {"classified": 0, "sent_alone": 0, "corrected": 0, "triaged": 0})
        row["classified"] += 1
        if c.id in auto:
            row["sent_alone"] += 1
            row["corrected"] += c.id in corrected
        else:
            row["triaged"] += 1
    return [
        {
            "day": day,
            **r,
            "accuracy": (r["sent_alone"] - r["corrected"]) / r["sent_alone"] if r["sent_alone"] else None,
        }
        for day, r in sorted(rows.items())
    ]


def versions(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "version": v.version,
            "created_at": v.created_at,
            "created_by": v.created_by,
            "n_corrections": v.n_corrections,
            "scores": v.scores,
            "promoted": v.promoted,
            "active": v.active,
            "reason": v.reason,
        }
        for v in session.scalars(select(ClassifierVersion).order_by(ClassifierVersion.id))
    ]
