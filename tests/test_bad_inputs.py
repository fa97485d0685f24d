"""Odd real-world inputs found by fuzzing the public entry points: each is read correctly or refused clearly.

One test per kind of fault: out-of-range sampling rates, impossible sample magnitudes, missing samples
in lists, a truncating max_length with no room for content, bad rates and peaks in the rhythm helpers,
GQRS below its lowest rate, and WFDB header fields that ``wfdb`` silently reads as something else.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from heartbert_hf.window_tokens import iter_window_tokens


def _ecg(n: int, leads: int | None = None) -> np.ndarray:
    x = np.sin(2 * np.pi * np.arange(n) / 250.0) + 0.1 * np.random.default_rng(0).standard_normal(n)
    return x if leads is None else np.stack([x + i for i in range(leads)])


@pytest.mark.parametrize("fs", [0.5, 1 / 360, 1e-300, 5e-324])
def test_a_rate_below_10_hz_is_refused_before_resampling(tiny_tokenizer, fs):
    """Before: 0.001 Hz allocated ~360,000x the record (a hang), 1e-300 raised numpy's 'Maximum allowed
    dimension exceeded', 5e-324 an OverflowError; now a unit-slip hint, in the tokenizer and in the embedding path."""
    with pytest.raises(ValueError, match=r"too low for an ECG .*not 0\.5 \(kHz\)"):
        tiny_tokenizer(ecg=_ecg(400), sampling_rate=fs)
    with pytest.raises(ValueError, match="too low for an ECG"):
        next(iter_window_tokens(tiny_tokenizer, _ecg(400), fs))


@pytest.mark.parametrize("fs", [1e6, 1e9, 1e300])
def test_a_rate_far_above_the_target_resamples_or_says_too_short(tiny_tokenizer, fs):
    """Before: scipy's 'up and down must be >= 1' (tokenizer) and a ZeroDivisionError (embedding path):
    the rational approximation of 360/fs rounded to 0/1. Now the FFT path, then 'signal too short'."""
    with pytest.raises(ValueError, match="signal too short"):
        tiny_tokenizer(ecg=_ecg(361), sampling_rate=fs)
    with pytest.raises(ValueError, match="signal too short"):
        next(iter_window_tokens(tiny_tokenizer, _ecg(361), fs))
    enc = tiny_tokenizer(ecg=_ecg(2_000_000), sampling_rate=1e6)  # 2 s at 1 MHz: 720 samples at 360 Hz, one window
    assert set(enc["window_index"]) == {0}


def test_a_0d_array_rate_is_a_number(tiny_tokenizer):
    """``np.load("x.npz")["fs"]`` is a 0-d array: it used to be refused as 'got ndarray'."""
    x = _ecg(5000)
    assert tiny_tokenizer(ecg=x, sampling_rate=np.array(500.0))["input_ids"] == tiny_tokenizer(ecg=x, sampling_rate=500)["input_ids"]
    with pytest.raises(ValueError, match="got 2 sampling rates for 1 ECGs"):
        tiny_tokenizer(ecg=x, sampling_rate=np.array([500.0, 360.0]))


@pytest.mark.parametrize("fs", [360, 500])
def test_impossible_magnitudes_are_refused_not_tokenized(tiny_tokenizer, fs):
    """Before: x * 1e308 overflowed inside min-max scaling (360 Hz: NaN windows tokenized silently) or
    the resampler's mean (500 Hz: 'contains NaN or inf' for an input without any); now the value is named."""
    x = _ecg(5000) * 1e308
    with pytest.raises(ValueError, match=r"impossible value .* at lead 0, sample 0.*wrong dtype or byte order"):
        tiny_tokenizer(ecg=x, sampling_rate=fs)
    with pytest.raises(ValueError, match=r"ecg: lead 0, window 0 has the impossible value .*input sample 0"):
        next(iter_window_tokens(tiny_tokenizer, x, fs))
    big_ints = np.array([np.iinfo(np.int64).max, 0] * 2500)
    with pytest.raises(ValueError, match="impossible value 9.22337e\\+18"):
        tiny_tokenizer(ecg=big_ints, sampling_rate=fs)
    ok = tiny_tokenizer(ecg=(_ecg(5000) * 2**31).astype(np.int64), sampling_rate=fs)  # 32-bit ADC counts are fine
    assert len(ok["input_ids"]) > 0


def test_none_in_a_list_is_a_missing_sample_and_numbers_do_not_mix_with_arrays(tiny_tokenizer):
    """Before: [0.1, None, ...] was read as a batch of 5000 ECGs ('ecg[0] ... 0-D array')."""
    samples = list(_ecg(5000))
    samples[3] = None
    with pytest.raises(ValueError, match=r"NaN or inf \(first at lead 0, sample 3"):
        tiny_tokenizer(ecg=samples, sampling_rate=360)
    with pytest.raises(TypeError, match="mixes single numbers and arrays"):
        tiny_tokenizer(ecg=[_ecg(5000), 1.0], sampling_rate=360)


@pytest.mark.parametrize("max_length", [-1, 0, 1, 2])
def test_a_truncating_max_length_without_room_for_content_is_refused(tiny_tokenizer, max_length):
    """Before: 0 and 1 did not truncate at all (whole windows of thousands of tokens, though every ECG
    sequence is promised to fit max_length), 2 gave content-free <s></s> sequences, -1 a Rust OverflowError."""
    with pytest.raises(ValueError, match="at least 3"):
        tiny_tokenizer(ecg=_ecg(5000), sampling_rate=360, max_length=max_length)
    with pytest.raises(ValueError, match="at least 3"):
        tiny_tokenizer(chr(65) * 50, truncation=True, max_length=max_length)
    enc = tiny_tokenizer(ecg=_ecg(5000), sampling_rate=360, max_length=3)
    assert max(map(len, enc["input_ids"])) == 3
    assert max(map(len, tiny_tokenizer(ecg=_ecg(5000), sampling_rate=360, max_length=1, add_special_tokens=False)["input_ids"])) == 1


def test_rhythm_helpers_check_rates_and_peaks():
    """Before: a str rate gave "'<=' not supported", True was 1 Hz, NaN peaks gave all-NaN features."""
    from heartbert_hf.rhythm import beat_segments, detect_r_peaks, rr_features

    with pytest.raises(TypeError, match="must be a number"):
        rr_features([10, 20, 30], "360")
    with pytest.raises(TypeError, match="must be a number"):
        rr_features([10, 20, 30], True)
    with pytest.raises(ValueError, match="R peak 1 is nan"):
        rr_features([10, np.nan, 30], 360)
    with pytest.raises(ValueError, match="R peak 0 is nan"):
        beat_segments(_ecg(1000), 360, [np.nan], 0.1)
    with pytest.raises(TypeError, match="must be a number"):
        detect_r_peaks(_ecg(1000), "360")
    with pytest.raises(ValueError, match="positive and finite"):
        detect_r_peaks(_ecg(1000), float("nan"))


@pytest.mark.parametrize("fs", [30.0, 50.0])
def test_r_peaks_are_found_below_the_gqrs_rate(sample_dir, fs):
    """Before: wfdb's GQRS raised a bare ``Exception('Sampling rate is too low')`` below ~57 Hz, which
    the commands' ValueError handling did not catch. Now it detects on a 360 Hz copy."""
    import wfdb

    from heartbert_hf.ecg_signal import resample
    from heartbert_hf.rhythm import compare_peaks, detect_r_peaks

    rec = wfdb.rdrecord(str(sample_dir / "101"))
    ref = wfdb.rdann(str(sample_dir / "101"), "atr").sample
    slow = resample(rec.p_signal[:, 0], 360, fs)
    peaks = detect_r_peaks(slow, fs)
    assert peaks.dtype == np.int64 and (np.diff(peaks) > 0).all() and peaks.max() < slow.size
    score = compare_peaks(np.round(ref[ref < rec.sig_len] * fs / 360).astype(np.int64), peaks, fs)
    assert score["sensitivity"] > 0.95 and score["ppv"] > 0.95


def _edited_header(sample_dir, tmp_path, name: str, edit) -> str:
    shutil.copy(sample_dir / "101.dat", tmp_path / f"{name}.dat")
    lines = (sample_dir / "101.hea").read_text().splitlines()
    lines = [line.replace("101", name, 1) for line in lines]
    (tmp_path / f"{name}.hea").write_text("\n".join(edit(lines)) + "\n")
    return str(tmp_path / name)


def _field(lines: list[str], row: int, col: int, value: str) -> list[str]:
    fields = lines[row].split()
    fields[col] = value
    return lines[:row] + [" ".join(fields)] + lines[row + 1 :]


@pytest.mark.parametrize(
    ("row", "col", "value", "read_as"),
    [(0, 2, "-360", "250 Hz"), (0, 2, "1e9", "1 Hz"), (0, 2, "0", "0 Hz"), (1, 2, "nan/mV", "200")],
)
def test_wfdb_header_fields_read_as_something_else_are_refused(sample_dir, tmp_path, row, col, value, read_as):
    """Before: wfdb silently fell back to defaults (fs -360 → 250 Hz, 1e9 → 1 Hz, gain nan → 200) and the
    record was embedded at the wrong rate or scale; a 0 Hz header failed later, far from the header."""
    from heartbert_hf.data.wfdb_io import read_record

    path = _edited_header(sample_dir, tmp_path, "odd", lambda lines: _field(lines, row, col, value))
    with pytest.raises(ValueError, match=rf"odd\.hea.*{value!r}.*wfdb reads it as {read_as}"):
        read_record(path)


def test_wfdb_defaults_the_standard_defines_are_kept(sample_dir, tmp_path):
    """WFDB's own defaults stay accepted: no sampling frequency means 250 Hz, an ADC gain of 0 means 200."""
    from heartbert_hf.data.wfdb_io import read_record

    no_fs = read_record(_edited_header(sample_dir, tmp_path, "nofs", lambda lines: [" ".join(lines[0].split()[:2])] + lines[1:]))
    assert no_fs.sampling_rate == 250.0
    gain0 = read_record(_edited_header(sample_dir, tmp_path, "gainzero", lambda lines: _field(lines, 1, 2, "0/mV")))
    assert gain0.sampling_rate == 360.0 and np.isfinite(gain0.signal).all()


@pytest.mark.parametrize(("seconds", "gain"), [(10.0, 100.0), (600.0, 1.0)])
def test_a_strip_too_tall_or_long_for_ecg_paper_gets_plain_grid_lines(tmp_path, caplog, seconds, gain):
    """Before: an uncalibrated lead labelled mV (WFDB gain 0: ±160 'mV') or a 10-minute strip drew
    thousands of paper lines, with matplotlib's 'Locator attempting to generate N ticks' once per line."""
    import logging

    from heartbert_hf.plotting import plot_beat_labels

    fs = 360.0
    x = _ecg(int(seconds * fs)) * gain
    beats = np.arange(100, x.size, 300)
    with caplog.at_level(logging.WARNING, logger="matplotlib"):
        out = plot_beat_labels(x, fs, beats, ["N"] * len(beats), tmp_path / "strip.png", seconds=seconds)
    assert out.stat().st_size > 0
    assert not [r for r in caplog.records if "MAXTICKS" in r.getMessage()]


def test_plot_errors_name_the_record(tiny_model_dir, tmp_path, capsys):
    """Before: ``heartbert plot`` on a lead-off record said 'lead 0, window 0: flat signal ...' without the record."""
    import wfdb

    from heartbert_hf.plots import main

    wfdb.wrsamp("deadlead", fs=360, units=["mV"], sig_name=["MLII"], p_signal=np.ones((5000, 1)), fmt=["16"], write_dir=str(tmp_path))
    assert main(["--record", str(tmp_path / "deadlead"), "--tokenizer", str(tiny_model_dir), "--output", str(tmp_path / "p.png")]) == 2
    assert "record deadlead: lead 0, window 0: flat signal" in capsys.readouterr().err


@pytest.mark.parametrize("fs", [250.0, 500.0, 1000 / 3])
def test_the_embedding_path_sees_a_dead_window_at_any_rate(tiny_tokenizer, fs):
    """Before: iter_window_tokens (embed_ecg, ``heartbert embed``) resampled each block before the processor
    judged flatness, so a lead-off window between live ones became filter ringing: embedded as ECG, and
    kept by drop_flat. The processor refused or dropped it. Now both judge it on the input samples."""
    x = _ecg(int(fs * 40))
    per_window = fs * 4000 / 360
    x[int(per_window) - 5 : int(2 * per_window) + 5] = 0.3  # window 1 is constant
    with pytest.raises(ValueError, match=r"lead 0, window 1 "):
        tiny_tokenizer(ecg=x, sampling_rate=fs)
    with pytest.raises(ValueError, match=r"ecg: lead 0, window 1 \(input samples \d+:\d+ at .* Hz\): flat signal"):
        list(iter_window_tokens(tiny_tokenizer, x, fs))
    kept = [(w.lead, w.window) for block in iter_window_tokens(tiny_tokenizer, x, fs, drop_flat=True) for w in block]
    assert kept == [(0, 0), (0, 2), (0, 3)]
    assert sorted(set(tiny_tokenizer(ecg=x, sampling_rate=fs, drop_flat=True)["window_index"])) == [0, 2, 3]


def test_the_embedding_path_reads_a_list_of_arrays_as_the_tokenizer_does(tiny_tokenizer):
    """Before: embed_ecg(model, proc, [a, b]) read two equal-length ECGs as the two leads of one (the
    tokenizer reads them as a batch of two), and unequal ones failed advising to pass 'a list of arrays'."""
    a = _ecg(5000)
    with pytest.raises(TypeError, match="list of 2 ECGs; this takes one ECG"):
        next(iter_window_tokens(tiny_tokenizer, [a, a + 1], 360))
    one = [w.ids for block in iter_window_tokens(tiny_tokenizer, [a], 360) for w in block]
    assert one == [w.ids for block in iter_window_tokens(tiny_tokenizer, a, 360) for w in block]
    two_leads = [w.lead for block in iter_window_tokens(tiny_tokenizer, [list(a), list(a + 1)], 360) for w in block]
    assert sorted(set(two_leads)) == [0, 1]  # nested lists of numbers stay (leads, samples)


def test_rates_per_signal_must_match_the_signals_when_fitting():
    """Before: fewer rates than signals ended in 'RuntimeError: generator raised StopIteration', more were ignored."""
    from heartbert_hf import HeartBertFeatureExtractor, HeartBertTokenizer

    signals = [_ecg(5000), _ecg(5000), _ecg(5000)]
    for rates in ([360, 500], [360, 500, 250, 128]):
        with pytest.raises(ValueError, match=f"got {len(rates)} sampling rates for 3 signals"):
            HeartBertFeatureExtractor.fit(signals, rates, show_progress=False)
        with pytest.raises(ValueError, match=f"got {len(rates)} sampling rates for 3 signals"):
            HeartBertTokenizer.train_from_ecg(signals, rates, vocab_size=200, show_progress=False)
    with pytest.raises(ValueError, match=r"signal 1: signal contains NaN"):
        HeartBertFeatureExtractor.fit([_ecg(5000), np.full(5000, np.nan)], 360, show_progress=False)


def test_an_empty_text_batch_is_refused(tiny_tokenizer):
    """Before: tok([]) raised IndexError('list index out of range') from inside transformers."""
    with pytest.raises(ValueError, match="empty batch"):
        tiny_tokenizer([])


def test_token_ids_outside_the_vocabulary_or_not_integers_are_named(tiny_model_dir):
    """Before: an id outside the vocabulary raised torch's 'index out of range in self', and float ids
    were silently truncated (5.5 → 5) and classified."""
    from transformers import AutoModel

    from heartbert_hf import inference

    model = AutoModel.from_pretrained(tiny_model_dir)
    vocab = model.config.vocab_size
    assert inference.encode_sequences(model, [[0, 5, 2]]).shape[0] == 1
    with pytest.raises(ValueError, match=rf"sequence 1: position 1 holds token id {vocab}, outside this model's vocabulary 0..{vocab - 1}"):
        inference.encode_sequences(model, [[0, 5, 2], [0, vocab, 2]])
    with pytest.raises(ValueError, match="sequence 0: position 1 holds token id -5"):
        inference.encode_sequences(model, [[0, -5, 2]])
    with pytest.raises(ValueError, match="sequence 0: position 1 is 5.5, not an integer token id"):
        inference.encode_sequences(model, [[0, 5.5, 2]])
    with pytest.raises(ValueError, match="sequence 0: position 0 is 0.0, not an integer token id"):
        inference.encode_sequences(model, [[0.0, 5.5, 2.0]])
    with pytest.raises(ValueError, match="sequence 0: position 0 is 'ABCD', not an integer token id"):
        inference.encode_sequences(model, ["ABCD"])


BAD_TOKEN_IDS = [
    ([0, 5, 999999, 2], r"position 2 holds token id 999999, outside this tokenizer's vocabulary 0\.\.399"),
    ([0, -5, 2], r"position 1 holds token id -5, outside this tokenizer's vocabulary"),
    ([0, 5.5, 2], r"position 1 is 5\.5, not an integer token id"),
    (np.array([0.0, 5.0, 2.0]), r"position 0 is 0\.0, not an integer token id"),
    ([0, None, 2], r"position 1 is None, not an integer token id"),
    ("ABC", r"position 0 is 'ABC', not an integer token id"),
    ([0, 2**70, 2], r"position 1 holds token id 1180591620717411303424, outside"),
]


@pytest.mark.parametrize("ids, message", BAD_TOKEN_IDS)
def test_bad_token_ids_are_named_in_every_decode_path(tiny_tokenizer, ids, message):
    """Before: decode / decode_signal silently dropped an id past the vocabulary (999999 gave the text
    of the others), and floats or negative ids raised a bare TypeError / OverflowError from tokenizers."""
    import torch

    from heartbert_hf import HeartBertProcessor

    processor = HeartBertProcessor.from_tokenizer(tiny_tokenizer)
    assert len(tiny_tokenizer) == 400
    for decode in (tiny_tokenizer.decode, tiny_tokenizer.decode_signal, processor.decode, processor.decode_signal):
        with pytest.raises(ValueError, match="^token ids: " + message):
            decode(ids)
    for batch_decode in (tiny_tokenizer.batch_decode, processor.batch_decode, tiny_tokenizer.decode):
        with pytest.raises(ValueError, match="^sequence 1: " + message):
            batch_decode([[0, 5, 2], ids if not isinstance(ids, str) else [ids]])
    if isinstance(ids, np.ndarray):  # a float tensor too
        with pytest.raises(ValueError, match="not an integer token id"):
            processor.decode_signal(torch.tensor(ids))


def test_good_token_ids_still_decode(tiny_tokenizer):
    import torch

    from heartbert_hf import HeartBertProcessor

    processor = HeartBertProcessor.from_tokenizer(tiny_tokenizer)
    ids = tiny_tokenizer("ABCDEFGH")["input_ids"]
    assert tiny_tokenizer.decode(ids, skip_special_tokens=True) == "ABCDEFGH"
    assert tiny_tokenizer.batch_decode([ids, ids], skip_special_tokens=True) == ["ABCDEFGH"] * 2
    for given in (ids, np.asarray(ids, dtype=np.int32), torch.tensor(ids)):
        np.testing.assert_array_equal(processor.decode_signal(given), tiny_tokenizer.quantizer.from_text("ABCDEFGH"))
    assert tiny_tokenizer.decode(ids[1]) == tiny_tokenizer.decode([ids[1]]) != ""  # one bare id, as transformers allows
    with pytest.raises(ValueError, match=rf"decode_signal takes one sequence of token ids, got an array of shape \(2, {len(ids)}\)"):
        processor.decode_signal([ids, ids])


def test_bad_level_ids_are_named(tiny_tokenizer):
    """Before: Quantizer.decode([1.5]) raised numpy's bare IndexError and ids_to_text([1.5]) silently wrote level 1."""
    from heartbert_hf import ids_to_text

    q = tiny_tokenizer.quantizer
    assert ids_to_text([0, 1, 2]) == "ABC" and q.decode(np.array([[0, 99]])).shape == (1, 2)
    with pytest.raises(ValueError, match="level ids: position 1 is 1.5, not an integer level id"):
        ids_to_text([0, 1.5])
    with pytest.raises(ValueError, match="level ids: position 0 is 1.5, not an integer level id"):
        q.decode([1.5])
    with pytest.raises(ValueError, match=r"level ids: position \(0, 1\) holds level id 100, outside the 100 levels 0..99"):
        q.decode(np.array([[0, 100]]))
    with pytest.raises(ValueError, match="level ids: position 0 holds level id -1"):
        ids_to_text([-1])


def test_a_time_or_sample_number_column_is_not_read_as_a_lead(tiny_tokenizer):
    """Before: the 'sample #' / time column of a CSV export (a DataFrame column, or the first row of an
    array) was tokenized and embedded as one more lead, silently. A ramp beside real leads is refused;
    a signal made only of ramps warns and is tokenized."""
    import pandas as pd

    x = _ecg(5000)
    with pytest.raises(ValueError, match=r"column 'sample #' is an exact linear ramp \(0 to 4999 in steps of 1\)"):
        tiny_tokenizer(ecg=pd.DataFrame({"sample #": np.arange(5000), "MLII": x}), sampling_rate=360)
    with pytest.raises(ValueError, match=r"column 'time' is an exact linear ramp"):
        tiny_tokenizer(ecg=pd.DataFrame({"time": np.arange(5000) / 500, "MLII": x}), sampling_rate=500)
    with_time = np.stack([np.arange(5000) / 360, x])
    with pytest.raises(ValueError, match="lead 0 is an exact linear ramp"):
        tiny_tokenizer(ecg=with_time, sampling_rate=360)
    for fs in (360, 500):
        with pytest.raises(ValueError, match="ecg: lead 0 is an exact linear ramp"):
            next(iter_window_tokens(tiny_tokenizer, with_time, fs))
    assert len(tiny_tokenizer(ecg=pd.DataFrame({"MLII": x}), sampling_rate=360)["input_ids"]) > 0
    # a signal that is only ramps (a synthetic test signal) is tokenized, with a warning
    with pytest.warns(UserWarning, match="lead 0 is an exact linear ramp .* tokenized anyway"):
        assert len(tiny_tokenizer(ecg=np.linspace(-1, 1, 5000), sampling_rate=360)["input_ids"]) > 0
    with pytest.warns(UserWarning, match="exact linear ramp"):
        assert len(next(iter_window_tokens(tiny_tokenizer, np.linspace(-1, 1, 5000)[None], 500))) > 0
