"""The inference path (heartbert_hf.inference): chunking, batching, precisions, streaming, memory, devices."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

from heartbert_hf import inference as inf


@pytest.fixture(scope="module")
def encoder(tiny_config):
    from heartbert_hf import HeartBertModel

    torch.manual_seed(0)
    return HeartBertModel(tiny_config).eval()


@pytest.fixture(scope="module")
def classifier(tiny_config):
    from heartbert_hf import HeartBertForSequenceClassification

    torch.manual_seed(1)
    return HeartBertForSequenceClassification(tiny_config.__class__(**{**tiny_config.to_dict(), "num_labels": 3})).eval()


@pytest.fixture(scope="module")
def record(sample_signals) -> np.ndarray:
    """Record 208 of the sample: (2, 216000) mV at 360 Hz (10 min, 54 windows per lead)."""
    return sample_signals[1]


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def _long_record(record: np.ndarray, minutes: float, leads: int = 1) -> np.ndarray:
    reps = int(np.ceil(minutes * 60 * 360 / record.shape[1]))
    return np.ascontiguousarray(np.tile(record[:leads], (1, reps))[:, : int(minutes * 60 * 360)])


# ------------------------------------------------------------------ chunking
@pytest.mark.parametrize("max_tokens", [1, 5, 126, 510])
def test_chunks_cover_every_token_exactly_once(max_tokens):
    for n in list(range(0, 60)) + [509, 510, 511, 1020, 1021, 1234, 1999]:
        naive = inf.chunk_bounds(n, max_tokens, balanced=False)
        balanced = inf.chunk_bounds(n, max_tokens, balanced=True)
        for bounds in (naive, balanced):
            covered = [i for a, b in bounds for i in range(a, b)]
            assert covered == list(range(n))
            assert all(0 < b - a <= max_tokens for a, b in bounds)
        assert len(balanced) == len(naive) == -(-n // max_tokens)
        sizes = [b - a for a, b in balanced]
        assert not sizes or max(sizes) - min(sizes) <= 1
    assert [b - a for a, b in inf.chunk_bounds(1234, 510)] == [412, 411, 411]
    assert [b - a for a, b in inf.chunk_bounds(1234, 510, balanced=False)] == [510, 510, 214]


def test_naive_chunks_are_the_tokenizers_overflow(tiny_tokenizer, record):
    enc = tiny_tokenizer(ecg=record, sampling_rate=360, truncation=True, max_length=64)
    blocks = list(inf.iter_window_tokens(tiny_tokenizer, record, 360))
    mine = [s for block in blocks for w in block for s in inf.window_sequences(w.ids, 64, 0, 2, balanced=False)]
    assert mine == [list(ids) for ids in enc["input_ids"]]
    balanced = [s for block in blocks for w in block for s in inf.window_sequences(w.ids, 64, 0, 2, balanced=True)]
    assert len(balanced) == len(mine) and all(s[0] == 0 and s[-1] == 2 and len(s) <= 64 for s in balanced)
    assert sum(len(s) for s in balanced) == sum(len(s) for s in mine)


def test_max_tokens_must_leave_room():
    with pytest.raises(ValueError, match="max_tokens"):
        inf.chunk_bounds(10, 0)


# ------------------------------------------------------------------ streaming
def test_blocks_give_the_whole_record_tokens(tiny_tokenizer, record):
    whole = tiny_tokenizer(ecg=record, sampling_rate=360, add_special_tokens=False)
    for per_block in (1, 7, 1000):
        flat = [w for block in inf.iter_window_tokens(tiny_tokenizer, record, 360, windows_per_block=per_block) for w in block]
        assert [w.ids for w in flat] == [list(ids) for ids in whole["input_ids"]]
        assert [w.lead for w in flat] == list(whole["lead_index"])
        assert [w.window for w in flat] == list(whole["window_index"])


@pytest.mark.parametrize("rate", [250, 500])
def test_blocks_at_another_rate_give_the_whole_record_text(tiny_tokenizer, record, rate):
    """Resampled block by block (with margins) = resampled whole, up to the resampler's rounding."""
    from heartbert_hf.ecg_signal import resample

    x = resample(record[:, :72000], 360, rate)
    whole = tiny_tokenizer(ecg=x, sampling_rate=rate, add_special_tokens=False)
    streamed = [w for block in inf.iter_window_tokens(tiny_tokenizer, x, rate, windows_per_block=1) for w in block]
    assert [(w.lead, w.window) for w in streamed] == list(zip(whole["lead_index"], whole["window_index"]))
    a = "".join(tiny_tokenizer.decode(w.ids) for w in streamed)
    b = "".join(tiny_tokenizer.decode(ids) for ids in whole["input_ids"])
    assert len(a) == len(b) == 2 * 72000
    agree = np.mean(np.frombuffer(a.encode("utf-32-le"), np.uint32) == np.frombuffer(b.encode("utf-32-le"), np.uint32))
    assert agree >= 0.999, f"only {agree:.4%} of the level characters agree with the whole-record resampling"


def test_errors_name_record_lead_and_window(tiny_tokenizer, record):
    x = record.copy()
    x[1, 4000 * 9 : 4000 * 10] = 0.3  # lead 1, window 9 flat
    with pytest.raises(ValueError, match=r"rec208: lead 1, window 9 \(input samples 36000:40000 at 360 Hz\): flat"):
        for _ in inf.iter_window_tokens(tiny_tokenizer, x, 360, windows_per_block=4, name="rec208"):
            pass
    kept = [w for block in inf.iter_window_tokens(tiny_tokenizer, x, 360, windows_per_block=4, drop_flat=True) for w in block]
    assert (1, 9) not in {(w.lead, w.window) for w in kept} and (0, 9) in {(w.lead, w.window) for w in kept}
    x = record.copy()
    x[0, 50_001] = np.nan
    with pytest.raises(ValueError, match=r"rec208: lead 0, window 12 contains NaN or inf \(first at input sample 50001\)"):
        list(inf.iter_window_tokens(tiny_tokenizer, x, 360, windows_per_block=4, name="rec208"))


# ------------------------------------------------------------------ embeddings
def test_batched_equals_unbatched(encoder, tiny_tokenizer, record):
    one = inf.embed_ecg(encoder, tiny_tokenizer, record[:, :40000], 360, batch_size=1)
    many = inf.embed_ecg(encoder, tiny_tokenizer, record[:, :40000], 360, batch_size=64)
    np.testing.assert_allclose(one.embeddings, many.embeddings, atol=1e-5)
    assert (one.window_index == many.window_index).all() and (one.lead_index == many.lead_index).all()


def test_window_embedding_is_token_weighted_mean(encoder, tiny_tokenizer, record):
    x = record[:, :12000]
    result = inf.embed_ecg(encoder, tiny_tokenizer, x, 360, balanced_chunks=False)
    enc = tiny_tokenizer(ecg=x, sampling_rate=360, truncation=True, max_length=128, padding=True, return_tensors="pt")
    with torch.no_grad():
        pooled = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).pooler_output.numpy()
    weights = enc["attention_mask"].sum(dim=1).numpy()
    keys = list(zip(enc["window_index"].tolist(), enc["lead_index"].tolist()))
    for row, (window, lead) in enumerate(zip(result.window_index, result.lead_index)):
        rows = [i for i, k in enumerate(keys) if k == (window, lead)]
        expected = (pooled[rows] * weights[rows, None]).sum(0) / weights[rows].sum()
        np.testing.assert_allclose(result.embeddings[row], expected, atol=1e-5)
        assert result.n_sequences[row] == len(rows)
    assert result.embeddings.shape == (6, encoder.config.hidden_size)  # 12000 samples: 3 windows x 2 leads


def test_encoder_of_mlm_checkpoint_is_used(tiny_model_dir, tiny_tokenizer, record):
    from transformers import AutoModel, AutoModelForMaskedLM

    import heartbert_hf  # noqa: F401

    mlm = AutoModelForMaskedLM.from_pretrained(tiny_model_dir)
    base = AutoModel.from_pretrained(tiny_model_dir)
    a = inf.embed_ecg(mlm, tiny_tokenizer, record[:, :8000], 360)
    b = inf.embed_ecg(base, tiny_tokenizer, record[:, :8000], 360)
    np.testing.assert_allclose(a.embeddings, b.embeddings, atol=1e-6)


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_close_to_fp32(encoder, tiny_tokenizer, record, precision):
    x = record[:, :40000]
    ref = inf.embed_ecg(encoder, tiny_tokenizer, x, 360)
    low = inf.embed_ecg(encoder, tiny_tokenizer, x, 360, precision=precision)
    assert _cosine(ref.embeddings, low.embeddings).min() >= 0.999
    assert not np.array_equal(ref.embeddings, low.embeddings)  # the precision was really applied
    assert all(isinstance(m, torch.nn.Linear) and not type(m).__module__.startswith("torch.ao") for m in encoder.modules() if "Linear" in type(m).__name__)


def test_int8_copy_is_rebuilt_after_an_update(encoder):
    first = inf.quantize_int8(encoder)
    assert inf.quantize_int8(encoder) is first
    model = type(encoder)(encoder.config).eval()
    q1 = inf.quantize_int8(model)
    with torch.no_grad():
        model.encoder.layer[0].attention.self.query.weight.mul_(2.0)
    assert inf.quantize_int8(model) is not q1


def test_balanced_chunks_change_little(encoder, tiny_tokenizer, record):
    x = record[:, :40000]
    naive = inf.embed_ecg(encoder, tiny_tokenizer, x, 360, balanced_chunks=False)
    balanced = inf.embed_ecg(encoder, tiny_tokenizer, x, 360, balanced_chunks=True)
    assert (naive.n_sequences == balanced.n_sequences).all()
    assert _cosine(naive.embeddings, balanced.embeddings).min() > 0.99


def test_memory_is_bounded_on_a_long_record(encoder, tiny_tokenizer, record):
    """Python/numpy peak (tracemalloc) and RSS stay flat from 5 to 30 minutes: the record is streamed."""
    import psutil

    process = psutil.Process()

    def run(minutes):
        x = _long_record(record, minutes)
        tracemalloc.start()
        rss, windows = [], 0
        for part in inf.iter_embeddings(encoder, tiny_tokenizer, x, 360, windows_per_block=8, batch_size=32):
            windows += len(part.embeddings)
            rss.append(process.memory_info().rss)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, windows, max(rss) - rss[0]

    short_peak, short_windows, _ = run(5)
    long_peak, long_windows, rss_growth = run(30)
    assert (short_windows, long_windows) == (27, 162)
    assert long_peak < 2_000_000, f"tracemalloc peak {long_peak / 1e6:.2f} MB for 30 min (budget 2 MB at 8 windows per block)"
    assert long_peak < 1.5 * short_peak + 200_000, f"peak grew from {short_peak / 1e6:.2f} MB (5 min) to {long_peak / 1e6:.2f} MB (30 min)"
    assert rss_growth < 50_000_000, f"RSS grew by {rss_growth / 1e6:.0f} MB over the 30-min record"


def test_memmap_record_is_read_block_by_block(encoder, tiny_tokenizer, record, tmp_path):
    x = _long_record(record, 10, leads=2).astype(np.float32)
    path = tmp_path / "holter.f32"
    x.tofile(path)
    mapped = np.memmap(path, dtype=np.float32, mode="r", shape=x.shape)
    tracemalloc.start()
    result = inf.embed_ecg(encoder, tiny_tokenizer, mapped, 360, windows_per_block=4)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.embeddings.shape == (2 * 54, encoder.config.hidden_size)
    assert peak < x.nbytes, f"peak {peak / 1e6:.2f} MB is not below the record's own {x.nbytes / 1e6:.2f} MB"


def test_default_batches_hold_512_tokens_on_cpu(encoder):
    shapes = []

    def forward(model, ids, mask, extra):
        shapes.append(tuple(ids.shape))
        return torch.zeros(ids.shape[0], 2)

    sequences = [[0] + [5] * 126 + [2]] * 10 + [[0, 5, 2]]
    out = inf._run_batches(encoder, sequences, forward, batch_size=None, device=torch.device("cpu"), precision="fp32", pad_id=1)
    assert shapes == [(4, 128), (4, 128), (3, 128)] and out.shape == (11, 2)


def test_a_processor_is_accepted(tiny_tokenizer, encoder, record):
    """HeartBertProcessor (feature extractor + tokenizer) works where the tokenizer does."""
    import types

    try:
        from heartbert_hf.processing_heartbert import HeartBertProcessor

        processor = HeartBertProcessor.from_tokenizer(tiny_tokenizer)
    except ImportError:  # before the processor lands: an object of its shape

        class Stand_in:
            def __init__(self, tok):
                self.tokenizer = tok
                self.feature_extractor = types.SimpleNamespace(target_rate=tok.target_rate, window_size=tok.window_size, min_window=tok.min_window)

            def __call__(self, ecg=None, sampling_rate=None, **kwargs):
                return self.tokenizer(ecg=ecg, sampling_rate=sampling_rate, **kwargs)

        processor = Stand_in(tiny_tokenizer)
    x = record[:, :20000]
    a = inf.embed_ecg(encoder, processor, x, 360)
    b = inf.embed_ecg(encoder, tiny_tokenizer, x, 360)
    np.testing.assert_array_equal(a.embeddings, b.embeddings)


@pytest.mark.slow
def test_a_24_hour_holter_streams_in_bounded_memory(tiny_tokenizer, record, tmp_path):
    """2 leads at 250 Hz from a float32 memmap: the tokenizer side's tracemalloc peak is the same for 1 h and 24 h."""
    from heartbert_hf.ecg_signal import resample

    chunk = resample(record, 360, 250).astype(np.float32)

    def peak_for(hours):
        n = int(hours * 3600 * 250)
        path = tmp_path / f"holter{hours}.f32"
        mapped = np.memmap(path, dtype=np.float32, mode="w+", shape=(2, n))
        for start in range(0, n, chunk.shape[1]):
            stop = min(n, start + chunk.shape[1])
            mapped[:, start:stop] = chunk[:, : stop - start]
        mapped.flush()
        del mapped
        holter = np.memmap(path, dtype=np.float32, mode="r", shape=(2, n))
        tracemalloc.start()
        windows = sum(len(block) for block in inf.iter_window_tokens(tiny_tokenizer, holter, 250))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return windows, peak

    hour_windows, hour_peak = peak_for(1)
    day_windows, day_peak = peak_for(24)
    assert (hour_windows, day_windows) == (2 * 324, 2 * 7776)
    assert day_peak < 1.2 * hour_peak + 1_000_000, f"peak grew from {hour_peak / 1e6:.1f} MB (1 h) to {day_peak / 1e6:.1f} MB (24 h)"
    assert day_peak < 32_000_000, f"tracemalloc peak {day_peak / 1e6:.1f} MB while streaming a 24-hour Holter (budget 32 MB)"


# ------------------------------------------------------------------ classification
def test_predict_proba_aggregates_per_example(classifier, tiny_tokenizer, record):
    enc = tiny_tokenizer(ecg=[record[:, :4000], record[:, 4000:6000]], sampling_rate=360, truncation=True, max_length=100)
    sequences = [list(s) for s in enc["input_ids"]]
    owners = list(enc["overflow_to_sample_mapping"])
    ids, probs = inf.predict_proba(classifier, enc, batch_size=3)
    assert list(ids) == [0, 1]
    with torch.no_grad():
        per_sequence = [torch.softmax(classifier(input_ids=torch.tensor([s])).logits, -1)[0].numpy() for s in sequences]
    for example in (0, 1):
        expected = np.mean([p for p, o in zip(per_sequence, owners) if o == example], axis=0)
        np.testing.assert_allclose(probs[example], expected, atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    # the same from plain id lists with explicit example ids, and from padded tensors
    ids2, probs2 = inf.predict_proba(classifier, sequences, example_ids=owners)
    np.testing.assert_allclose(probs2, probs, atol=1e-6)
    padded = tiny_tokenizer.pad({"input_ids": sequences}, return_tensors="pt")
    _, probs3 = inf.predict_proba(classifier, {**padded, "example_id": owners})
    np.testing.assert_allclose(probs3, probs, atol=1e-5)


def test_predict_proba_multilabel_is_sigmoid(tiny_config, tiny_tokenizer, record):
    from heartbert_hf import HeartBertForSequenceClassification

    config = tiny_config.__class__(**{**tiny_config.to_dict(), "num_labels": 4, "problem_type": "multi_label_classification"})
    torch.manual_seed(2)
    model = HeartBertForSequenceClassification(config).eval()
    sequences = [list(s) for s in tiny_tokenizer(ecg=record[:, :8000], sampling_rate=360, truncation=True, max_length=128)["input_ids"]]
    _, probs = inf.predict_proba(model, sequences)
    with torch.no_grad():
        expected = [torch.sigmoid(model(input_ids=torch.tensor([s])).logits)[0].numpy() for s in sequences]
    np.testing.assert_allclose(probs, np.stack(expected), atol=1e-5)
    assert not np.allclose(probs.sum(axis=1), 1.0)


def test_predict_proba_checks_its_inputs(classifier):
    with pytest.raises(ValueError, match="example ids"):
        inf.predict_proba(classifier, [[0, 5, 2], [0, 6, 2]], example_ids=[0])
    with pytest.raises(ValueError, match="rhythm_features"):
        inf.predict_proba(classifier, [[0, 5, 2]], rhythm_features=np.zeros((2, 3)))
    with pytest.raises(TypeError, match="ambiguous"):
        inf.predict_proba(classifier, torch.tensor([[0, 5, 2]]))
    with pytest.raises(ValueError, match="precision"):
        inf.predict_proba(classifier, [[0, 5, 2]], precision="fp8")


def test_model_mode_is_restored(classifier):
    classifier.train()
    inf.predict_proba(classifier, [[0, 5, 2]])
    assert classifier.training
    classifier.eval()


# ------------------------------------------------------------------ devices
def test_device_selection():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert inf.select_device().type == expected
    assert inf.select_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            inf.select_device("cuda")


@pytest.mark.gpu
def test_gpu_matches_cpu(encoder, classifier, tiny_tokenizer, record):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    x = record[:, :40000]
    cpu = inf.embed_ecg(encoder, tiny_tokenizer, x, 360, device="cpu")
    gpu = inf.embed_ecg(encoder, tiny_tokenizer, x, 360, device="cuda")
    assert next(encoder.parameters()).device.type == "cuda"
    np.testing.assert_allclose(cpu.embeddings, gpu.embeddings, atol=1e-4)
    bf16 = inf.embed_ecg(encoder, tiny_tokenizer, x, 360, device="cuda", precision="bf16")
    assert _cosine(cpu.embeddings, bf16.embeddings).min() >= 0.999
    with pytest.raises(ValueError, match="CPU only"):
        inf.embed_ecg(encoder, tiny_tokenizer, x, 360, device="cuda", precision="int8")
    _, p_gpu = inf.predict_proba(classifier, [[0, 5, 6, 2], [0, 7, 2]], device="cuda")
    _, p_cpu = inf.predict_proba(classifier, [[0, 5, 6, 2], [0, 7, 2]], device="cpu")
    np.testing.assert_allclose(p_gpu, p_cpu, atol=1e-4)
    encoder.cpu()
    classifier.cpu()
