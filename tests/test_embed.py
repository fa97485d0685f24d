"""`heartbert embed` internals: the window count behind its progress bar, and the bar's updates."""

import numpy as np
import pytest


@pytest.mark.parametrize("fs, n", [(360, 20000), (250, 15000), (500, 7777), (128, 1000), (360, 300)])
def test_expected_windows_match_the_tokenizer(tiny_tokenizer, sample_signals, fs, n):
    from heartbert_hf.embed import _expected_windows

    signal = np.resize(sample_signals[0][0], n)
    try:
        got = len(tiny_tokenizer(ecg=signal, sampling_rate=fs)["input_ids"])
    except ValueError:  # too short: no window
        got = 0
    assert _expected_windows(n, 1, fs, tiny_tokenizer) == got


def test_progress_counts_every_window_once(tiny_model_dir, sample_signals):
    from transformers import AutoModel

    import heartbert_hf  # noqa: F401
    from heartbert_hf.embed import embed_windows
    from heartbert_hf.tokenization_heartbert import HeartBertTokenizer

    tokenizer = HeartBertTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModel.from_pretrained(tiny_model_dir).eval()
    updates = []
    rows = embed_windows(model, tokenizer, sample_signals[2][:, :20000], 360, max_length=128, batch_size=8, progress=updates.append)
    assert len(rows) == 10 and sum(updates) == 10  # 2 leads x 5 windows
    assert len(updates) > 1 and all(u >= 0 for u in updates)  # updated after each forward pass, not once per record
