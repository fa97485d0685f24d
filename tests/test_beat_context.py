"""The record-context beat classifier: config checks, pooling, the record stream, the model's forward,
saving/reloading, shipping through the context benchmark, and classify-beats with it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from heartbert_hf import HeartBertConfig
from heartbert_hf.beat_context import beat_token_spans, finite_runs, record_beat_logits, record_beat_probabilities, record_beat_vectors, record_stream
from heartbert_hf.beat_pooling import content_stream, pool_spans, record_median
from heartbert_hf.modeling_heartbert import HeartBertForSequenceClassification

SPANS = [[-0.25, -0.05], [-0.05, 0.45]]
RR = ["pre_rr_norm", "post_rr_norm", "local_rr_norm", "pre_over_post", "pre_over_local"]


@pytest.fixture(scope="module")
def processor(tiny_model_dir):
    from heartbert_hf.runtime import load_heartbert_processor

    return load_heartbert_processor(tiny_model_dir)


@pytest.fixture(scope="module")
def record_208(sample_dir):
    """The first 60 s of the shipped 208 excerpt, MLII, with its reference beats (many V) and RR features."""
    import wfdb

    from heartbert_hf.rhythm import RR_FEATURE_NAMES, rr_features

    rec = wfdb.rdrecord(str(sample_dir / "208"), channel_names=["MLII"], sampto=21600)
    ann = wfdb.rdann(str(sample_dir / "208"), "atr", sampto=21600)
    peaks = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in "NLRejAaJSVEF/fQ" and 200 < s < 21400])
    rr = rr_features(peaks, 360.0)[:, [RR_FEATURE_NAMES.index(n) for n in RR]]
    return rec.p_signal[:, 0].copy(), peaks, rr


@pytest.fixture(scope="module")
def classifier(tiny_model_dir):
    config = HeartBertConfig.from_pretrained(
        tiny_model_dir,
        classifier_head="linear-probe",
        num_labels=4,
        beat_context_spans=SPANS,
        beat_context_centring="record-median",
        beat_context_layers=[1, 2],
        rhythm_feature_names=RR,
    )
    torch.manual_seed(0)
    model = HeartBertForSequenceClassification.from_pretrained(tiny_model_dir, config=config).eval()
    with torch.no_grad():
        model.classifier.weight.normal_(0, 1.0)
    return model


def _padded(sequences):
    width = max(map(len, sequences))
    ids = torch.ones((len(sequences), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, s in enumerate(sequences):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids, mask


# ------------------------------------------------------------------ config
@pytest.mark.parametrize(
    "fields, message",
    [
        ({"beat_context_spans": [[-0.25, 0.45]]}, "needs classifier_head='linear-probe'"),
        ({"classifier_head": "linear-probe", "beat_context_spans": [[0.45, -0.25]]}, "start_s < stop_s"),
        ({"classifier_head": "linear-probe", "beat_context_spans": []}, "one or more"),
        ({"classifier_head": "linear-probe", "beat_context_centring": "record-median"}, "beat_context_spans is not"),
        ({"classifier_head": "linear-probe", "beat_context_spans": [[-0.2, 0.4]], "beat_context_centring": "mean"}, "unknown beat_context_centring"),
        ({"classifier_head": "linear-probe", "beat_context_spans": [[-0.2, 0.4]], "beat_context_layers": [3, 7]}, "from 0 .embeddings. to 6"),
        ({"classifier_head": "linear-probe", "beat_context_spans": [[-0.2, 0.4]], "beat_context_layers": [3, 3]}, "distinct"),
        ({"classifier_head": "linear-probe", "beat_context_layers": [3]}, "beat_context_spans is not"),
    ],
)
def test_config_refuses_bad_beat_context(fields, message):
    with pytest.raises(ValueError, match=message):
        HeartBertConfig(**fields)


def test_config_pooled_size_counts_spans():
    config = HeartBertConfig(hidden_size=32, num_attention_heads=2, classifier_head="linear-probe", beat_context_spans=SPANS)
    assert config.pooled_size == 64 and HeartBertConfig(hidden_size=32, num_attention_heads=2).pooled_size == 32
    config.beat_context_layers = [3, 6]
    assert config.pooled_size == 128  # 2 spans x 2 layers x 32


# ------------------------------------------------------------------ pooling
def test_pool_spans_means_cumulative_and_empty():
    stream = torch.arange(12, dtype=torch.float32).reshape(6, 2)  # token t has state (2t, 2t + 1)
    pooled = pool_spans(stream, torch.tensor([[[0, 2], [3, 3]], [[1, 6], [5, 6]]]))
    assert pooled.shape == (2, 4)
    np.testing.assert_allclose(pooled.numpy(), [[1, 2, 0, 0], [6, 7, 10, 11]])  # mean of tokens 0-1; empty span = 0; tokens 1-5; token 5
    with pytest.raises(ValueError, match=r"beat_spans\[1, 0\] = \[4, 7\)"):
        pool_spans(stream, torch.tensor([[[0, 1]], [[4, 7]]]))
    with pytest.raises(ValueError, match="expected \\(n_beats, n_spans, 2\\)"):
        pool_spans(stream, torch.tensor([[0, 1]]))


def test_content_stream_drops_specials_and_padding_and_refuses_left_padding():
    hidden = torch.arange(2 * 5, dtype=torch.float32).reshape(2, 5, 1)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    assert content_stream(hidden, mask)[:, 0].tolist() == [1, 2, 3, 6]  # row 0: positions 1-3; row 1: position 1
    with pytest.raises(ValueError, match="right-padded"):
        content_stream(hidden, torch.tensor([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]]))


def test_record_median_is_numpys_median():
    x = torch.tensor([[1.0, 5.0], [3.0, 2.0], [2.0, 9.0], [10.0, 0.0]])
    np.testing.assert_allclose(record_median(x).numpy(), np.median(x.numpy(), axis=0))
    with pytest.raises(ValueError, match="at least one beat"):
        record_median(torch.zeros((0, 2)))


# ------------------------------------------------------------------ the record stream
def test_record_stream_covers_the_finite_runs_in_order(processor, record_208):
    signal, _, _ = record_208
    x = signal[:12000].copy()
    x[5000:5600] = np.nan  # a 1.7-s gap: two runs
    assert finite_runs(x) == [(0, 5000), (5600, 12000)]
    stream = record_stream(processor, x, 360.0, max_length=40)
    assert all(len(s) <= 40 and s[0] == processor.tokenizer.bos_token_id and s[-1] == processor.tokenizer.eos_token_id for s in stream.sequences)
    assert len(stream.token_start) == sum(len(s) - 2 for s in stream.sequences)
    assert np.all(np.diff(stream.token_start) > 0) and np.all(stream.token_stop > stream.token_start)
    assert stream.token_start[0] == 0 and np.isclose(stream.token_stop[-1], 12000)
    inside_gap = (stream.token_stop > 5000) & (stream.token_start < 5600)
    assert not inside_gap.any()  # no token encodes a gap sample
    spans = beat_token_spans(stream, np.array([5300, 8000]), 360.0, SPANS)
    assert (spans[0, :, 1] == spans[0, :, 0]).all() and (spans[1, :, 1] > spans[1, :, 0]).all()
    with pytest.raises(ValueError, match="at least 3"):
        record_stream(processor, x, 360.0, max_length=2)


def test_record_stream_resampled_rate_maps_tokens_to_input_samples(processor, record_208):
    from scipy.signal import resample_poly

    signal, _, _ = record_208
    x500 = resample_poly(signal[:10800], 25, 18)  # 30 s at 500 Hz
    stream = record_stream(processor, x500, 500.0, max_length=64)
    assert np.isclose(stream.token_stop[-1], len(x500), atol=2)  # offsets are in 500-Hz samples, not 360-Hz


# ------------------------------------------------------------------ the model
def test_forward_equals_the_batched_record_path(classifier, processor, record_208):
    signal, peaks, rr = record_208
    stream = record_stream(processor, signal, 360.0, max_length=64)
    spans = beat_token_spans(stream, peaks, 360.0, SPANS)
    ids, mask = _padded(stream.sequences)
    with torch.no_grad():
        out = classifier(input_ids=ids, attention_mask=mask, beat_spans=torch.as_tensor(spans), rhythm_features=torch.as_tensor(rr, dtype=torch.float32))
    assert out.logits.shape == (len(peaks), 4) and classifier.config.pooled_size == 2 * 2 * 32  # 2 spans x 2 layers x hidden 32
    for batch_size in (1, 7):
        vectors = record_beat_vectors(classifier, stream, spans, batch_size=batch_size)
        np.testing.assert_allclose(record_beat_logits(classifier, vectors, rr), out.logits.numpy(), rtol=1e-4, atol=1e-4)
    probs = record_beat_probabilities(classifier, processor, signal, 360.0, peaks, rr, 64)
    np.testing.assert_allclose(probs, torch.softmax(out.logits.double(), -1).numpy(), atol=1e-5)
    labels = torch.zeros(len(peaks), dtype=torch.long)
    with torch.no_grad():
        loss = classifier(input_ids=ids, attention_mask=mask, beat_spans=torch.as_tensor(spans), rhythm_features=torch.as_tensor(rr), labels=labels).loss
    assert torch.isclose(loss, torch.nn.functional.cross_entropy(out.logits, labels), atol=1e-5)


def test_record_median_centring_ignores_a_shift_of_every_beat(classifier):
    vectors = torch.randn(9, classifier.config.pooled_size)
    rr = torch.ones(9, len(RR))
    with torch.no_grad():
        np.testing.assert_allclose(
            classifier.classify_beat_vectors(vectors + 3.0, rr).numpy(), classifier.classify_beat_vectors(vectors, rr).numpy(), atol=1e-4
        )
        shifted_one = vectors.clone()
        shifted_one[0] += 3.0
        assert not np.allclose(classifier.classify_beat_vectors(shifted_one, rr)[0].numpy(), classifier.classify_beat_vectors(vectors, rr)[0].numpy())


def test_forward_refuses_missing_or_misshaped_spans(classifier, tiny_model_dir):
    ids = torch.tensor([[0, 5, 6, 2]])
    with pytest.raises(ValueError, match=r"needs beat_spans .* \(record_stream, beat_token_spans\)"):
        classifier(input_ids=ids, rhythm_features=torch.ones(1, len(RR)))
    with pytest.raises(ValueError, match=r"pools 2 span\(s\)"):
        classifier(input_ids=ids, beat_spans=torch.tensor([[[0, 1]]]), rhythm_features=torch.ones(1, len(RR)))
    with pytest.raises(ValueError, match="not a span of the 2 content tokens"):
        classifier(input_ids=ids, beat_spans=torch.tensor([[[0, 1], [1, 3]]]), rhythm_features=torch.ones(1, len(RR)))
    plain = HeartBertForSequenceClassification(HeartBertConfig.from_pretrained(tiny_model_dir, classifier_head="linear-probe", num_labels=4))
    with pytest.raises(ValueError, match="classifies sequences"):
        plain(input_ids=ids, beat_spans=torch.tensor([[[0, 1]]]))


def test_save_and_reload_give_identical_logits(classifier, processor, record_208, tmp_path):
    from transformers import AutoModelForSequenceClassification

    signal, peaks, rr = record_208
    classifier.save_pretrained(tmp_path)
    assert (tmp_path / "beat_pooling.py").is_file()  # remote code carries the pooling module
    reloaded = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    assert reloaded.config.beat_context_spans == SPANS and reloaded.config.beat_context_centring == "record-median"
    a = record_beat_probabilities(classifier, processor, signal, 360.0, peaks, rr, 64)
    b = record_beat_probabilities(reloaded, processor, signal, 360.0, peaks, rr, 64)
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ shipping and classify-beats
@pytest.fixture(scope="module")
def shipped(tiny_model_dir, sample_dir, tmp_path_factory):
    """``heartbert finetune --arms pretrained+context`` on all three shipped excerpts, as ``--ship`` trains the shipped classifier."""
    from heartbert_hf.finetune import main

    folder = tmp_path_factory.mktemp("context-classifier")
    cache = tmp_path_factory.mktemp("hf-cache")
    argv = ["--task", "mitdb-aami", "--model", str(tiny_model_dir), "--data_dir", str(sample_dir), "--output_dir", str(folder)]
    assert main([*argv, "--cache_dir", str(cache), "--arms", "pretrained+context", "--val_folds", "0", "--torch_threads", "1"]) == 0
    return folder


def test_finetune_saves_a_loadable_context_classifier_with_its_card(shipped, sample_dir, tmp_path):
    import wfdb

    from heartbert_hf.beat_classifier import load_classifier
    from heartbert_hf.context_arms import CONTEXT_RHYTHM, CONTEXT_SPANS_S, predict_split
    from heartbert_hf.rhythm import RR_FEATURE_NAMES
    from heartbert_hf.tasks import get_task, load_task_data

    cache_dir = tmp_path / "cache"

    clf = load_classifier(str(shipped))
    assert clf.labels == ["N", "S", "V", "F"] and clf.model.config.beat_context_spans == CONTEXT_SPANS_S
    assert clf.model.config.rhythm_feature_names == list(CONTEXT_RHYTHM)
    card = (shipped / "README.md").read_text()
    assert "record's context" in card and "beat_spans" in card and "ODC-By" in card
    # the path of classify-beats on one record = the path the head was fitted on (the beats dataset's rows of that record)
    data = load_task_data(get_task("mitdb-aami"), str(sample_dir), str(cache_dir), val_folds=0)["train"]
    rows = [i for i, r in enumerate(data["record_id"]) if r == "208"]
    ds = data.select(rows)
    fitted_path = predict_split(clf.model, clf.processor, ds, str(sample_dir), clf.max_length)  # (n_beats, 4)
    rec = wfdb.rdrecord(str(sample_dir / "208"), channel_names=["MLII"])
    rr = np.asarray(ds["rr_features"])[:, [RR_FEATURE_NAMES.index(n) for n in CONTEXT_RHYTHM]]
    probs = record_beat_probabilities(clf.model, clf.processor, rec.p_signal[:, 0], rec.fs, np.asarray(ds["r_peak"]), rr, clf.max_length)
    np.testing.assert_allclose(probs, fitted_path, atol=1e-5)
    assert len(set(probs.argmax(axis=1))) > 1  # not one class for every beat


def test_classify_beats_with_a_context_classifier(shipped, sample_dir, tmp_path):
    import wfdb

    from heartbert_hf.classify_beats import main

    assert main(["--record", str(sample_dir / "208"), "--model", str(shipped), "--output_dir", str(tmp_path), "--use_reference_beats"]) == 0
    ann = wfdb.rdann(str(tmp_path / "208"), "hbt")
    assert len(ann.sample) > 1000 and set(ann.symbol) <= {"N", "S", "V", "F", "Q"}
    assert {"N", "V"} <= set(ann.symbol)
    rows = (tmp_path / "208_beats.csv").read_text().splitlines()
    assert len(rows) == len(ann.sample) + 1


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_gives_probabilities(classifier, processor, record_208, precision):
    signal, peaks, rr = record_208
    probs = record_beat_probabilities(classifier, processor, signal, 360.0, peaks[:40], rr[:40], 64, precision=precision)
    assert probs.shape == (40, 4) and np.isfinite(probs).all() and np.allclose(probs.sum(axis=1), 1.0)
    exact = record_beat_probabilities(classifier, processor, signal, 360.0, peaks[:40], rr[:40], 64)
    assert np.abs(probs - exact).max() < 0.5  # the same beats, close probabilities


REMOTE = """
import json, sys
sys.modules["heartbert_hf"] = None  # as on a machine without the package
import numpy as np, torch
from transformers import AutoModelForSequenceClassification
folder = {folder!r}
inputs = np.load(folder + "/inputs.npz")
model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()
with torch.no_grad():
    logits = model(**{{k: torch.as_tensor(inputs[k]) for k in inputs.files}}).logits
print("REPORT" + json.dumps({{"class": type(model).__module__, "logits": logits.tolist()}}))
"""


def test_remote_code_reproduces_the_context_classifier(classifier, processor, record_208, tmp_path):
    """Without the package, trust_remote_code loads the saved files (beat_pooling.py included) and gives the same logits."""
    import json

    from conftest import run_python

    signal, peaks, rr = record_208
    stream = record_stream(processor, signal[:7200], 360.0, max_length=64)
    keep = peaks < 7000
    spans = beat_token_spans(stream, peaks[keep], 360.0, SPANS)
    ids, mask = _padded(stream.sequences)
    inputs = {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "beat_spans": spans, "rhythm_features": rr[keep].astype(np.float32)}
    classifier.save_pretrained(tmp_path / "model")
    np.savez(tmp_path / "model" / "inputs.npz", **inputs)
    with torch.no_grad():
        expected = classifier(**{k: torch.as_tensor(v) for k, v in inputs.items()}).logits.numpy()
    proc = run_python(
        REMOTE.format(folder=str(tmp_path / "model")), cwd=tmp_path, env_extra={"HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(next(row for row in proc.stdout.splitlines() if "REPORT{" in row).split("REPORT", 1)[1])
    assert report["class"].startswith("transformers_modules.")
    np.testing.assert_allclose(np.array(report["logits"]), expected, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ real-world inputs (probe round 3)
def test_rr_features_leave_out_intervals_across_a_gap(record_208):
    from heartbert_hf.rhythm import RR_FEATURE_NAMES, broken_intervals, rr_features

    signal, peaks, _ = record_208
    x = signal.copy()
    x[7200:12600] = x[7200]  # 15 s held constant: lead off
    kept = np.flatnonzero(~((peaks > 7000) & (peaks < 12800)))  # the beats a detector finds: none in the gap
    broken = broken_intervals(x, peaks[kept], 360.0)
    assert broken.sum() == 1 and peaks[kept][np.flatnonzero(broken)[0]] < 7200 < peaks[kept][np.flatnonzero(broken)[0] + 1]
    y = signal.copy()
    i = int(np.flatnonzero(peaks > 14000)[0])
    y[peaks[i] + 20 : peaks[i] + 70] = np.nan  # invalid samples between two beats
    assert broken_intervals(y, peaks, 360.0).sum() == 1
    assert not broken_intervals(signal, peaks, 360.0).any()  # a real ECG is never constant for 1 s
    clean = rr_features(peaks, 360.0)
    gap = rr_features(peaks[kept], 360.0, broken_intervals(x, peaks[kept], 360.0))
    before = kept < np.flatnonzero(peaks > 7000)[0]
    # the beats before the gap keep their raw intervals; their normalised ones move only with the record mean
    np.testing.assert_allclose(gap[before][1:-1, :3], clean[kept[before]][1:-1, :3], rtol=1e-5)
    record = RR_FEATURE_NAMES.index("record_rr")
    assert gap[0, record] < 1.5 * clean[0, record]  # the 15-s interval is not in the record mean
    assert rr_features(peaks[kept], 360.0)[0, record] > gap[0, record]  # it would be without `broken`
    with pytest.raises(ValueError, match="every RR interval spans a gap"):
        rr_features(peaks[:3], 360.0, np.array([True, True]))


def test_record_beat_probabilities_checks_rhythm_features_by_beat_index(classifier, processor, record_208):
    signal, peaks, rr = record_208
    with pytest.raises(ValueError, match=r"rhythm_features has shape \(29, 5\); expected .* \(30, 5\)"):
        record_beat_probabilities(classifier, processor, signal, 360.0, peaks[:30], rr[:29], 64)
    bad = rr[:30].copy()
    bad[10, 0] = np.nan
    x = signal.copy()
    x[:1000] = np.nan  # the first beats are unusable: the error must still name beat 10
    with pytest.raises(ValueError, match="beat 10 .*pre_rr_norm"):
        record_beat_probabilities(classifier, processor, x, 360.0, peaks[:30], bad, 64)


def test_forward_with_no_beats_gives_empty_logits(classifier):
    with torch.no_grad():
        out = classifier(input_ids=torch.tensor([[0, 5, 6, 2]]), beat_spans=np.zeros((0, 2, 2), dtype=np.int64), rhythm_features=torch.zeros(0, len(RR)))
    assert out.logits.shape == (0, 4)
    with pytest.raises(ValueError, match="fractional"):
        pool_spans(torch.zeros(4, 2), torch.tensor([[[0.5, 2.0]]]))


def test_beats_whose_span_reaches_a_dropped_tail_are_not_classified(classifier, processor, record_208):
    signal, peaks, rr = record_208
    short, longer = signal[:8350], signal[:8370]  # 350 samples after the 2nd window: under min_window, dropped
    near = np.flatnonzero((peaks + 0.45 * 360 > 8000) & (peaks < 8000))  # spans reaching past sample 8000
    assert len(near)
    cut = record_beat_probabilities(classifier, processor, short, 360.0, peaks[near], rr[near], 64)
    kept = record_beat_probabilities(classifier, processor, longer, 360.0, peaks[near], rr[near], 64)
    assert np.isnan(cut).all() and np.isfinite(kept).all()


@pytest.mark.parametrize("rate, error", [(float("nan"), ValueError), (float("inf"), ValueError), (None, ValueError), ("360", TypeError), (0, ValueError)])
def test_record_stream_refuses_bad_rates_clearly(processor, record_208, rate, error):
    signal, _, _ = record_208
    with pytest.raises(error, match="sampling_rate"):
        record_stream(processor, signal[:7200], rate, 64)


def test_record_stream_takes_one_lead_in_either_orientation(processor, record_208):
    signal, _, _ = record_208
    flat = record_stream(processor, signal[:7200], 360.0, 64)
    column = record_stream(processor, signal[:7200, None], 360.0, 64)
    assert flat.sequences == column.sequences
    with pytest.raises(ValueError, match=r"shape \(2, 7200\); a record-context classifier reads one lead"):
        record_stream(processor, np.stack([signal[:7200]] * 2), 360.0, 64)


def test_classify_beats_refuses_another_max_length_for_a_context_classifier(shipped):
    from heartbert_hf.beat_classifier import load_classifier

    assert load_classifier(str(shipped)).max_length == 128  # the length it was fitted with (the tiny model's positions - 2)
    assert load_classifier(str(shipped), max_length=128).max_length == 128
    with pytest.raises(ValueError, match="fitted on sequences of 128 tokens; --max_length 16"):
        load_classifier(str(shipped), max_length=16)


def test_classify_beats_leaves_a_lone_beat_unclassified(shipped, sample_dir, tmp_path):
    import csv

    import wfdb

    from heartbert_hf.classify_beats import main

    rec = wfdb.rdrecord(str(sample_dir / "208"), channel_names=["MLII"], sampfrom=7917, sampto=8717)  # 2.2 s around the V beat at 8317
    ann = wfdb.rdann(str(sample_dir / "208"), "atr", sampfrom=7917, sampto=8717, shift_samps=True)
    wfdb.wrsamp("lone", fs=360, units=["mV"], sig_name=["MLII"], p_signal=rec.p_signal, fmt=["16"], adc_gain=[200.0], baseline=[0], write_dir=str(tmp_path))
    wfdb.wrann("lone", "atr", ann.sample, symbol=ann.symbol, fs=360, write_dir=str(tmp_path))
    assert main(["--record", str(tmp_path / "lone"), "--model", str(shipped), "--output_dir", str(tmp_path / "out"), "--use_reference_beats"]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "lone_beats.csv").open()))
    assert rows and all(r["label"] == "Q" for r in rows)
    assert any("fewer than 3 classifiable beats" in r["note"] for r in rows)


def test_classify_beats_rr_features_ignore_a_flat_gap(shipped, sample_dir, tmp_path, capsys):
    """A 15-s lead-off stretch used to enter the record's mean RR and turn beats far from it from N to S."""
    import csv

    import wfdb

    from heartbert_hf.classify_beats import main

    rec = wfdb.rdrecord(str(sample_dir / "101"), channel_names=["MLII"], sampto=21600)
    ann = wfdb.rdann(str(sample_dir / "101"), "atr", sampto=21600)
    rr_of = {}
    for name, gap in (("clean", False), ("gap", True)):
        x = rec.p_signal.copy()
        if gap:
            x[7200:12600, 0] = x[7200, 0]  # 20-35 s held constant
        wfdb.wrsamp(name, fs=360, units=["mV"], sig_name=["MLII"], p_signal=x, fmt=["16"], adc_gain=[200.0], baseline=[0], write_dir=str(tmp_path))
        keep = [i for i, s in enumerate(ann.sample) if not (gap and 7000 < s < 12800)]
        wfdb.wrann(name, "atr", ann.sample[keep], symbol=[ann.symbol[i] for i in keep], fs=360, write_dir=str(tmp_path))
        assert main(["--record", str(tmp_path / name), "--model", str(shipped), "--output_dir", str(tmp_path / "out"), "--use_reference_beats"]) == 0
        rows = list(csv.DictReader((tmp_path / "out" / f"{name}_beats.csv").open()))
        rr_of[name] = np.array([float(r["pre_rr_norm"]) for r in rows if int(r["sample"]) < 6000])
    # normalised by the record's mean RR: without the 15-s interval it moves by the few beats lost in the gap only
    np.testing.assert_allclose(rr_of["gap"], rr_of["clean"], rtol=0.05)
    assert "the record is 60 s long" in capsys.readouterr().out  # short records: the unstable-median warning


def test_evaluate_refuses_validation_for_a_model_trained_on_every_record(shipped, sample_dir, tmp_path, capsys):
    """``--val_folds 0`` leaves no validation records: evaluate used to carve them out of the training records."""
    from heartbert_hf.evaluate import main

    argv = ["--model", str(shipped), "--data_dir", str(sample_dir), "--cache_dir", str(tmp_path / "cache"), "--output_dir", str(tmp_path), "--no_update_card"]
    assert main([*argv, "--split", "validation"]) == 2
    assert "trained on every training record" in capsys.readouterr().err


def test_context_paths_accept_a_home_relative_data_dir(classifier, processor, sample_dir, tmp_path, monkeypatch):
    import shutil

    from heartbert_hf.context_arms import split_vectors
    from heartbert_hf.tasks import get_task, load_task_data

    home = tmp_path / "home"
    shutil.copytree(sample_dir, home / "sd")
    monkeypatch.setenv("HOME", str(home))
    ds = load_task_data(get_task("mitdb-aami"), "~/sd", str(tmp_path / "cache"), val_folds=0)["train"]
    ds = ds.select([i for i, r in enumerate(ds["record_id"]) if r == "118"])
    vectors = split_vectors(classifier, processor, ds, "~/sd", 64)
    assert vectors.shape == (len(ds), classifier.config.pooled_size) and np.isfinite(vectors).all()


def test_record_beat_probabilities_defaults_to_the_fitted_length(shipped, sample_dir):
    import wfdb

    from heartbert_hf.beat_classifier import load_classifier
    from heartbert_hf.context_arms import CONTEXT_RHYTHM
    from heartbert_hf.rhythm import RR_FEATURE_NAMES, rr_features

    clf = load_classifier(str(shipped))
    rec = wfdb.rdrecord(str(sample_dir / "101"), channel_names=["MLII"], sampto=21600)
    peaks = wfdb.rdann(str(sample_dir / "101"), "atr", sampfrom=300, sampto=21000).sample
    rr = rr_features(peaks, 360.0)[:, [RR_FEATURE_NAMES.index(n) for n in CONTEXT_RHYTHM]]
    default = record_beat_probabilities(clf.model, clf.processor, rec.p_signal[:, 0], 360.0, peaks, rr)
    np.testing.assert_array_equal(default, record_beat_probabilities(clf.model, clf.processor, rec.p_signal[:, 0], 360.0, peaks, rr, 128))
    assert not np.allclose(default, record_beat_probabilities(clf.model, clf.processor, rec.p_signal[:, 0], 360.0, peaks, rr, 32), equal_nan=True)
