"""benchmarks/mitdb_context_embeddings.py's beat vectors, on the shipped 118 excerpt and a tiny model (the benchmark itself never runs here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "mitdb_context_embeddings.py"


def test_context_vectors_pool_the_tokens_around_each_beat(tiny_model_dir, sample_dir):
    from heartbert_hf import HeartBertModel
    from heartbert_hf.runtime import load_heartbert_processor

    spec = importlib.util.spec_from_file_location("mitdb_context_embeddings_script", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    lead, fs, peaks, labels, rr, morphology = script.record_beats(str(sample_dir / "118"))
    assert len(peaks) == len(labels) == len(rr) == len(morphology) > 500 and rr.shape[1] == 9 and set(labels) <= {0, 1, 2, 3}
    assert morphology.shape[1] == 42 and np.isfinite(morphology).all()  # 0.7 s at 60 Hz, in mV
    assert 0.3 < np.ptp(morphology, axis=1).mean() < 5  # a beat's QRS spans about a millivolt, not ADC counts
    assert peaks.min() >= 0.25 * fs and peaks.max() < lead.size - 0.45 * fs  # every pooling span inside the record
    from heartbert_hf.beat_context import record_stream

    model = HeartBertModel.from_pretrained(tiny_model_dir).eval()
    stream = record_stream(load_heartbert_processor(tiny_model_dir), lead, fs, max_length=64)
    vectors = script.context_vectors(model, stream, fs, peaks[:40], script.SPANS_S)
    assert vectors.shape == (40, model.config.hidden_size) and np.isfinite(vectors).all()
    assert not np.allclose(vectors[0], vectors[1]) and np.abs(vectors).sum(axis=1).min() > 0  # each beat pools tokens of its own
