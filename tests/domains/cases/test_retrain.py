"""Learning from dispatchers: their decisions are examples, and a retrained model serves only if better.

The held evaluation set is a small stand-in here (reports of this file's own, never in the corpus) so the
test runs fast; what is checked is the rule: a better candidate is promoted, kept as a version, audited
and served at once; a worse one is kept as a version and never served."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from tests.domains.cases.conftest import SHUIWEI
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.models import AuditEntry
from urbanbrain.domains.cases import actions
from urbanbrain.domains.cases.classify import retrain
from urbanbrain.domains.cases.classify.corpus import minors_and_departments
from urbanbrain.domains.cases.classify.numerics import FitConfig
from urbanbrain.domains.cases.classify.train import Sample, TrainConfig, fit
from urbanbrain.domains.cases.models import ClassifierVersion
from urbanbrain.domains.cases.schemas import CaseReport, TransitionRequest

HELD = [
    {"text": "小区门口的路灯连着三个晚上都不亮了", "department": "roads_facilities"},
    {"text": "老板拖欠我们六个人两个月的工资，电话也不接", "department": "human_resources"},
    {"text": "楼上卫生间漏水，我家天花板都泡烂了，物业不管", "department": "housing_construction"},
    {"text": "菜市场那个卖猪肉的秤有问题，一斤少了二两", "department": "market_supervision"},
]


def _weak(samples: list[Sample], minors: list[str], departments: dict[str, str]):
    """A model that knows almost nothing (two classes' worth of examples): what a bad retraining yields."""
    few = [s for s in samples if s.minor in ("C0201", "C0101")][:20]
    model = fit(few, minors, departments, TrainConfig(min_df=1))
    model.meta["threshold"] = 0.5
    return model


def _strong(samples: list[Sample], minors: list[str], departments: dict[str, str]):
    """A real fit on the corpus of the departments the held reports are for (a subset, to keep it quick)."""
    wanted = {h["department"] for h in HELD}
    some = [s for s in samples if departments.get(s.minor or "") in wanted]
    quick = FitConfig(epochs=6, learning_rate=0.1)
    model = fit(some, minors, departments, TrainConfig(minor=quick, kind=quick, emergency=quick))
    model.meta["threshold"] = 0.2
    return model


def test_a_dispatcher_decision_becomes_an_example(seeded):
    with seeded.db.session() as session:
        case = actions.do_report_case(
            session, seeded, SYSTEM, CaseReport(description="嗯嗯那个事情", lon=SHUIWEI[0], lat=SHUIWEI[1])
        )
        assert case.triage_reason == "low_confidence"
        human = replace(SYSTEM, kind="user", name="dispatcher-wang")
        actions.apply_transition(
            session, seeded, human, case, "register", TransitionRequest(category_code="E4501")
        )
    with seeded.db.session() as session:
        assert ("嗯嗯那个事情", "E4501") in retrain.corrections(session)


def test_retraining_promotes_only_a_better_model(seeded):
    minors, departments = minors_and_departments()
    with seeded.db.session() as session:
        first = retrain.retrain(session, seeded, SYSTEM, HELD, train_fn=_weak)
    # The shipped model is far better than one knowing two classes: kept, not served.
    assert not first.promoted and "not more accurate" in first.reason
    assert retrain.current(seeded).version != first.version
    retrain.activate(seeded, first.version)  # an operator forces the weak one in, to have one to beat
    assert retrain.current(seeded).version == first.version
    with seeded.db.session() as session:
        second = retrain.retrain(session, seeded, SYSTEM, HELD, train_fn=_strong)
    assert second.promoted, second.reason
    assert second.scores["candidate"]["department_accuracy"] > second.scores["active"]["department_accuracy"]
    retrain.activate(seeded, second.version)
    assert retrain.current(seeded).version == second.version
    with seeded.db.session() as session:
        rows = session.scalars(select(ClassifierVersion).order_by(ClassifierVersion.id)).all()
        assert [(r.version, r.promoted, r.active) for r in rows] == [
            (first.version, False, False),
            (second.version, True, True),
        ]
        actions_logged = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_type == "classifier_version")
        ).all()
        assert actions_logged == ["cases.classifier.keep", "cases.classifier.promote"]


def test_the_held_set_is_read_without_the_labels_beside_it():
    """`classify retrain --eval DIR` scores on the reports of DIR; remit_labels.jsonl there is no report file."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[3] / "benchmarks" / "data" / "dispatch_eval"
    assert (folder / "remit_labels.jsonl").exists()
    rows = retrain.load_eval(folder)
    assert len(rows) == 270 and all(r["text"] and r["department"] for r in rows)
