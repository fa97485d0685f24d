"""The linear-probe head fitted by logistic regression on cached embeddings (heartbert_hf.probe)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from heartbert_hf import HeartBertConfig, HeartBertForSequenceClassification
from heartbert_hf.inference import predict_proba
from heartbert_hf.probe import fit_linear_probe, probe_logits, sequence_embeddings

LABELS = ["N", "S", "V", "F"]
RHYTHM = {"rhythm_feature_names": ["rr_prev", "rr_next", "rr_local"], "rhythm_feature_mean": [0.8, 0.8, 0.8], "rhythm_feature_std": [0.2, 0.25, 0.0]}


def probe_model(tiny_config, rhythm: bool, problem_type: str = "single_label_classification", n_labels: int = 4):
    torch.manual_seed(0)
    config = HeartBertConfig(
        **{
            **tiny_config.to_dict(),
            "num_labels": n_labels,
            "id2label": dict(enumerate(LABELS[:n_labels])),
            "label2id": {n: i for i, n in enumerate(LABELS[:n_labels])},
            "problem_type": problem_type,
            "classifier_head": "linear-probe",
            **(RHYTHM if rhythm else {}),
        }
    )
    return HeartBertForSequenceClassification(config).eval()


@pytest.fixture(scope="module")
def sequences(tiny_config):
    rng = np.random.default_rng(0)
    return [[0, *rng.integers(5, tiny_config.vocab_size, size=int(n)).tolist(), 2] for n in rng.integers(5, 40, size=60)]


def _sklearn_reference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    classes, counts = np.unique(y, return_counts=True)
    weights = dict(zip(classes.tolist(), np.sqrt(len(y) / (len(classes) * counts)).tolist()))  # square-root balanced
    scaler = StandardScaler().fit(x)
    lr = LogisticRegression(class_weight=weights, max_iter=2000, random_state=42).fit(scaler.transform(x), y)
    return lr.predict_proba(scaler.transform(x))


@pytest.mark.parametrize("rhythm", [False, True])
def test_fitted_probe_gives_scikit_learns_probabilities_through_the_model(tiny_config, sequences, rhythm):
    model = probe_model(tiny_config, rhythm)
    emb = sequence_embeddings(model, sequences)
    assert emb.shape == (len(sequences), tiny_config.hidden_size)
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, size=len(sequences))
    rr = rng.normal(0.8, 0.2, size=(len(sequences), 3)).astype(np.float32) if rhythm else None
    info = fit_linear_probe(model, emb, y, rr)
    assert info["classes_seen"] == [0, 1, 2, 3] and info["converged"]
    # the reference: the same regression on the head's own inputs (normalised rhythm appended)
    x = emb.astype(np.float64)
    if rhythm:
        std = np.array([0.2, 0.25, 1.0])  # a saved std of 0 counts as 1
        x = np.hstack([x, (rr - 0.8) / std])
    expected = _sklearn_reference(x, y)
    _, probs = predict_proba(model, sequences, example_ids=np.arange(len(sequences)), rhythm_features=rr)
    np.testing.assert_allclose(probs, expected, atol=1e-4)
    # the cached-embedding path equals the model's forward
    with torch.no_grad():
        ids = [torch.tensor(s) for s in sequences[:3]]
        dev = model.device  # sequence_embeddings puts the model on the GPU when there is one
        forward = [
            model(input_ids=i[None].to(dev), rhythm_features=None if rr is None else torch.tensor(rr[j : j + 1]).to(dev)).logits[0].cpu().numpy()
            for j, i in enumerate(ids)
        ]
    np.testing.assert_allclose(probe_logits(model, emb[:3], None if rr is None else rr[:3]), np.stack(forward), atol=1e-5)


def test_probe_survives_save_and_reload(tiny_config, sequences, tmp_path):
    from transformers import AutoModelForSequenceClassification

    model = probe_model(tiny_config, rhythm=False)
    emb = sequence_embeddings(model, sequences)
    fit_linear_probe(model, emb, np.arange(len(sequences)) % 4)
    model.save_pretrained(tmp_path)
    reloaded = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    ids = torch.tensor([sequences[0]])
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids=ids.to(model.device)).logits.cpu(), reloaded(input_ids=ids).logits, atol=1e-5, rtol=0)


def test_two_classes_and_a_class_absent_from_training(tiny_config, sequences):
    model = probe_model(tiny_config, rhythm=False)
    emb = sequence_embeddings(model, sequences)
    y = np.where(np.arange(len(sequences)) % 3 == 0, 2, 0)  # only N and V
    info = fit_linear_probe(model, emb, y)
    assert info["classes_seen"] == [0, 2]
    _, probs = predict_proba(model, sequences, example_ids=np.arange(len(sequences)))
    assert probs[:, [1, 3]].max() < 1e-12  # S and F never seen: probability ~0
    x = emb.astype(np.float64)
    expected = _sklearn_reference(x, y)  # columns: N, V
    np.testing.assert_allclose(probs[:, [0, 2]], expected, atol=1e-4)


def test_probe_refuses_what_it_cannot_fit(tiny_config, sequences):
    multi = probe_model(tiny_config, rhythm=False, problem_type="multi_label_classification")
    with pytest.raises(ValueError, match="single-label"):
        fit_linear_probe(multi, np.zeros((4, tiny_config.hidden_size)), [0, 1, 0, 1])
    model = probe_model(tiny_config, rhythm=False)
    with pytest.raises(ValueError, match="at least 2 classes"):
        fit_linear_probe(model, np.zeros((4, tiny_config.hidden_size)), [1, 1, 1, 1])
    with pytest.raises(ValueError, match="4 embedding rows but 3 labels"):
        fit_linear_probe(model, np.zeros((4, tiny_config.hidden_size)), [0, 1, 0])
    rhythm_model = probe_model(tiny_config, rhythm=True)
    with pytest.raises(ValueError, match="rhythm"):
        fit_linear_probe(rhythm_model, np.zeros((4, tiny_config.hidden_size)), [0, 1, 0, 1])


@pytest.mark.parametrize("arm", ["random", "pretrained", "pretrained+rhythm", "random+rhythm"])
def test_cv_probe_from_cached_embeddings_equals_fitting_and_predicting_directly(tiny_config, tmp_path, arm):
    """``arms.run_probe_cv_arm`` (one embedding of the pool, reused per fold) gives what a direct fit on the
    fold's training sequences + ``predict_proba`` on its held-out ones gives, examples with two sequences included."""
    import types

    import datasets

    from heartbert_hf import HeartBertForMaskedLM
    from heartbert_hf.arms import NEURAL_ARMS, build_model, rhythm_spec, run_probe_cv_arm
    from heartbert_hf.rhythm import RR_FEATURE_NAMES
    from heartbert_hf.tasks import get_task

    torch.manual_seed(0)
    HeartBertForMaskedLM(tiny_config).save_pretrained(tmp_path)
    rng = np.random.default_rng(0)
    rows = {"input_ids": [], "labels": [], "example_id": [], "rr_features": []}
    for example in range(90):
        label, rr = int(rng.integers(0, 3)), rng.normal(0.8, 0.2, len(RR_FEATURE_NAMES)).tolist()
        for _ in range(1 + (example % 4 == 0)):  # every 4th example is cut into two sequences
            rows["input_ids"].append([0, *rng.integers(5, tiny_config.vocab_size, int(rng.integers(4, 30))).tolist(), 2])
            rows["labels"].append(label)
            rows["example_id"].append(example)
            rows["rr_features"].append(rr)
    pool = datasets.Dataset.from_dict(rows)
    eids = np.asarray(pool["example_id"])
    train_rows, test_rows = eids < 60, eids >= 60
    rhythm = rhythm_spec({"rr_features": np.asarray(pool["rr_features"])[train_rows]})
    args = types.SimpleNamespace(model=str(tmp_path), seed=42, lstm_hidden_size=8, class_weighting=True)
    task, labels = get_task("mitdb-aami"), ["N", "S", "V", "F"]
    cache: dict = {}
    ids, probs, y, info = run_probe_cv_arm(args, pool, cache, task, labels, arm, train_rows, test_rows, rhythm)
    assert info["converged"] and sorted(k for k in cache if not k.endswith("_seconds")) == [("random" if arm.startswith("random") else "pretrained")]
    random_init, uses_rhythm = NEURAL_ARMS[arm]
    model = build_model(args.model, "linear-probe", labels, task.problem_type, random_init, 42, 8, rhythm if uses_rhythm else None)
    train, test = pool.select(np.flatnonzero(train_rows)), pool.select(np.flatnonzero(test_rows))
    rr_of = (lambda ds: np.asarray(ds["rr_features"], np.float32)) if uses_rhythm else (lambda ds: None)
    fit_linear_probe(model, sequence_embeddings(model, train, desc=None), train["labels"], rr_of(train))
    direct_ids, direct = predict_proba(model, test, rhythm_features=rr_of(test))
    np.testing.assert_array_equal(ids, direct_ids)
    np.testing.assert_allclose(probs, direct, atol=1e-5)
    label_of = dict(zip(test["example_id"], test["labels"]))
    assert y == [label_of[int(e)] for e in ids] and len(ids) == 30


def test_class_weights_are_the_square_root_of_balanced():
    """Hand-computed: 6 N, 3 S, 1 V (n=10, k=3): balanced weights 10/18, 10/9, 10/3; their square roots."""
    from heartbert_hf.baselines import balanced_class_weight

    w = balanced_class_weight([0] * 6 + [1] * 3 + [2])
    assert w == pytest.approx({0: (10 / 18) ** 0.5, 1: (10 / 9) ** 0.5, 2: (10 / 3) ** 0.5})
    assert balanced_class_weight([0, 0, 1], power=1.0) == pytest.approx({0: 0.75, 1: 1.5})


def test_negative_class_weight_power_is_refused():
    from heartbert_hf.baselines import balanced_class_weight

    with pytest.raises(ValueError, match="power must be a finite number >= 0"):
        balanced_class_weight([0, 1, 1], power=-0.5)
