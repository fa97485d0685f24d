"""heartbert_hf.rhythm: RR features, R-peak detection, beat segments."""

from __future__ import annotations

import numpy as np
import pytest

from heartbert_hf.rhythm import RR_FEATURE_NAMES, beat_segments, compare_peaks, detect_r_peaks, rr_features


def test_rr_features_values_and_edges():
    fs = 100.0
    peaks = np.array([0, 100, 200, 260, 400, 500])  # RR 1.0 1.0 0.6 1.4 1.0 s; beat 3 premature
    f = rr_features(peaks, fs)
    assert f.shape == (6, len(RR_FEATURE_NAMES)) and f.dtype == np.float32
    col = {n: f[:, i] for i, n in enumerate(RR_FEATURE_NAMES)}
    np.testing.assert_allclose(col["pre_rr"], [1.0, 1.0, 1.0, 0.6, 1.4, 1.0], rtol=1e-6)  # first beat: copies its post RR
    np.testing.assert_allclose(col["post_rr"], [1.0, 1.0, 0.6, 1.4, 1.0, 1.0], rtol=1e-6)  # last beat: copies its pre RR
    np.testing.assert_allclose(col["record_rr"], 1.0, rtol=1e-6)
    np.testing.assert_allclose(col["local_rr"][3], np.mean([1.0, 1.0, 1.0, 0.6]), rtol=1e-6)
    assert col["pre_over_post"][3] == pytest.approx(0.6 / 1.4, rel=1e-5)
    assert col["pre_rr_norm"][3] == pytest.approx(0.6, rel=1e-5)


def test_rr_features_normalised_per_record_is_rate_invariant():
    peaks = np.cumsum([0, 90, 90, 60, 120, 90, 90])
    slow = rr_features(peaks * 2, 100.0)  # the same rhythm at half the heart rate
    fast = rr_features(peaks, 100.0)
    norm = [RR_FEATURE_NAMES.index(n) for n in ("pre_rr_norm", "post_rr_norm", "local_rr_norm", "pre_over_post", "pre_over_local")]
    np.testing.assert_allclose(slow[:, norm], fast[:, norm], rtol=1e-6)
    assert not np.allclose(slow[:, 0], fast[:, 0])


def test_rr_features_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        rr_features(np.array([5]), 360)
    with pytest.raises(ValueError, match="strictly increasing"):
        rr_features(np.array([5, 5, 9]), 360)


def test_detect_r_peaks_matches_reference(sample_dir):
    import wfdb

    from heartbert_hf.data.labels import aami_class

    rec = wfdb.rdrecord(str(sample_dir / "118"))
    ann = wfdb.rdann(str(sample_dir / "118"), "atr")
    ref = np.array([s for s, sym in zip(ann.sample, ann.symbol) if aami_class(sym)])
    peaks = detect_r_peaks(rec.p_signal[:, 0], rec.fs)
    assert peaks.dtype == np.int64 and (np.diff(peaks) > 0).all()
    cmp = compare_peaks(ref, peaks, rec.fs)
    assert cmp["sensitivity"] > 0.99 and cmp["ppv"] > 0.99
    # at another sampling rate the detector still finds the same beats
    from scipy.signal import resample_poly

    peaks_250 = detect_r_peaks(resample_poly(rec.p_signal[:, 0], 25, 36), 250.0)
    assert compare_peaks(np.round(ref * 250 / 360).astype(int), peaks_250, 250.0)["sensitivity"] > 0.98


def test_detect_r_peaks_bad_input():
    with pytest.raises(ValueError, match="1-D"):
        detect_r_peaks(np.zeros((2, 1000)), 360)
    with pytest.raises(ValueError, match="at least 2 s"):
        detect_r_peaks(np.zeros(100), 360)
    assert detect_r_peaks(np.zeros(2000), 360).size == 0


def test_beat_segments_centres_and_pads():
    sig = np.arange(20, dtype=np.float32)[None, :]
    seg = beat_segments(sig, 10.0, np.array([0, 10, 19]), 0.3)
    assert seg.shape == (3, 1, 7)
    np.testing.assert_array_equal(seg[1, 0], np.arange(7, 14))
    np.testing.assert_array_equal(seg[0, 0], [0, 0, 0, 0, 1, 2, 3])  # edge-padded at the start
    assert seg[2, 0, 3] == 19 and seg[2, 0, -1] == 19
    with pytest.raises(ValueError, match="inside the record"):
        beat_segments(sig, 10.0, np.array([25]), 0.3)


@pytest.fixture(scope="module")
def lead_118(sample_dir):
    """MLII of the shipped 118 excerpt (mV, 360 Hz) and its reference beats of an AAMI class."""
    import wfdb

    from heartbert_hf.data.labels import aami_class

    rec = wfdb.rdrecord(str(sample_dir / "118"), channel_names=["MLII"])
    ann = wfdb.rdann(str(sample_dir / "118"), "atr")
    ref = np.array([s for s, sym in zip(ann.sample, ann.symbol) if aami_class(sym)])
    return rec.p_signal[:, 0], rec.fs, ref


@pytest.mark.parametrize("after_s", [0.25, 0.4, 0.6])
def test_detect_r_peaks_finds_the_beats_at_both_ends_of_a_short_strip(lead_118, after_s):
    """GQRS alone never reports a record's last beat, nor a first one a few tenths of a second in (10-s
    12-lead strips lost one beat in eleven); the mirror padding recovers both."""
    lead, fs, ref = lead_118
    first, last = ref[20], ref[31]  # a 10-s-ish strip: from 0.2 s before beat 20 to `after_s` after beat 31
    start, stop = first - int(0.2 * fs), last + int(after_s * fs)
    strip_ref = ref[(ref >= start) & (ref < stop)] - start
    found = detect_r_peaks(lead[start:stop], fs)
    cmp = compare_peaks(strip_ref, found, fs)
    assert cmp["fn"] == 0 and cmp["fp"] == 0, cmp
    assert abs(found[0] - strip_ref[0]) < 0.05 * fs and abs(found[-1] - strip_ref[-1]) < 0.05 * fs


@pytest.mark.parametrize("median_mv", [0.6, 0.8])
def test_detect_r_peaks_on_a_low_amplitude_lead_finds_the_same_beats(sample_dir, median_mv):
    """A lead of a few hundred µV peak to peak (PTB's lead ii, PTB-XL lead II) loses under 1 % of the beats
    the same lead gives at MIT-BIH amplitude. Before: 208's MLII at a 0.6 / 0.8 mV median lost 12 / 6 %."""
    import wfdb

    from heartbert_hf.data.labels import aami_class
    from heartbert_hf.rhythm import DETECTION_AMPLITUDE_MV, detection_gain

    rec = wfdb.rdrecord(str(sample_dir / "208"), channel_names=["MLII"])
    ann = wfdb.rdann(str(sample_dir / "208"), "atr")
    ref = np.array([s for s, sym in zip(ann.sample, ann.symbol) if aami_class(sym)])
    lead, fs = rec.p_signal[:, 0], rec.fs
    median = np.median(np.ptp(lead[: lead.size // int(fs) * int(fs)].reshape(-1, int(fs)), axis=1))
    small = lead * (median_mv / median)
    assert detection_gain(lead, fs) == 1.0 and detection_gain(small, fs) == pytest.approx(DETECTION_AMPLITUDE_MV / median_mv, rel=1e-6)
    full = compare_peaks(ref, detect_r_peaks(lead, fs), fs)
    cmp = compare_peaks(ref, detect_r_peaks(small, fs), fs)
    assert cmp["sensitivity"] >= full["sensitivity"] - 0.01 and cmp["ppv"] > 0.99, (cmp, full)


def test_detect_r_peaks_does_not_scale_noise_or_a_lead_the_beats_barely_show_on(sample_dir):
    """Scaling every weak lead up made GQRS find ~100 'beats'/min in noise and 1,181 (+P 0.47) on V1 of
    101; below DETECTION_MIN_AMPLITUDE_MV a lead is detected as it is (and classify-beats warns on the rate)."""
    import wfdb

    from heartbert_hf.rhythm import detection_gain

    rng = np.random.default_rng(0)
    for sigma in (0.005, 0.02, 0.05):
        noise = rng.normal(0.0, sigma, 36_000)  # 100 s at 360 Hz, no ECG
        assert detection_gain(noise, 360.0) == 1.0 and detect_r_peaks(noise, 360.0).size == 0
    rec = wfdb.rdrecord(str(sample_dir / "101"), channel_names=["V1"])  # median peak-to-peak 0.15 mV
    assert detection_gain(rec.p_signal[:, 0], rec.fs) == 1.0
