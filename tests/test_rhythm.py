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
