"""Builders that read WFDB annotations: positions at the leads' rate (multi-frequency records), those
outside the signal dropped with a warning, records without the annotation file refused (load_physionet)
or skipped (prepare), and a split with no example refused with the records named. Built from the
shipped sample records cut short, in tmp dirs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest_data import sample_copy  # noqa: F401  (fixture)

from heartbert_hf.data import load_physionet
from heartbert_hf.data.labels import aami_class
from heartbert_hf.rhythm import rr_features

CUT = 7200  # 20 s of record 101 at 360 Hz


def _write(folder, name, p_signal, fs, sig_name, samps_per_frame=None):
    import wfdb

    kwargs = (
        {"e_p_signal": [p_signal[:, i] for i in range(p_signal.shape[1])], "samps_per_frame": samps_per_frame} if samps_per_frame else {"p_signal": p_signal}
    )
    wfdb.wrsamp(
        name,
        fs=fs,
        units=["mV"] * len(sig_name),
        sig_name=sig_name,
        fmt=["16"] * len(sig_name),
        adc_gain=[200.0] * len(sig_name),
        baseline=[0] * len(sig_name),
        write_dir=str(folder),
        **kwargs,
    )


@pytest.fixture()
def cut_101(tmp_path, sample_dir):
    """Record 101 cut to 20 s, with the full 10-min .atr of the shipped excerpt beside it."""
    import shutil

    import wfdb

    src = wfdb.rdrecord(str(sample_dir / "101"), sampto=CUT)
    folder = tmp_path / "cut"
    folder.mkdir()
    _write(folder, "101", src.p_signal, 360, src.sig_name)
    shutil.copy(sample_dir / "101.atr", folder / "101.atr")
    return folder


def test_mitdb_beats_past_the_record_end_are_dropped_with_a_warning(tmp_path, cut_101, sample_dir):
    import wfdb

    ann = wfdb.rdann(str(sample_dir / "101"), "atr")
    inside = [(s, sym) for s, sym in zip(ann.sample, ann.symbol) if s < CUT and aami_class(sym) is not None]
    outside = int((ann.sample >= CUT).sum())
    with pytest.warns(UserWarning, match=rf"mitdb record 101: {outside} of {len(ann.sample)} annotation\(s\) in 101.atr lie outside"):
        ds = load_physionet("mitdb", "beats", data_dir=cut_101, cache_dir=tmp_path / "cache")["train"]
    assert ds["r_peak"] == [int(s) for s, _ in inside]
    assert min(len(s[0]) for s in ds["signal"]) > 0
    # RR features from the beats inside the record only (a beat past the end would shift every normalised feature)
    expected = rr_features(np.array([s for s, _ in inside]), 360.0)
    np.testing.assert_allclose(np.array(ds["rr_features"]), expected, rtol=1e-5, atol=1e-5)


def test_mitdb_beats_with_no_beat_inside_the_signal_name_the_record(tmp_path, sample_dir):
    import shutil

    import wfdb

    src = wfdb.rdrecord(str(sample_dir / "101"), sampto=300)  # 0.83 s: one beat (at sample 83)
    folder = tmp_path / "d"
    folder.mkdir()
    _write(folder, "101", src.p_signal, 360, src.sig_name)
    shutil.copy(sample_dir / "101.atr", folder / "101.atr")
    with pytest.warns(UserWarning, match="mitdb record 101"), pytest.raises(ValueError, match=r"mitdb record 101: 1 annotated beat\(s\) inside the signal"):
        load_physionet("mitdb", "beats", data_dir=folder, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("annotation_fs", [180, 360, None])
def test_mitdb_beats_of_a_multi_frequency_record_sit_at_the_lead_rate(tmp_path, sample_dir, annotation_fs):
    """Frame rate 180 Hz, 2 samples per frame: .atr counts frames (fs 180 or none written) or, when
    written at 360 Hz (WFDB high resolution), lead samples."""
    import wfdb

    n = 36000
    src = wfdb.rdrecord(str(sample_dir / "101"), sampto=n)
    ann = wfdb.rdann(str(sample_dir / "101"), "atr", sampto=n - 400)
    folder = tmp_path / "mf"
    folder.mkdir()
    _write(folder, "101", src.p_signal, 180, src.sig_name, samps_per_frame=[2, 2])
    beats = [(s, sym) for s, sym in zip(ann.sample, ann.symbol) if aami_class(sym) is not None]
    written = ann.sample if annotation_fs == 360 else ann.sample // 2
    wfdb.wrann("101", "atr", written, list(ann.symbol), write_dir=str(folder), fs=annotation_fs)
    ds = load_physionet("mitdb", "beats", data_dir=folder, cache_dir=tmp_path / "cache")["train"]
    assert ds[0]["sampling_rate"] == 360
    r = np.array(ds["r_peak"])
    assert len(r) == len(beats) and np.abs(r - np.array([s for s, _ in beats])).max() <= 1
    assert all(row["r_peak_index"] == row["r_peak"] - row["start"] for row in ds.select(range(5)))


def test_annotations_at_another_rate_are_refused(tmp_path, sample_dir):
    import wfdb

    src = wfdb.rdrecord(str(sample_dir / "101"), sampto=CUT)
    ann = wfdb.rdann(str(sample_dir / "101"), "atr", sampto=CUT)
    folder = tmp_path / "r"
    folder.mkdir()
    _write(folder, "101", src.p_signal, 360, src.sig_name)
    wfdb.wrann("101", "atr", ann.sample, list(ann.symbol), write_dir=str(folder), fs=250)
    with pytest.raises(ValueError, match=r"mitdb record 101: .*101.atr counts samples at 250 Hz, but the record's frame rate is 360 Hz"):
        load_physionet("mitdb", "beats", data_dir=folder, cache_dir=tmp_path / "cache")


def _slpdb_folder(folder, sample_dir, seconds=90, frame_rate=250, samps_per_frame=1, notes_at=(1, 7500, 15000, 30000)):
    """An slpdb-format record from 101's MLII resampled to 250 Hz; stage notes at ``notes_at`` (frames)."""
    import wfdb
    from scipy.signal import resample_poly

    ecg = wfdb.rdrecord(str(sample_dir / "101"), sampto=int(seconds * 360)).p_signal[:, :1]
    rate = frame_rate * samps_per_frame
    ecg = resample_poly(ecg, rate, 360, axis=0)
    folder.mkdir()
    _write(folder, "slp01a", np.hstack([ecg, 0.5 * ecg]), frame_rate, ["ECG", "BP"], samps_per_frame=[samps_per_frame] * 2 if samps_per_frame > 1 else None)
    wfdb.wrann("slp01a", "st", np.array(notes_at), symbol=['"'] * len(notes_at), aux_note=["W", "1", "2", "R"][: len(notes_at)], write_dir=str(folder))
    return folder


def test_slpdb_stage_notes_past_the_end_warn_and_frames_are_scaled(tmp_path, sample_dir):
    folder = _slpdb_folder(tmp_path / "s1", sample_dir)  # 90 s: the note at 120 s lies past the end
    with pytest.warns(UserWarning, match=r"slpdb record slp01a: 1 of 4 annotation\(s\) in slp01a.st lie outside"):
        ds = load_physionet("slpdb", data_dir=folder, cache_dir=tmp_path / "c1", split_fractions={"train": 1.0})["train"]
    assert ds["stage"] == ["W", "1", "2"] and ds["start"] == [1, 7500, 15000]
    # 2 samples per frame at a 125-Hz frame rate: the notes count frames, the ECG runs at 250 Hz
    folder = _slpdb_folder(tmp_path / "s2", sample_dir, frame_rate=125, samps_per_frame=2, notes_at=(1, 3750, 7500))
    ds = load_physionet("slpdb", data_dir=folder, cache_dir=tmp_path / "c2", split_fractions={"train": 1.0})["train"]
    assert ds[0]["sampling_rate"] == 250 and ds["start"] == [2, 7500, 15000]
    assert ds["epoch"] == [0, 1, 2]


def test_edb_episode_notes_in_frames_are_scaled(tmp_path, sample_dir):
    import wfdb

    src = wfdb.rdrecord(str(sample_dir / "101"), sampto=36000)
    folder = tmp_path / "edb"
    folder.mkdir()
    _write(folder, "e0103", src.p_signal, 180, src.sig_name, samps_per_frame=[2, 2])
    # an ST episode from frame 9000 (50 s) to frame 12000 (66.7 s); one note past the end (frame 20000 = 111 s)
    wfdb.wrann("e0103", "atr", np.array([9000, 12000, 20000]), symbol=['"'] * 3, aux_note=["(ST0+", "ST0+)", "(T0-"], write_dir=str(folder), fs=180)
    with pytest.warns(UserWarning, match=r"edb record e0103: 1 of 3 annotation\(s\)"):
        ds = load_physionet("edb", data_dir=folder, cache_dir=tmp_path / "c", split_fractions={"train": 1.0})["train"]
    size = 4000
    flagged = [row["start"] for row in ds.select_columns(["start", "st_episode"]) if row["st_episode"]]
    assert flagged == [s for s in range(0, 36000, size) if s < 24000 and s + size > 18000]
    assert not any(ds["t_episode"])


def test_missing_annotation_file_refused_before_generation(tmp_path, sample_copy):
    (sample_copy / "208.atr").unlink()
    with pytest.raises(FileNotFoundError, match=r"mitdb beats: annotation file\(s\) missing .*208\.atr"):
        load_physionet("mitdb", "beats", data_dir=sample_copy, cache_dir=tmp_path / "cache")
    dsd = load_physionet("mitdb", "windows", data_dir=sample_copy, cache_dir=tmp_path / "cache", records=["208"])
    assert set(dsd["train"]["record_id"]) == {"208"}  # windows read no annotation


def test_an_upper_case_annotation_file_is_read_by_the_builders(tmp_path, cut_101):
    """``101.ATR`` (FAT media, CD-ROM copies) counts as the ``atr`` annotator, as in classify-beats."""
    (cut_101 / "101.atr").rename(cut_101 / "101.ATR")
    with pytest.warns(UserWarning, match=r"annotation\(s\) in 101.ATR lie outside"):
        ds = load_physionet("mitdb", "beats", data_dir=cut_101, cache_dir=tmp_path / "cache")["train"]
    assert len(ds) > 20 and set(ds["record_id"]) == {"101"}


def test_prepare_skips_records_without_their_annotation_file(tmp_path, sample_copy, sample_dir):
    from heartbert_hf.prepare import DataArguments, load_source

    (sample_copy / "208.atr").unlink()
    skipped = []
    args = DataArguments(
        output_dir=str(tmp_path / "out"), dataset="mitdb", config="beats", data_dir=str(sample_copy), records=["101", "208"], cache_dir=str(tmp_path / "c")
    )
    dsd = load_source(args, skipped)
    assert set(dsd["train"]["record_id"]) == {"101"}
    assert len(skipped) == 1 and skipped[0][0] == "mitdb record 208" and "208.atr is missing" in skipped[0][1]
    # slpdb: a record without its .st is skipped the same way
    folder = _slpdb_folder(tmp_path / "slp", sample_dir, notes_at=(1, 7500))
    _slpdb_folder(tmp_path / "slp2", sample_dir, notes_at=(1,))
    for ext in ("hea", "dat"):
        (tmp_path / "slp2" / f"slp01a.{ext}").rename(folder / f"slp02a.{ext}")
    skipped = []
    args = DataArguments(output_dir=str(tmp_path / "out2"), dataset="slpdb", data_dir=str(folder), cache_dir=str(tmp_path / "c2"))
    dsd = load_source(args, skipped)
    assert {r for ds in dsd.values() for r in ds["record_id"]} == {"slp01a"}
    assert [what for what, _ in skipped] == ["slpdb record slp02a"] and "slp02a.st is missing" in skipped[0][1]


def test_a_split_without_examples_names_its_records(tmp_path, sample_dir):
    import wfdb

    src = wfdb.rdrecord(str(sample_dir / "101"), sampto=300)  # 0.83 s: no window
    folder = tmp_path / "short"
    folder.mkdir()
    _write(folder, "101", src.p_signal, 360, src.sig_name)
    with pytest.raises(ValueError, match=r"mitdb windows: split 'train' has no examples: .*at least 1 s of signal\): 101 \(0.833 s\)"):
        load_physionet("mitdb", "windows", data_dir=folder, cache_dir=tmp_path / "c")
    # slpdb: a 20-s record gives no 30-s epoch
    folder = _slpdb_folder(tmp_path / "slp", sample_dir, seconds=20, notes_at=(1,))
    with pytest.raises(ValueError, match=r"slpdb epochs: split 'train' has no examples: .*30 s of signal\): slp01a \(20 s\)"):
        load_physionet("slpdb", data_dir=folder, cache_dir=tmp_path / "c2", split_fractions={"train": 1.0})


def test_prepare_skips_a_record_the_builder_refuses(tmp_path, sample_dir):
    """A record with one annotated beat (the beats config needs 2 for RR features) is skipped and listed."""
    import shutil

    import wfdb

    from heartbert_hf.prepare import DataArguments, load_source

    folder = tmp_path / "mitdb"
    folder.mkdir()
    for ext in ("hea", "dat", "atr"):
        shutil.copy(sample_dir / f"101.{ext}", folder)
    src = wfdb.rdrecord(str(sample_dir / "118"), sampto=720)
    _write(folder, "118", src.p_signal, 360, src.sig_name)
    wfdb.wrann("118", "atr", np.array([200]), ["N"], write_dir=str(folder))
    skipped = []
    args = DataArguments(output_dir=str(tmp_path / "out"), dataset="mitdb", config="beats", data_dir=str(folder), cache_dir=str(tmp_path / "c"))
    dsd = load_source(args, skipped)
    assert set(dsd["train"]["record_id"]) == {"101"}
    assert [what for what, _ in skipped] == ["mitdb record 118"] and "1 annotated beat(s) inside the signal" in skipped[0][1]
    args.on_error = "raise"
    with pytest.raises(ValueError, match="mitdb record 118: 1 annotated beat"):
        load_source(args, [])
