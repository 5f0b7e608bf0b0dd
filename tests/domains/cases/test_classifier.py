"""The dispatch classifier: its corpus, the shipped model's calibration, triage of nonsense, and persistence.

How well it does on reports written apart from its training is ``benchmarks/classify_bench.py``'s to print
(on the held evaluation set); here the checks a user relies on: what is sent automatically was measured
to be right 95% of the time on writers the model did not learn from, nonsense waits for a dispatcher, the
class always belongs to the department it is sent to, and a saved model predicts exactly what it did.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from urbanbrain.domains.cases.classify import Classifier, Prediction, load_default
from urbanbrain.domains.cases.classify.corpus import load_corpus, minors_and_departments, writer_files
from urbanbrain.domains.cases.classify.model import KINDS, OUT_OF_SCOPE, TARGET_PRECISION
from urbanbrain.domains.cases.classify.train import Sample, TrainConfig, fit
from urbanbrain.domains.cases.taxonomy import load as taxonomy


@pytest.fixture(scope="module")
def model() -> Classifier:
    return load_default()


def test_the_corpus_is_many_voices_over_every_class():
    minors = set(taxonomy().minors)
    per_class: dict[str, set[str]] = defaultdict(set)
    count: Counter[str] = Counter()
    files = writer_files()
    assert len(files) >= 6  # six writers or more, each a fold of the calibration
    for path in files:
        for line in path.read_text("utf-8").splitlines():
            row = json.loads(line)
            assert row["minor"] in minors or row["minor"] == OUT_OF_SCOPE, row
            assert row["kind"] in KINDS and isinstance(row["emergency"], bool), row
            per_class[row["minor"]].add(path.stem)
            count[row["minor"]] += 1
    for code in minors:
        assert len(per_class[code]) >= 3, code  # no class learnt from one voice only
        assert count[code] >= 15, code
    texts = [s.text for s in load_corpus()]
    assert len(set(texts)) >= 0.98 * len(texts)  # not a template filled again and again


def test_the_shipped_model_was_calibrated_on_writers_it_did_not_see(model: Classifier):
    report = model.meta["out_of_writer"]
    assert len(report["writers"]) >= 6
    assert report["auto_precision"] >= TARGET_PRECISION
    assert 0.0 < model.threshold < 1.0
    assert report["emergency_recall"] >= 0.9  # a missed emergency costs more than a false alarm
    assert set(model.labels) == set(taxonomy().minors) | {OUT_OF_SCOPE}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "123456",
        "!!!???",
        "😀😀😀",
        "ＡＢＣ１２３",
        "的的的的的",
        "你好",
        "测试一下",
        "今天天气不错，我们去吃饭吧",
    ],
)
def test_nonsense_empty_and_off_topic_text_waits_for_a_dispatcher(model: Classifier, text: str):
    prediction = model.predict(text)
    assert prediction.needs_triage, prediction
    assert not prediction.emergency


def test_the_class_belongs_to_the_department_it_is_sent_to(model: Classifier):
    texts = [
        "福华路的路灯不亮",
        "社保断缴了怎么补",
        "楼上漏水到我家",
        "诊所的针头好像重复用",
        "",
        "隔壁装修天天吵",
    ]
    departments = minors_and_departments()[1]
    for p in model.predict_many(texts):
        assert isinstance(p, Prediction)
        assert departments[p.label] == p.department
        assert 0.0 <= p.department_confidence <= 1.0 + 1e-6 and 0.0 <= p.confidence <= 1.0 + 1e-6
        assert p.kind in KINDS
        assert [c for _, c in p.top] == sorted((c for _, c in p.top), reverse=True)
        assert OUT_OF_SCOPE not in [label for label, _ in p.top[:1]] or p.needs_triage
    assert model.predict_many([]) == []


def test_a_saved_model_predicts_what_it_did(tmp_path: Path, model: Classifier):
    model.save(tmp_path / "m.npz")
    again = Classifier.load(tmp_path / "m.npz")
    texts = ["水围村口井盖不见了", "我妈八十岁了高龄津贴怎么领", "楼下着火了快来人"]
    assert again.predict_many(texts) == model.predict_many(texts)
    with pytest.raises(ValueError):
        (tmp_path / "m.json").write_text(json.dumps({"format": 1}))
        Classifier.load(tmp_path / "m.npz")


def test_training_learns_from_what_it_is_given():
    """A model fitted on two classes' examples tells them apart on new words (the training code works)."""
    samples = [
        Sample(t, "C0201", "report", False, "a")
        for t in ("路灯不亮", "灯坏了很黑", "路灯一闪一闪", "这条路晚上没灯")
    ]
    samples += [
        Sample(t, "E4101", "complaint", False, "a")
        for t in ("老板欠工资", "工资拖了三个月", "包工头跑了没发钱", "欠薪不给")
    ]
    small = fit(
        samples,
        ["C0201", "E4101"],
        {"C0201": "roads_facilities", "E4101": "human_resources"},
        TrainConfig(min_df=1),
    )
    assert small.predict("我们的工资老板一直拖着不发").department == "human_resources"
    assert small.predict("门口路灯坏了好几天").department == "roads_facilities"


def test_the_batch_features_are_the_features_one_text_at_a_time(model: Classifier):
    """The numpy gram lookup (what intake uses) makes the TF-IDF rows the training's dict lookup makes."""
    from urbanbrain.domains.cases.classify.features import features
    from urbanbrain.domains.cases.classify.numerics import vectorize_features

    texts = [s.text for s in load_corpus()[::40]]
    texts += [
        "",
        "   ",
        "WiFi密码?？!!ｗｉｆｉ",
        "x\x00中文",
        "冇嘢呀佢哋",
        "😀火灾😀了",
        "3号楼2单元",
        "abc",
    ]
    indptr, cols, vals = model.vectorize(texts)
    want_ptr, want_cols, want_vals = vectorize_features((features(t) for t in texts), model.vocab, model.idf)
    assert indptr.tolist() == want_ptr.tolist()
    for i in range(len(texts)):
        a, b = indptr[i], indptr[i + 1]
        got = dict(zip(cols[a:b].tolist(), vals[a:b].tolist(), strict=True))
        want = dict(zip(want_cols[a:b].tolist(), want_vals[a:b].tolist(), strict=True))
        assert got.keys() == want.keys(), texts[i]
        assert all(abs(got[j] - want[j]) < 1e-6 for j in got), texts[i]


def test_the_shipped_model_is_small(model: Classifier):
    """The model ships inside the package: its files stay a few megabytes (the wide heads are stored sparse)."""
    from urbanbrain.domains.cases.classify.model import DEFAULT_MODEL_PATH

    assert DEFAULT_MODEL_PATH.stat().st_size < 5_000_000
    assert DEFAULT_MODEL_PATH.with_suffix(".json").stat().st_size < 5_000_000


def test_saving_keeps_every_head_whatever_the_size_of_its_weights(tmp_path: Path):
    """Eight bits and a scale per feature keep a head of tiny weights too (float16 scales once rounded
    naive Bayes' 1e-5 weights to nothing), and a saved model saved again loses nothing more."""
    import numpy as np

    from urbanbrain.domains.cases.classify.model import KEEP_SHARE, Head

    samples = [Sample(t, "C0201", "report", False, "a") for t in ("路灯不亮", "灯坏了很黑", "路灯一闪一闪")]
    samples += [Sample(t, "E4101", "complaint", False, "a") for t in ("老板欠工资", "工资拖了三个月", "欠薪")]
    small = fit(
        samples,
        ["C0201", "E4101"],
        {"C0201": "roads_facilities", "E4101": "human_resources"},
        TrainConfig(min_df=1),
    )
    kind = small.heads["kind"]
    small.heads["kind"] = Head(kind.labels, kind.weights * 1e-6, kind.bias, kind.temperature)
    small.save(tmp_path / "m.npz")
    again = Classifier.load(tmp_path / "m.npz")
    for name, head in small.heads.items():
        if name in KEEP_SHARE:  # the wide heads keep only their largest weights, by design
            continue
        w = head.weights - np.median(head.weights, axis=1, keepdims=True)  # stored centred: same softmax
        got = again.heads[name].weights - np.median(again.heads[name].weights, axis=1, keepdims=True)
        assert np.abs(got - w).max() <= 0.01 * np.abs(w).max(), name
    again.save(tmp_path / "m2.npz")
    twice = Classifier.load(tmp_path / "m2.npz")
    for name, head in again.heads.items():
        assert np.array_equal(np.count_nonzero(twice.heads[name].weights), np.count_nonzero(head.weights))
        assert np.allclose(
            twice.heads[name].weights - head.weights, (twice.heads[name].weights - head.weights)[:, :1]
        )
