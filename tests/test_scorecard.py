"""heartbert_hf.scorecard and heartbert_hf.baselines: bootstrap CIs, honest gain claims, the features arm."""

from __future__ import annotations

import numpy as np
import pytest

LABELS = ["N", "S", "V", "F"]


def _arm(rng, y, records, accuracy):
    """Predictions that are right with probability ``accuracy``, else a random other class."""
    wrong = rng.random(len(y)) > accuracy
    pred = np.where(wrong, (y + rng.integers(1, 4, len(y))) % 4, y)
    return y, pred, records


def test_confusion_metrics_absent_class_and_ec57_v_ppv():
    from heartbert_hf.metrics import confusion_metrics

    cm = np.array([[8, 1, 1, 0], [1, 3, 0, 0], [0, 0, 4, 0], [0, 0, 0, 0]])  # no true F beat
    m = confusion_metrics(cm, LABELS)
    assert m["absent_classes"] == ["F"] and m["macro_f1_classes"] == ["N", "S", "V"]
    assert m["macro_f1"] == pytest.approx(np.mean([m["per_class"][c]["f1"] for c in "NSV"]))
    cm2 = np.array([[8, 0, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0], [0, 0, 2, 1]])  # two F beats labelled V
    m2 = confusion_metrics(cm2, LABELS)
    assert m2["per_class"]["V"]["ppv"] == pytest.approx(4 / 6) and m2["per_class"]["V"]["ppv_aami"] == 1.0
    assert m2["j_index"] == pytest.approx(1 + 1 + 1 + 1) and m2["jk_index"] == pytest.approx(m2["cohen_kappa"] / 2 + 0.5)
    one = confusion_metrics(np.array([[9, 0, 0, 0], [3, 0, 0, 0], [2, 0, 0, 0], [1, 0, 0, 0]]), LABELS)
    assert one["degenerate"] and one["cohen_kappa"] == 0.0 and one["predicted_classes"] == ["N"]


def test_scorecard_ci_contains_point_and_paired_gain_is_claimed_only_when_clear():
    from heartbert_hf.scorecard import format_table, scorecard

    rng = np.random.default_rng(0)
    records = np.repeat([f"r{i}" for i in range(20)], 60)
    y = rng.integers(0, 4, len(records))
    preds = {
        "features": _arm(rng, y, records, 0.6),
        "random": _arm(rng, y, records, 0.61),
        "pretrained": _arm(rng, y, records, 0.9),
        "pretrained+rhythm": _arm(rng, y, records, 0.6),
        "random+rhythm": _arm(rng, y, records, 0.95),
    }
    card = scorecard(preds, LABELS, n_boot=300)
    for m in card["arms"].values():
        lo, hi = m["ci"]["macro_f1"]
        assert lo <= m["macro_f1"] <= hi and hi - lo < 0.2
    claims = {tuple(c["arms"]): c["claim"] for c in card["comparisons"]}
    assert claims[("pretrained", "random")].startswith("pretrained better than random")
    assert claims[("pretrained+rhythm", "features")].startswith("no gain claimed") and "includes 0" in claims[("pretrained+rhythm", "features")]
    assert claims[("pretrained+rhythm", "pretrained")].startswith("pretrained+rhythm worse")
    assert claims[("pretrained+rhythm", "random+rhythm")].startswith("pretrained+rhythm worse than random+rhythm")  # (d) vs its control (e)
    table = format_table(card)
    assert (
        "(d) pretrained encoder + rhythm" in table
        and "(e) random-init encoder + rhythm" in table
        and "record-level bootstrap (300 resamples of 20 records)" in table
    )


def test_table_lists_extra_arms_after_the_scorecards_by_name():
    from heartbert_hf.scorecard import format_table, scorecard

    rng = np.random.default_rng(2)
    records = np.repeat([f"r{i}" for i in range(6)], 40)
    y = rng.integers(0, 4, len(records))
    card = scorecard({"rr-normalised": _arm(rng, y, records, 0.8), "features": _arm(rng, y, records, 0.7)}, LABELS, n_boot=50)
    rows = [line for line in format_table(card).splitlines() if line.startswith("| ") and "macro-F1" not in line]
    assert [r.split(" | ")[0] for r in rows] == ["| (a) RR + morphology, logistic regression", "| rr-normalised"]
    assert f"{card['arms']['rr-normalised']['macro_f1']:.3f}" in rows[1]


def test_scorecard_refuses_gain_from_degenerate_arm_and_different_beats():
    from heartbert_hf.scorecard import scorecard

    rng = np.random.default_rng(1)
    records = np.repeat(["a", "b", "c", "d"], 50)
    y = rng.integers(0, 4, len(records))
    only_f = (y, np.full(len(y), 3), records)  # predicts one class: κ = 0
    card = scorecard({"random": _arm(rng, y, records, 0.5), "pretrained": only_f}, LABELS, n_boot=100)
    assert card["comparisons"][0]["claim"].startswith("no gain claimed: degenerate arm(s) pretrained")
    with pytest.raises(ValueError, match="identical splits"):
        scorecard({"random": (y, y, records), "pretrained": (y[::-1], y, records)}, LABELS, n_boot=10)


def test_features_baseline_separates_premature_beats():
    import datasets

    from heartbert_hf.baselines import baseline_probs, beat_feature_matrix, fit_features_baseline
    from heartbert_hf.rhythm import RR_FEATURE_NAMES

    rng = np.random.default_rng(2)
    n, fs = 200, 360
    labels = rng.integers(0, 2, n)  # 0 = N, 1 = S (premature: short pre-RR, long post-RR)
    rr = np.ones((n, len(RR_FEATURE_NAMES)), dtype=np.float32)
    rr[:, 0] = np.where(labels == 1, 0.55, 1.0) + rng.normal(0, 0.05, n)
    beat = np.exp(-0.5 * ((np.arange(577) - 288) / 8.0) ** 2)
    signals = [[(beat + rng.normal(0, 0.05, 577)).tolist()] for _ in range(n)]
    ds = datasets.Dataset.from_dict({"signal": signals, "sampling_rate": [fs] * n, "rr_features": rr.tolist(), "labels": labels.tolist()})
    x = beat_feature_matrix(ds)
    assert x.shape == (n, len(RR_FEATURE_NAMES) + 42)  # 0.7 s of morphology at 60 Hz
    model = fit_features_baseline(x[:150], labels[:150], 4)
    probs = baseline_probs(model, x[150:])
    assert probs.shape == (50, 4) and np.allclose(probs[:, 2:], 0)  # V and F never seen in training
    assert (probs.argmax(axis=1) == labels[150:]).mean() > 0.95


@pytest.mark.parametrize(
    ("arms", "saved"),
    [
        (["features", "random", "pretrained", "pretrained+rhythm", "random+rhythm"], "pretrained+rhythm"),
        (["random", "random+rhythm"], "random+rhythm"),
        (["random", "pretrained"], "pretrained"),
        (["features"], None),
    ],
)
def test_saved_arm_prefers_the_pretrained_rhythm_model_whatever_the_order(arms, saved):
    from heartbert_hf.arms import saved_arm

    assert saved_arm(arms) == saved and saved_arm(list(reversed(arms))) == saved
