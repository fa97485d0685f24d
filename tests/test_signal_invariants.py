"""Signal → text invariants at every sampling rate (issue 10, kind 2).

* a constant offset (DC, ADC baseline) or a positive gain leaves the scaled windows and the level
  text unchanged up to float rounding, whatever the rate;
* resampling keeps timing to within one sample over a long record, at integer and decimal rates;
* a dead (constant) lead is flat at every rate, as at 360 Hz.

Inputs are built here from the shipped sample records (their content only matters as realistic ECG;
they are declared at the rate under test).
"""

import numpy as np
import pytest

from heartbert_hf import ecg_signal as S

RATES = [128, 250, 257.3, 360, 499.98, 500, 1000, 1024]


def changed_fraction(tok, a, b):
    """Fraction of level characters that differ between two window lists of equal shapes."""
    ta = np.concatenate([tok.quantizer.encode(w) for w in a])
    tb = np.concatenate([tok.quantizer.encode(w) for w in b])
    return float(np.mean(ta != tb))


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda x: x - 10.0, id="minus-10mV"),
        pytest.param(lambda x: x + 1e3, id="plus-1V"),
        pytest.param(lambda x: x * 1000.0, id="mV-to-uV"),
        pytest.param(lambda x: x * 0.001 - 0.2, id="to-volts-with-offset"),
    ],
)
def test_offset_and_gain_leave_windows_unchanged(tiny_tokenizer, sample_signals, fs, transform):
    x = sample_signals[0][:, :15000]  # 2 leads
    ref, ref_index = S.prepare_windows(x, fs)
    out, out_index = S.prepare_windows(transform(x), fs)
    assert out_index == ref_index
    assert max(np.max(np.abs(a - b)) for a, b in zip(ref, out)) < 1e-9
    assert changed_fraction(tiny_tokenizer, ref, out) < 1e-3


@pytest.mark.parametrize("fs", [250, 500, 257.3])
def test_unsigned_adc_counts_tokenize_like_signed_counts(tiny_tokenizer, sample_signals, fs):
    mv = sample_signals[1][0, :12000]
    counts = np.round(mv * 200)
    unsigned = (counts + 512).astype(np.uint16)  # a 10-bit unsigned front end
    a, _ = tiny_tokenizer.ecg_to_text(counts, fs)
    b, _ = tiny_tokenizer.ecg_to_text(unsigned, fs)
    diff = np.mean([p != q for ta, tb in zip(a, b) for p, q in zip(ta, tb)])
    assert diff < 1e-3


@pytest.mark.parametrize("fs", [128, 250, 257.3, 499.98, 500, 1000, 1000 / 3])
@pytest.mark.parametrize("value", [0.1, -3.7, 512.0])
def test_a_constant_stays_constant_through_resampling(fs, value):
    y = S.resample(np.full((1, 4000), value), fs)
    assert np.max(np.abs(y - value)) <= 1e-12 * abs(value)


def test_resampling_ends_have_no_edge_transient(sample_signals):
    """Down to 250 Hz and back: the first and last samples are as close to the truth as the middle."""
    from scipy.signal import resample_poly

    truth = sample_signals[0][0, 36000:50400]  # 40 s at 360 Hz
    at_250 = resample_poly(sample_signals[0][0], 25, 36)[25000:35000]  # the same 40 s, resampled with no edge
    back = S.resample(at_250, 250)
    err = np.abs(back - truth)
    assert back.shape == truth.shape
    assert err[:30].max() < 2 * err[100:-100].max() and err[-30:].max() < 2 * err[100:-100].max()


def timing_error_samples(fs, seconds, freq=0.7, target=360):
    """Resample a long sine from ``fs`` and measure, on its last 10 s, how far (in samples at ``target``)
    it sits from the true sine: the accumulated drift of the rate conversion."""
    n = int(seconds * fs)
    x = np.sin(2 * np.pi * freq * np.arange(n) / fs)
    y = S.resample(x, fs, target)
    k = np.arange(len(y) - 10 * target, len(y) - target)  # away from the last second
    t = k / target
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    (a, b), *_ = np.linalg.lstsq(basis, y[k], rcond=None)
    phase = np.arctan2(b, a)  # y ~ sin(w t + phase)
    return abs(phase) / (2 * np.pi * freq) * target, len(y), n * target / fs


@pytest.mark.parametrize("fs", [250, 257.3, 499.98, 130.1, 1000 / 3])
def test_resampling_keeps_timing_over_one_hour(fs):
    drift, n_out, ideal = timing_error_samples(fs, 3600)
    assert drift <= 1.0, f"{fs} Hz: {drift:.2f} samples off after 1 h"
    assert abs(n_out - ideal) <= 1


def test_poly_factors_are_exact_for_decimal_rates():
    assert S.poly_factors(257.3, 360, 10**9) == (3600, 2573)
    assert S.poly_factors(500, 360, 10**9) == (18, 25)
    assert S.poly_factors(1000 / 3, 360, 10**9) == (27, 25)  # no decimal form: its best small ratio
    up, down = S.poly_factors(360 * np.pi, 360, 10**6)
    assert 10**6 * abs(up / down - 1 / np.pi) <= 0.5


def test_fft_fallback_keeps_timing(monkeypatch):
    monkeypatch.setattr(S, "MAX_POLY_FACTOR", 5)  # no usable polyphase ratio: the FFT route
    assert S.poly_factors(257.3, 360, 257 * 600) is None
    drift, n_out, ideal = timing_error_samples(257.3, 600)
    assert drift <= 1.0 and abs(n_out - ideal) <= 1


@pytest.mark.parametrize("fs", [250, 360, 500, 1000, 257.3])
@pytest.mark.parametrize("value", [0.25, 0.1, -1.3])
def test_dead_lead_is_flat_at_every_rate(tiny_tokenizer, sample_signals, fs, value):
    x = np.vstack([sample_signals[0][:, :6000], sample_signals[1][:1, :6000]])  # 3 live leads
    x[1] = value  # lead 1 disconnected
    with pytest.raises(ValueError, match=r"lead 1, window 0 .*flat"):
        S.prepare_windows(x, fs)
    with pytest.raises(ValueError, match="flat"):
        tiny_tokenizer(ecg=x, sampling_rate=fs)
    enc = tiny_tokenizer(ecg=x, sampling_rate=fs, drop_flat=True)
    assert set(enc["lead_index"]) == {0, 2}


@pytest.mark.parametrize("fs", [250, 500])
def test_lead_off_in_one_window_drops_only_that_window(sample_signals, fs):
    n = round(8000 * fs / 360)  # two 4000-sample windows at 360 Hz
    x = sample_signals[0][:, :n].copy()
    x[0, n // 2 :] = 0.3  # lead 0 goes dead for the second window
    _, index = S.prepare_windows(x, fs, drop_flat=True)
    assert index == [(0, 0), (1, 0), (1, 1)]
    with pytest.raises(ValueError, match=r"lead 0, window 1 .*flat"):
        S.prepare_windows(x, fs)


def test_flatness_uses_a_relative_tolerance():
    assert S.flat_leads(np.array([[0.1, 0.1 + 2e-17, 0.1 - 1e-17] * 100])).tolist() == [True]  # rounding of one value
    assert S.flat_leads(np.array([[512.0] * 300])).tolist() == [True]
    tiny = 1e-6 * np.sin(np.arange(300))  # 1 µV of real signal is not flat
    assert S.flat_leads(np.vstack([tiny, tiny + 0.5])).tolist() == [False, False]


@pytest.mark.parametrize("fs", [100, 250, 360, 500, 1000, 257.3])
@pytest.mark.parametrize("steps", [(-1, 0, 1), (0, 1)])
def test_dead_lead_with_adc_noise_is_flat_at_every_rate(tiny_tokenizer, sample_signals, fs, steps):
    """Before: a dead V3 showing +/-1 ADC step (1 µV) of noise was tokenized as a live lead, levels 0..99,
    and drop_flat=True kept it (only an exact constant was flat)."""
    rng = np.random.default_rng(1)
    x = np.vstack([sample_signals[0][:, :6000], sample_signals[1][:1, :6000]])  # 3 live leads
    x[1] = 0.25 + 0.001 * rng.choice(steps, size=x.shape[1])  # lead 1 disconnected: ADC noise of 1 µV steps
    with pytest.raises(ValueError, match=rf"lead 1, window 0 .*flat signal: the lead is constant there, or takes at most {S.FLAT_MAX_VALUES} distinct values"):
        S.prepare_windows(x, fs)
    with pytest.raises(ValueError, match="flat"):
        tiny_tokenizer(ecg=x, sampling_rate=fs)
    enc = tiny_tokenizer(ecg=x, sampling_rate=fs, drop_flat=True)
    assert set(enc["lead_index"]) == {0, 2}
    from heartbert_hf.window_tokens import iter_window_tokens  # the block reader behind embed_ecg

    with pytest.raises(ValueError, match=r"rec: lead 1, window 0 .*flat signal"):
        list(iter_window_tokens(tiny_tokenizer, x, fs, name="rec"))
    kept = [t for block in iter_window_tokens(tiny_tokenizer, x, fs, drop_flat=True) for t in block]
    assert {t.lead for t in kept} == {0, 2}


def test_flatness_counts_distinct_values_unit_free():
    live = np.round(np.sin(np.arange(400) / 9) * 2)  # 5 distinct values: a signal, however coarse
    assert S.flat_leads(np.vstack([live, live * 1000 + 7, np.sign(live)])).tolist() == [False, False, True]


def test_no_real_window_is_flat(shared_physionet):
    """FLAT_MAX_VALUES was chosen so that no (record, lead, window) of the shared PhysioNet ECGs is flat
    (their fewest distinct values per full window: 30; per 1-s window at the recorded rate: 7)."""
    wfdb = pytest.importorskip("wfdb")
    checked = 0
    for hea in sorted(shared_physionet.glob("*/*.hea")) + sorted(shared_physionet.glob("ptb-xl/records*/*/*.hea")):
        rec = wfdb.rdrecord(str(hea.with_suffix("")))
        ecg = [i for i, name in enumerate(rec.sig_name) if name.upper() not in ("ABP", "PLETH", "VX", "VY", "VZ")]
        x = rec.p_signal.T[ecg]
        for start, stop in S.window_bounds(S.resampled_length(x.shape[1], rec.fs)):
            first, last = S.input_span(start, stop, rec.fs / S.TARGET_RATE, x.shape[1])
            flat = S.flat_leads(x[:, first:last])
            assert not flat.any(), f"{hea.stem}: lead {rec.sig_name[ecg[int(np.argmax(flat))]]}, windows {start}:{stop} at 360 Hz"
            checked += len(flat)
    assert checked > 9000


def test_flat_leads_sorts_in_full_only_when_the_prefix_is_poor():
    """A lead constant for its first samples but live after them is not flat; one whose every sample
    takes one of 3 values is, wherever its values change; 1-D input gives a 0-d answer."""
    from heartbert_hf.ecg_signal import FLAT_MAX_VALUES, PREFIX_SAMPLES, flat_leads

    rng = np.random.default_rng(0)
    late_live = np.zeros(4000)
    late_live[PREFIX_SAMPLES * 2 :] = rng.normal(size=4000 - PREFIX_SAMPLES * 2)
    late_noise = np.zeros(4000)
    late_noise[PREFIX_SAMPLES * 2 :] = rng.integers(-1, 2, size=4000 - PREFIX_SAMPLES * 2)  # 3 values: -1, 0, 1
    four = np.tile(np.arange(FLAT_MAX_VALUES + 1, dtype=float), 1000)  # 4 values: not flat
    segment = np.stack([late_live, late_noise, four, rng.normal(size=4000)])
    assert flat_leads(segment).tolist() == [False, True, False, False]
    assert flat_leads(late_noise).shape == () and bool(flat_leads(late_noise))
