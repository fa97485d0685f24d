"""The mitdb-aami scorecard: up to seven arms on identical splits, record-level bootstrap CIs, honest gains.

Arms (``heartbert finetune --task mitdb-aami`` runs those it can):

* ``features`` (a): RR + morphology features, class-weighted logistic regression
  (:mod:`heartbert_hf.baselines`);
* ``random`` (b): a randomly initialised HeartBert of the pretrained model's shape;
* ``pretrained`` (c): the pretrained encoder;
* ``pretrained+rhythm`` (d): the pretrained encoder with the RR features fused into its head;
* ``random+rhythm`` (e): the random-init encoder with the same RR features: the control that says
  what pretraining adds once the head has the rhythm ((d) vs (e));
* ``pretrained+context`` (f) / ``random+context`` (g): beats read in their record's context with the
  normalised RR features (:mod:`heartbert_hf.context_arms`), pretrained / random-init encoder.

Uncertainty: beats of one record are not independent, so the 95 % intervals come from a
**record-level bootstrap** (Efron & Tibshirani 1993): records are resampled with replacement and
the metrics recomputed on the pooled confusion matrix of the resample (percentile interval). A
difference between two arms uses a **paired** bootstrap: the same record resamples score both arms.

A gain is claimed only when both arms are non-degenerate (κ ≥ 0.05 and more than one predicted
class, see :func:`heartbert_hf.metrics.confusion_metrics`) and the 95 % interval of the difference
excludes 0; otherwise the report says why not.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np

from .metrics import confusion_metrics

ARMS = ("features", "random", "pretrained", "pretrained+rhythm", "random+rhythm", "pretrained+context", "random+context")
ARM_TITLES = {
    "features": "(a) RR + morphology, logistic regression",
    "random": "(b) random-init encoder",
    "pretrained": "(c) pretrained encoder",
    "pretrained+rhythm": "(d) pretrained encoder + rhythm",
    "random+rhythm": "(e) random-init encoder + rhythm",
    "pretrained+context": "(f) pretrained encoder, record context + rhythm",
    "random+context": "(g) random-init encoder, record context + rhythm",
}
COMPARISONS = (
    ("pretrained", "random", "pretraining: (c) vs (b)"),
    ("pretrained+rhythm", "features", "HeartBert vs classical: (d) vs (a)"),
    ("pretrained+rhythm", "pretrained", "rhythm input: (d) vs (c)"),
    ("pretrained+rhythm", "random+rhythm", "pretraining under rhythm: (d) vs (e)"),
    ("pretrained+context", "random+context", "pretraining in record context: (f) vs (g)"),
    ("pretrained+context", "features", "record-context HeartBert vs classical: (f) vs (a)"),
    ("pretrained+context", "pretrained+rhythm", "record context vs the beat's own window: (f) vs (d)"),
)
CI_METRICS = ("accuracy", "macro_f1", "cohen_kappa", "j_index", "jk_index")
N_BOOTSTRAP = 1000


def record_confusions(y_true, y_pred, records, records_order: Sequence[str], n_classes: int) -> np.ndarray:
    """Per-record confusion matrices ``(n_records, classes, classes)`` in ``records_order``."""
    y_true, y_pred, records = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64), np.asarray(records)
    out = np.zeros((len(records_order), n_classes, n_classes), dtype=np.int64)
    index = {r: i for i, r in enumerate(records_order)}
    np.add.at(out, (np.array([index[r] for r in records]), y_true, y_pred), 1)
    return out


def _resample_values(conf: np.ndarray, picks: np.ndarray, labels, report_classes, key: str) -> np.ndarray:
    values = []
    for pick in picks:
        m = confusion_metrics(conf[pick].sum(axis=0), labels, report_classes, detail=False)
        v = m.get(key)
        values.append(np.nan if v is None else v)
    return np.asarray(values, dtype=np.float64)


def _picks(n_records: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_records, size=(n_boot, n_records))


def _interval(values: np.ndarray) -> list[float] | None:
    values = values[np.isfinite(values)]
    return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))] if values.size else None


def scorecard(
    predictions: dict[str, tuple],
    labels: Sequence[str],
    report_classes: Sequence[str] | None = None,
    n_boot: int = N_BOOTSTRAP,
    seed: int = 0,
    comparisons: Sequence[tuple[str, str, str]] = COMPARISONS,
) -> dict:
    """Metrics, bootstrap CIs and paired comparisons of the arms.

    Args:
        predictions: arm → ``(y_true, y_pred, record_ids)``, each ``(n_beats,)``; every arm must
            score the same beats (identical splits), in any order.
        labels: class names (index = class id).
        report_classes: classes of the macro averages (default: all).
        n_boot: bootstrap resamples.
        seed: bootstrap seed (the same resamples serve every arm and every difference).
        comparisons: ``(arm a, arm b, title)`` differences ``a - b`` to report, where both arms ran
            (default: :data:`COMPARISONS`, the scorecard's).

    Returns:
        ``{"arms": {arm: metrics + "ci"}, "comparisons": [...], "records", "n_bootstrap",
        "absent_classes"}``.

    Raises:
        ValueError: arms that scored different beats (record counts or class counts differ).
    """
    if not predictions:
        raise ValueError("no arm to score.")
    records = sorted({str(r) for _, _, recs in predictions.values() for r in recs})
    confs, arms = {}, {}
    for arm, (y_true, y_pred, recs) in predictions.items():
        confs[arm] = record_confusions(y_true, y_pred, [str(r) for r in recs], records, len(labels))
    truth = {arm: conf.sum(axis=2) for arm, conf in confs.items()}
    first = next(iter(truth))
    for arm, t in truth.items():
        if not np.array_equal(t, truth[first]):
            raise ValueError(f"arms {first!r} and {arm!r} scored different beats (per-record class counts differ): the scorecard needs identical splits.")
    picks = _picks(len(records), n_boot, seed)
    for arm, conf in confs.items():
        m = confusion_metrics(conf.sum(axis=0), labels, report_classes)
        m["ci"] = {k: _interval(_resample_values(conf, picks, labels, report_classes, k)) for k in CI_METRICS if m.get(k) is not None}
        arms[arm] = m
    compared = [compare(a, b, title, arms, confs, picks, labels, report_classes) for a, b, title in comparisons if a in arms and b in arms]
    absent = arms[first]["absent_classes"]
    return {"arms": arms, "comparisons": compared, "records": records, "n_bootstrap": n_boot, "absent_classes": absent}


def compare(a: str, b: str, title: str, arms: dict, confs: dict, picks: np.ndarray, labels, report_classes) -> dict:
    """Paired record-bootstrap difference ``a - b`` of macro-F1 and jκ, and whether a gain is claimed."""
    out = {"arms": [a, b], "title": title, "metrics": {}}
    for key in ("macro_f1", "jk_index"):
        if arms[a].get(key) is None or arms[b].get(key) is None:
            continue
        diff = _resample_values(confs[a], picks, labels, report_classes, key) - _resample_values(confs[b], picks, labels, report_classes, key)
        out["metrics"][key] = {"difference": float(arms[a][key] - arms[b][key]), "ci": _interval(diff)}
    out["claim"] = gain_claim(a, b, arms, out["metrics"].get("macro_f1"))
    return out


def gain_claim(a: str, b: str, arms: dict, macro_f1_diff: dict | None) -> str:
    """One sentence: whether ``a`` is better than ``b`` on macro-F1, and why not when it is not claimed."""
    degenerate = [arm for arm in (a, b) if arms[arm]["degenerate"]]
    if macro_f1_diff is None or macro_f1_diff["ci"] is None:
        return "no gain claimed: macro-F1 undefined"
    lo, hi = macro_f1_diff["ci"]
    d = macro_f1_diff["difference"]
    if degenerate:
        why = ", ".join(f"{arm} (κ {arms[arm]['cohen_kappa']:.3f}, predicts {arms[arm]['predicted_classes']})" for arm in degenerate)
        return f"no gain claimed: degenerate arm(s) {why}; macro-F1 {d:+.3f} (95% CI {lo:+.3f} to {hi:+.3f}) for the record"
    if lo > 0:
        return f"{a} better than {b}: macro-F1 {d:+.3f} (95% CI {lo:+.3f} to {hi:+.3f})"
    if hi < 0:
        return f"{a} worse than {b}: macro-F1 {d:+.3f} (95% CI {lo:+.3f} to {hi:+.3f})"
    return f"no gain claimed: macro-F1 {d:+.3f}, 95% CI {lo:+.3f} to {hi:+.3f} includes 0"


def _fmt(m: dict, key: str) -> str:
    v = m.get(key)
    if v is None:
        return "n/a"
    ci = (m.get("ci") or {}).get(key)
    return f"{v:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{v:.3f}"


def format_table(card: dict, notes: Sequence[str] = ()) -> str:
    """The scorecard as a Markdown table (95 % record-bootstrap CIs in brackets) plus the comparisons."""
    rows = [
        "| arm | macro-F1 | accuracy | κ | j-index | jκ | Se S | +P S | Se V | +P V | F1 F |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for arm in [a for a in ARMS if a in card["arms"]] + [a for a in card["arms"] if a not in ARMS]:  # extra arms: by name, after the scorecard's
        m = card["arms"][arm]
        pc = m["per_class"]
        flag = " (degenerate)" if m["degenerate"] else ""
        cells = [_fmt(m, k) for k in ("macro_f1", "accuracy", "cohen_kappa", "j_index", "jk_index")]
        per = [f"{pc[c][k]:.3f}" if c in pc else "n/a" for c, k in (("S", "sensitivity"), ("S", "ppv"), ("V", "sensitivity"), ("V", "ppv"), ("F", "f1"))]
        rows.append(f"| {ARM_TITLES.get(arm, arm)}{flag} | " + " | ".join(cells + per) + " |")
    lines = ["\n".join(rows), ""]
    for c in card["comparisons"]:
        lines.append(f"- {c['title']}: {c['claim']}")
    if card.get("absent_classes"):
        lines.append(f"- classes absent from the scored beats, left out of the macro averages: {card['absent_classes']}")
    lines.append(f"- brackets: 95% CI, record-level bootstrap ({card['n_bootstrap']} resamples of {len(card['records'])} records)")
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines)


def plot_scorecard(card: dict, path, title: str = "mitdb-aami scorecard") -> None:
    """Bar chart of macro-F1 and jκ per arm with their 95 % bootstrap CIs (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = [a for a in ARMS if a in card["arms"]]
    fig, ax = plt.subplots(figsize=(max(7.5, 1.45 * len(arms)), 4.2))
    width = 0.38
    for j, key in enumerate(("macro_f1", "jk_index")):
        vals = [card["arms"][a].get(key) or 0.0 for a in arms]
        cis = [(card["arms"][a].get("ci") or {}).get(key) for a in arms]
        err = np.array([[v - c[0], c[1] - v] if c else [0, 0] for v, c in zip(vals, cis)]).T
        x = np.arange(len(arms)) + (j - 0.5) * width
        ax.bar(x, vals, width, yerr=err, capsize=3, label={"macro_f1": "macro-F1 (N/S/V/F)", "jk_index": "jκ"}[key])
    ax.set_xticks(np.arange(len(arms)))
    ax.set_xticklabels([textwrap.fill(ARM_TITLES.get(a, a), 16) for a in arms], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("score (95% record-bootstrap CI)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
