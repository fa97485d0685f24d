"""Reference beat annotations for `classify-beats` (heartbert_hf.beat_reference) and the annotation
time resolution shared with the builders (heartbert_hf.data.annotation_time)."""

import shutil

import numpy as np
import pytest
from conftest import SAMPLE_DIR


def test_frame_numbers_are_scaled_to_a_faster_lead():
    from heartbert_hf.data.annotation_time import annotation_samples_in_lead

    # no stated resolution, or the header's: frames of 250 Hz placed in a lead at 2 x 250 Hz
    for file_rate in (None, 0.0, float("nan"), 250.0):
        assert annotation_samples_in_lead([0, 10, 125], file_rate, 250.0, 500.0, "r").tolist() == [0, 20, 250]


def test_high_resolution_annotations_are_not_scaled_twice():
    """A file written at the lead's rate (WFDB high resolution) already counts the lead's samples."""
    from heartbert_hf.data.annotation_time import annotation_samples_in_lead

    assert annotation_samples_in_lead([0, 21, 251], 500.0, 250.0, 500.0, "r").tolist() == [0, 21, 251]


def test_a_file_at_another_resolution_is_refused_naming_the_record():
    from heartbert_hf.data.annotation_time import annotation_samples_in_lead

    with pytest.raises(ValueError, match=r"record 208: 208.atr counts samples at 360 Hz.*frame rate is 250 Hz.*fs=250"):
        annotation_samples_in_lead([0, 360], 360.0, 250.0, 250.0, "record 208: 208.atr")


@pytest.fixture
def resampled_208(tmp_path):
    """Sample 208 resampled to 250 Hz, its .atr kept from the 360-Hz original (fs=360 in the file)."""
    import wfdb
    from scipy.signal import resample_poly

    rec = wfdb.rdrecord(str(SAMPLE_DIR / "208"))
    ann = wfdb.rdann(str(SAMPLE_DIR / "208"), "atr")
    sig = resample_poly(rec.p_signal, 25, 36, axis=0)
    wfdb.wrsamp("208", fs=250, units=rec.units, sig_name=rec.sig_name, p_signal=sig, fmt=["16"] * sig.shape[1], write_dir=str(tmp_path))
    wfdb.wrann("208", "atr", ann.sample, symbol=ann.symbol, fs=360, write_dir=str(tmp_path))
    return tmp_path / "208", ann, len(sig)


def test_reference_at_the_record_rate_before_resampling_is_refused(resampled_208):
    """Read as 250-Hz samples, the 360-Hz sample numbers would put beats up to seconds late (the prober measured
    56 % of them within 150 ms of a real beat): refused, as the builders refuse it."""
    from heartbert_hf.beat_reference import reference_beats

    path, _, n = resampled_208
    with pytest.raises(ValueError, match="record 208: 208.atr counts samples at 360 Hz"):
        reference_beats(path, "atr", 250.0, 250.0, n)


def test_reference_written_at_the_frame_rate_is_read(resampled_208):
    import wfdb

    from heartbert_hf.beat_reference import reference_beats

    path, ann, n = resampled_208
    samples = np.round(ann.sample * 250 / 360).astype(np.int64)
    wfdb.wrann("208", "atr", samples, symbol=ann.symbol, fs=250, write_dir=str(path.parent))
    ref = reference_beats(path, "atr", 250.0, 250.0, n)
    beats = [s for s, sym in zip(samples, ann.symbol) if sym in "NLRejAaJSVFE/fQ"]
    assert ref.samples.tolist() == sorted(set(beats)) and len(ref.classes) == len(ref.samples) > 0


def test_extension_with_a_leading_dot_finds_the_file(tmp_path):
    from heartbert_hf.beat_reference import reference_beats

    for ext in ("dat", "hea", "atr"):
        shutil.copy(SAMPLE_DIR / f"101.{ext}", tmp_path / f"101.{ext}")
    plain = reference_beats(tmp_path / "101", "atr", 360.0, 360.0)
    dotted = reference_beats(tmp_path / "101", ".atr", 360.0, 360.0)
    assert dotted is not None and dotted.samples.tolist() == plain.samples.tolist() and len(plain.samples) > 100
