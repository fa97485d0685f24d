"""read_record returns what wfdb.rdrecord reads, or a clear error: every storage format, invalid
samples (NaN), multi-segment and multi-frequency records, headers without a sample count, and the
size/checksum checks on top. Every record is written here, in tmp_path, from the shipped sample
records (101, 208), so CI runs all of it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from heartbert_hf.data.record_files import list_local_records
from heartbert_hf.data.wfdb_io import check_record_files, read_record

N = 3601  # samples per signal: odd, and not a multiple of 3, so every packed format has a partial last block
GAP = slice(1000, 1360)  # 1 s of invalid samples in lead 0
BITS = {"8": 8, "80": 8, "508": 8, "310": 10, "311": 10, "212": 12, "16": 16, "61": 16, "160": 16, "516": 16, "24": 24, "524": 24, "32": 32}
INVALID = {
    "80": -(2**7),
    "508": -(2**7),
    "310": -(2**9),
    "311": -(2**9),
    "212": -(2**11),
    "16": -(2**15),
    "61": -(2**15),
    "160": -(2**15),
    "516": -(2**15),
    "24": -(2**23),
    "524": -(2**23),
    "32": -(2**31),
}  # WFDB signal(5); format 8 has none
OWN_FORMATS = ["8", "16", "24", "32", "61", "80", "160", "212", "310", "311"]  # written by write_dat below
WFDB_FORMATS = ["16", "24", "32", "80", "212", "508", "516", "524"]  # written by wfdb.wrsamp (4.3: no 8/61/160/310/311)
BLOCK = {"212": 3, "310": 4, "311": 4}  # bytes per packed block


def sample_physical(name: str = "101", n: int = N) -> np.ndarray:
    """``(samples, 2)`` mV from a shipped MIT-BIH record."""
    import wfdb

    return wfdb.rdrecord(str(Path(__file__).resolve().parents[1] / "heartbert_hf" / "sample_data" / name), sampto=n).p_signal


def digital_for(fmt: str, physical: np.ndarray) -> tuple[np.ndarray, float]:
    """Digital samples (int64, ``(samples, leads)``) that fit ``fmt``, and their gain (ADC units per mV)."""
    bits = BITS[fmt]
    if fmt == "8":  # first differences must fit in int8
        gain = 20.0
    else:
        gain = float(min(200 * 2 ** max(0, bits - 16), math.floor((2 ** (bits - 1) - 2) / np.abs(physical).max())))
    return np.round(physical * gain).astype(np.int64), gain


def interleave(signals: list[np.ndarray], per_frame: list[int]) -> np.ndarray:
    """Samples in signal-file order: frame by frame, each signal's ``per_frame`` samples in turn."""
    frames = len(signals[0]) // per_frame[0]
    return np.concatenate([s.reshape(frames, k) for s, k in zip(signals, per_frame)], axis=1).reshape(-1)


def encode(fmt: str, flat: np.ndarray) -> bytes:
    """WFDB signal(5) encoding of samples in file order (format 8: the caller passes differences)."""
    if fmt in ("8", "80"):
        return (flat + (128 if fmt == "80" else 0)).astype(np.uint8 if fmt == "80" else np.int8).tobytes()
    if fmt in ("16", "61", "160", "32"):
        dtype = {"16": "<i2", "61": ">i2", "160": "<u2", "32": "<i4"}[fmt]
        return (flat + (32768 if fmt == "160" else 0)).astype(dtype).tobytes()
    if fmt == "24":
        return (flat.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]).tobytes()
    per_block = 2 if fmt == "212" else 3
    u = np.zeros(per_block * math.ceil(len(flat) / per_block), dtype=np.int64)
    u[: len(flat)] = flat & (0xFFF if fmt == "212" else 0x3FF)
    a, b = u[0::per_block], u[1::per_block]
    if fmt == "212":
        out = [a & 0xFF, ((a >> 8) & 0xF) | (((b >> 8) & 0xF) << 4), b & 0xFF]
    else:
        c = u[2::3]
        if fmt == "310":
            out = [(a & 0x7F) << 1, ((a >> 7) & 7) | ((c & 0x1F) << 3), (b & 0x7F) << 1, ((b >> 7) & 7) | (((c >> 5) & 0x1F) << 3)]
        else:  # 311
            out = [a & 0xFF, ((a >> 8) & 3) | ((b & 0x3F) << 2), ((b >> 6) & 0xF) | ((c & 0xF) << 4), (c >> 4) & 0x3F]
    return np.stack(out, axis=1).astype(np.uint8).tobytes()


def write_record(
    folder: Path,
    name: str,
    signals: list[np.ndarray],
    fmt: str,
    gains,
    per_frame=None,
    fs: float = 360,
    with_length: bool = True,
    baseline=None,
    byte_offset: int = 0,
    lead_names=("MLII", "V1"),
) -> Path:
    """Write a WFDB record with our own encoder and header writer (any format in OWN_FORMATS).

    ``signals``: one int array per signal, every sample (``per_frame[k]`` per frame)."""
    per_frame = per_frame or [1] * len(signals)
    baseline = baseline or [0] * len(signals)
    frames = len(signals[0]) // per_frame[0]
    if fmt == "8":  # differences from the initial value (the header's first sample)
        stored = [np.diff(s, prepend=s[0]) for s in signals]
    else:
        stored = signals
    (folder / f"{name}.dat").write_bytes(b"\0" * byte_offset + encode(fmt, interleave(stored, per_frame)))
    lines = [f"{name} {len(signals)} {fs:g}" + (f" {frames}" if with_length else "")]
    for k, s in enumerate(signals):
        spf = f"x{per_frame[k]}" if per_frame[k] > 1 else ""
        offset = f"+{byte_offset}" if byte_offset else ""
        checksum = int(s.sum()) % 65536
        checksum = checksum - 65536 if checksum > 32767 else checksum
        lines.append(f"{name}.dat {fmt}{spf}{offset} {gains[k]:g}({baseline[k]})/mV {BITS[fmt]} 0 {int(s[0])} {checksum} 0 {lead_names[k]}")
    (folder / f"{name}.hea").write_text("\n".join(lines) + "\n")
    return folder / name


def wfdb_reference(path: Path, **kwargs) -> np.ndarray:
    """``wfdb.rdrecord``'s physical reading as ``(leads, samples)`` (every sample of every signal)."""
    import wfdb

    rec = wfdb.rdrecord(str(path), smooth_frames=False, **kwargs)
    return np.stack(rec.e_p_signal)


def with_gap(digital: np.ndarray, fmt: str) -> np.ndarray:
    out = digital.copy()
    if fmt in INVALID:
        out[GAP, 0] = INVALID[fmt]
    return out


def assert_same_as_wfdb(path: Path, rec) -> None:
    ref = wfdb_reference(path)
    assert rec.signal.dtype == np.float32 and rec.signal.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(rec.signal), np.isnan(ref))
    np.testing.assert_array_equal(rec.signal, ref.astype(np.float32))


# ------------------------------------------------------------------ every storage format, invalid samples → NaN
@pytest.mark.parametrize("fmt", OWN_FORMATS)
def test_every_format_reads_as_wfdb_with_nan_at_invalid_samples(tmp_path, fmt):
    import wfdb

    digital, gain = digital_for(fmt, sample_physical())
    digital = with_gap(digital, fmt)
    path = write_record(tmp_path, "r", [digital[:, 0], digital[:, 1]], fmt, [gain, gain])
    assert np.array_equal(wfdb.rdrecord(str(path), physical=False).d_signal, digital)  # our encoder is right
    rec = read_record(path)
    assert_same_as_wfdb(path, rec)
    assert rec.sampling_rate == 360 and rec.lead_names == ["MLII", "V1"]
    expected_nan = GAP.stop - GAP.start if fmt in INVALID else 0
    assert int(np.isnan(rec.signal[0]).sum()) == expected_nan and not np.isnan(rec.signal[1]).any()
    if fmt in INVALID:
        assert np.isnan(rec.signal[0, GAP]).all()
    valid = ~np.isnan(rec.signal)
    np.testing.assert_allclose(rec.signal[valid], (digital.T / gain)[valid], rtol=1e-6)


@pytest.mark.parametrize("fmt", WFDB_FORMATS)
def test_formats_written_by_wfdb_read_as_wfdb(tmp_path, fmt):
    pytest.importorskip("soundfile") if fmt in ("508", "516", "524") else None
    import wfdb

    physical = sample_physical()
    _, gain = digital_for(fmt, physical)
    physical[GAP, 0] = np.nan
    wfdb.wrsamp(
        "r",
        fs=360,
        units=["mV", "mV"],
        sig_name=["MLII", "V1"],
        p_signal=physical,
        fmt=[fmt, fmt],
        adc_gain=[gain, gain],
        baseline=[0, 0],
        write_dir=str(tmp_path),
    )
    rec = read_record(tmp_path / "r")
    assert_same_as_wfdb(tmp_path / "r", rec)
    assert int(np.isnan(rec.signal[0]).sum()) == GAP.stop - GAP.start


def test_invalid_samples_reach_the_tokenizer_as_its_nan_error(tmp_path, tiny_tokenizer):
    digital, gain = digital_for("16", sample_physical(n=7200))
    path = write_record(tmp_path, "101", list(with_gap(digital, "16").T), "16", [gain, gain])
    rec = read_record(path)
    assert float(np.nanmin(rec.signal)) > -10  # never -163.84 mV from the -32768 code
    with pytest.raises(ValueError, match=r"NaN or inf \(first at lead 0, sample 1000\b"):
        tiny_tokenizer.ecg_to_text(rec.signal, rec.sampling_rate)


def test_invalid_samples_in_a_built_dataset_name_the_record_when_tokenized(tmp_path, tiny_tokenizer):
    from heartbert_hf.data import load_physionet, tokenize_dataset

    digital, gain = digital_for("16", sample_physical(n=7200))
    write_record(tmp_path, "101", list(with_gap(digital, "16").T), "16", [gain, gain])
    ds = load_physionet("mitdb", "windows", data_dir=tmp_path, cache_dir=tmp_path / "cache", records=["101"])["train"]
    window = np.asarray(ds[0]["signal"], dtype=np.float64)
    assert np.isnan(window[0, GAP]).all() and np.isfinite(window[1]).all()
    with pytest.raises(ValueError, match=r"record_id '101', start 0: .*NaN or inf \(first at lead 0, sample 1000\b"):
        tokenize_dataset(ds, tiny_tokenizer, max_length=64, load_from_cache_file=False)


# ------------------------------------------------------------------ size and checksum checks, per format
@pytest.mark.parametrize("fmt", OWN_FORMATS)
def test_truncated_file_is_refused_in_every_format(tmp_path, fmt):
    digital, gain = digital_for(fmt, sample_physical())
    path = write_record(tmp_path, "r", list(digital.T), fmt, [gain, gain])
    dat = tmp_path / "r.dat"
    dat.write_bytes(dat.read_bytes()[: -BLOCK.get(fmt, 1) * 4])
    with pytest.raises(ValueError, match="truncated signal file .*r.dat"):
        read_record(path)


@pytest.mark.parametrize("fmt", OWN_FORMATS)
def test_longer_file_is_refused_in_every_format(tmp_path, fmt):
    digital, gain = digital_for(fmt, sample_physical())
    path = write_record(tmp_path, "r", list(digital.T), fmt, [gain, gain])
    dat = tmp_path / "r.dat"
    dat.write_bytes(dat.read_bytes() + b"\0" * BLOCK.get(fmt, 4) * 4)
    with pytest.raises(ValueError, match="header/sample mismatch for .*r.dat"):
        read_record(path)


@pytest.mark.parametrize("fmt", OWN_FORMATS)
def test_altered_sample_fails_the_checksum_in_every_format(tmp_path, fmt):
    digital, gain = digital_for(fmt, sample_physical())
    path = write_record(tmp_path, "r", list(digital.T), fmt, [gain, gain])
    dat = tmp_path / "r.dat"
    raw = bytearray(dat.read_bytes())
    block = {"212": 3, "310": 4, "311": 4, "24": 3, "32": 4, "16": 2, "61": 2, "160": 2}.get(fmt, 1)
    low_byte = block * 2001 + (1 if fmt == "61" else 0)  # the low bits of one sample (61 is big-endian)
    raw[low_byte] ^= 0x06
    dat.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum"):
        read_record(path)
    assert read_record(path, verify_checksum=False).signal.shape == (2, N)


def test_flac_truncated_is_refused(tmp_path):
    pytest.importorskip("soundfile")
    import wfdb

    wfdb.wrsamp(
        "r",
        fs=360,
        units=["mV", "mV"],
        sig_name=["MLII", "V1"],
        p_signal=sample_physical(),
        fmt=["516", "516"],
        adc_gain=[200, 200],
        baseline=[0, 0],
        write_dir=str(tmp_path),
    )
    dat = tmp_path / "r.dat"
    dat.write_bytes(dat.read_bytes()[: dat.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"record .*r\b.*(truncated|corrupt)"):
        read_record(tmp_path / "r")


def test_byte_offset_is_honoured_by_the_size_check(tmp_path):
    digital, gain = digital_for("16", sample_physical())
    path = write_record(tmp_path, "r", list(digital.T), "16", [gain, gain], byte_offset=24)
    assert_same_as_wfdb(path, read_record(path))
    dat = tmp_path / "r.dat"
    dat.write_bytes(dat.read_bytes()[:-2])
    with pytest.raises(ValueError, match="truncated"):
        read_record(path)


def test_multi_file_record_with_two_formats(tmp_path):
    import wfdb

    physical = sample_physical()
    d16, g16 = digital_for("16", physical)
    d212, g212 = digital_for("212", physical)
    write_record(tmp_path, "a", [d16[:, 0]], "16", [g16], lead_names=["MLII"])
    write_record(tmp_path, "b", [d212[:, 1]], "212", [g212], lead_names=["V1"])
    lines = [f"r 2 360 {N}", (tmp_path / "a.hea").read_text().splitlines()[1], (tmp_path / "b.hea").read_text().splitlines()[1]]
    (tmp_path / "r.hea").write_text("\n".join(lines) + "\n")
    rec = read_record(tmp_path / "r")
    assert_same_as_wfdb(tmp_path / "r", rec)
    np.testing.assert_array_equal(rec.signal, wfdb.rdrecord(str(tmp_path / "r")).p_signal.T.astype(np.float32))
    (tmp_path / "b.dat").unlink()
    with pytest.raises(FileNotFoundError, match="b.dat of record r is missing"):
        read_record(tmp_path / "r")


def test_skewed_signal_reads_as_wfdb_and_its_stored_samples_are_checksummed(tmp_path):
    digital, gain = digital_for("212", sample_physical())
    path = write_record(tmp_path, "r", list(digital.T), "212", [gain, gain])
    hea = tmp_path / "r.hea"
    lines = hea.read_text().splitlines()
    lines[2] = lines[2].replace("r.dat 212 ", "r.dat 212:3 ", 1)  # V1 delayed by 3 frames
    hea.write_text("\n".join(lines) + "\n")
    rec = read_record(path)
    assert_same_as_wfdb(path, rec)
    np.testing.assert_array_equal(rec.signal[1, : N - 3], (digital[3:, 1] / gain).astype(np.float32))
    dat = tmp_path / "r.dat"
    raw = bytearray(dat.read_bytes())
    raw[3 * 1000 + 2] ^= 0x06  # the low bits of a stored V1 sample
    dat.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="signal 'V1': sample checksum"):
        read_record(path)


# ------------------------------------------------------------------ headers without a sample count
@pytest.mark.parametrize("fmt", ["8", "16", "212", "310", "311", "24"])
def test_header_without_sample_count_reads_as_wfdb(tmp_path, fmt):
    digital, gain = digital_for(fmt, sample_physical(n=3600))  # whole blocks: the length is exact
    path = write_record(tmp_path, "r", list(with_gap(digital, fmt).T), fmt, [gain, gain], with_length=False)
    assert (tmp_path / "r.hea").read_text().splitlines()[0] == "r 2 360"
    rec = read_record(path)
    assert_same_as_wfdb(path, rec)
    assert rec.signal.shape == (2, 3600)


def test_header_without_sample_count_and_files_of_different_lengths(tmp_path):
    digital, gain = digital_for("16", sample_physical(n=3600))
    write_record(tmp_path, "a", [digital[:, 0]], "16", [gain], lead_names=["MLII"], with_length=False)
    write_record(tmp_path, "b", [digital[:1800, 1]], "16", [gain], lead_names=["V1"], with_length=False)
    lines = ["r 2 360", (tmp_path / "a.hea").read_text().splitlines()[1], (tmp_path / "b.hea").read_text().splitlines()[1]]
    (tmp_path / "r.hea").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"header/sample mismatch for record r: .*different numbers of samples"):
        read_record(tmp_path / "r")


def test_flac_header_without_sample_count_is_refused(tmp_path):
    pytest.importorskip("soundfile")
    import wfdb

    wfdb.wrsamp(
        "r",
        fs=360,
        units=["mV", "mV"],
        sig_name=["MLII", "V1"],
        p_signal=sample_physical(),
        fmt=["516", "516"],
        adc_gain=[200, 200],
        baseline=[0, 0],
        write_dir=str(tmp_path),
    )
    hea = tmp_path / "r.hea"
    lines = hea.read_text().splitlines()
    hea.write_text("\n".join(["r 2 360", *lines[1:]]) + "\n")
    with pytest.raises(ValueError, match="FLAC .*no sample count"):
        read_record(tmp_path / "r")


# ------------------------------------------------------------------ multi-frequency records
def write_multi_frequency(folder: Path, fmt: str = "16", per_frame=(2, 1)) -> tuple[Path, list[np.ndarray]]:
    """Lead 0 with ``per_frame[0]`` samples per frame, lead 1 with ``per_frame[1]`` (frame rate 360 Hz)."""
    digital, gain = digital_for(fmt, sample_physical(n=3600 * max(per_frame)))
    signals = [digital[: 3600 * k, i] for i, k in enumerate(per_frame)]
    return write_record(folder, "r", signals, fmt, [gain, gain], per_frame=list(per_frame)), signals


@pytest.mark.parametrize("fmt", ["16", "212", "24"])
def test_multi_frequency_leads_of_one_rate_read_sample_for_sample(tmp_path, fmt):
    import wfdb

    path, signals = write_multi_frequency(tmp_path, fmt, per_frame=(2, 2))
    rec = read_record(path)
    assert rec.sampling_rate == 720 and rec.signal.shape == (2, 7200)
    assert_same_as_wfdb(path, rec)
    digital = wfdb.rdrecord(str(path), physical=False, smooth_frames=False).e_d_signal
    assert all(np.array_equal(d, s) for d, s in zip(digital, signals))


def test_multi_frequency_mixed_rates_are_refused_naming_each_rate(tmp_path):
    path, _ = write_multi_frequency(tmp_path, per_frame=(2, 1))
    with pytest.raises(ValueError, match=r"multi-frequency .*360 Hz: \['V1'\]; 720 Hz: \['MLII'\].*leads=\['MLII'\]"):
        read_record(path)


def test_multi_frequency_one_lead_at_its_own_rate(tmp_path):
    import wfdb

    path, _ = write_multi_frequency(tmp_path, per_frame=(2, 1))

    expanded = wfdb.rdrecord(str(path), smooth_frames=False).e_p_signal
    fast, slow = read_record(path, leads=["MLII"]), read_record(path, leads=["V1"])
    assert (fast.sampling_rate, slow.sampling_rate) == (720, 360)
    np.testing.assert_array_equal(fast.signal[0], expanded[0].astype(np.float32))
    np.testing.assert_array_equal(slow.signal[0], expanded[1].astype(np.float32))


def test_multi_frequency_size_check_counts_every_sample_of_a_frame(tmp_path):
    path, _ = write_multi_frequency(tmp_path, per_frame=(2, 1))
    check_record_files(path)  # 3 samples per frame x 3600 frames x 2 bytes: exact
    dat = tmp_path / "r.dat"
    dat.write_bytes(dat.read_bytes()[:-6])
    with pytest.raises(ValueError, match="truncated"):
        read_record(path, leads=["V1"])


# ------------------------------------------------------------------ multi-segment records
def write_segment(folder: Path, name: str, physical: np.ndarray, fmt: str = "212", names=("MLII", "V1"), gain=200, baseline=0):
    import wfdb

    n = physical.shape[1]
    wfdb.wrsamp(
        name,
        fs=360,
        units=["mV"] * n,
        sig_name=list(names),
        p_signal=physical,
        fmt=[fmt] * n,
        adc_gain=[gain] * n,
        baseline=[baseline] * n,
        write_dir=str(folder),
    )


def write_fixed_layout(folder: Path) -> Path:
    physical = sample_physical(n=7200)
    write_segment(folder, "seg_1", physical[:3000])
    write_segment(folder, "seg_2", physical[3000:])
    (folder / "rec.hea").write_text("rec/2 2 360 7200\nseg_1 3000\nseg_2 4200\n")
    return folder / "rec"


def test_multi_segment_fixed_layout_reads_whole_as_wfdb(tmp_path):
    import wfdb

    path = write_fixed_layout(tmp_path)
    rec = read_record(path)
    assert rec.signal.shape == (2, 7200) and rec.lead_names == ["MLII", "V1"] and rec.sampling_rate == 360
    assert_same_as_wfdb(path, rec)
    np.testing.assert_array_equal(rec.signal, wfdb.rdrecord(str(path)).p_signal.T.astype(np.float32))
    assert read_record(path, leads=["V1"]).signal.shape == (1, 7200)


def test_multi_segment_written_by_wfdb_multirecord(tmp_path):
    import wfdb

    physical = sample_physical(n=7200)
    segments = []
    for i in range(2):
        seg = wfdb.Record(
            record_name=f"m_{i}",
            n_sig=2,
            fs=360,
            sig_len=3600,
            p_signal=physical[i * 3600 : (i + 1) * 3600],
            fmt=["16", "16"],
            adc_gain=[200.0, 200.0],
            baseline=[0, 0],
            units=["mV", "mV"],
            sig_name=["MLII", "V1"],
            file_name=[f"m_{i}.dat"] * 2,
        )
        seg.set_d_features(do_adc=True)
        seg.set_defaults()
        segments.append(seg)
    wfdb.MultiRecord(record_name="m", n_sig=2, fs=360, sig_len=7200, seg_name=["m_0", "m_1"], seg_len=[3600, 3600], segments=segments, layout="fixed").wrsamp(
        write_dir=str(tmp_path)
    )
    assert_same_as_wfdb(tmp_path / "m", read_record(tmp_path / "m"))


def test_multi_segment_variable_layout_with_gap_and_missing_lead(tmp_path):
    physical = sample_physical(n=7200)
    write_segment(tmp_path, "v_1", physical[:2000], fmt="16")
    write_segment(tmp_path, "v_3", physical[3000:, 1:], names=("V1",), gain=100, baseline=5)  # other gain, one lead
    (tmp_path / "v_layout.hea").write_text("v_layout 2 360 0\n~ 0 200/mV 16 0 0 0 0 MLII\n~ 0 200/mV 16 0 0 0 0 V1\n")
    (tmp_path / "v.hea").write_text("v/4 2 360 7200\nv_layout 0\nv_1 2000\n~ 1000\nv_3 4200\n")
    rec = read_record(tmp_path / "v")
    assert_same_as_wfdb(tmp_path / "v", rec)
    assert np.isnan(rec.signal[0, 2000:]).all() and np.isnan(rec.signal[1, 2000:3000]).all()
    assert np.isfinite(rec.signal[1, 3000:]).all() and np.isfinite(rec.signal[:, :2000]).all()
    np.testing.assert_allclose(rec.signal[1, 3000:], physical[3000:, 1], atol=0.011)  # gain 100 → 0.01 mV steps
    assert read_record(tmp_path / "v", leads=["V1"]).lead_names == ["V1"]


def test_multi_segment_of_flac_segments(tmp_path):
    pytest.importorskip("soundfile")
    physical = sample_physical(n=7200)
    write_segment(tmp_path, "s0", physical[:3600], fmt="516")
    write_segment(tmp_path, "s1", physical[3600:], fmt="524")
    (tmp_path / "m.hea").write_text("m/2 2 360 7200\ns0 3600\ns1 3600\n")
    assert_same_as_wfdb(tmp_path / "m", read_record(tmp_path / "m"))


def test_multi_segment_of_multi_frequency_segments(tmp_path):
    for i in range(2):
        seg = tmp_path / f"s{i}"
        seg.mkdir()
        write_multi_frequency(seg, per_frame=(2, 2))
        for ext in ("hea", "dat"):
            text = (seg / f"r.{ext}").read_bytes().replace(b"r.dat", f"s{i}.dat".encode()).replace(b"r 2 360", f"s{i} 2 360".encode())
            (tmp_path / f"s{i}.{ext}").write_bytes(text)
    (tmp_path / "m.hea").write_text("m/2 2 360 7200\ns0 3600\ns1 3600\n")
    rec = read_record(tmp_path / "m")
    assert rec.sampling_rate == 720 and rec.signal.shape == (2, 14400)
    assert_same_as_wfdb(tmp_path / "m", rec)


def test_multi_segment_damaged_segment_is_named(tmp_path):
    path = write_fixed_layout(tmp_path)
    dat = tmp_path / "seg_2.dat"
    dat.write_bytes(dat.read_bytes()[:-300])
    with pytest.raises(ValueError, match="truncated signal file .*seg_2.dat"):
        read_record(path)


def test_multi_segment_checksum_is_checked_per_segment(tmp_path):
    path = write_fixed_layout(tmp_path)
    dat = tmp_path / "seg_1.dat"
    raw = bytearray(dat.read_bytes())
    raw[3 * 500] ^= 0x06
    dat.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"rec \(segment seg_1\), signal 'MLII': sample checksum"):
        read_record(path)


@pytest.mark.parametrize(
    "master, error, match",
    [
        ("rec/2 2 360 7200\nseg_1 3000\nseg_9 4200\n", FileNotFoundError, "segment header .*seg_9.hea of multi-segment record rec"),
        ("rec/2 2 360 7200\nseg_1 3000\nseg_2 4000\n", ValueError, "segments hold 7000 samples"),
        ("rec/2 2 360 7000\nseg_1 3000\nseg_2 4000\n", ValueError, "segment seg_2 of record rec: it holds 4200 samples, rec.hea lists 4000"),
        ("rec/3 2 360 8200\nseg_1 3000\n~ 1000\nseg_2 4200\n", ValueError, "null segment '~' .*fixed-layout .*not supported"),
        ("rec/2 2 360\nseg_1 3000\nseg_2 4200\n", ValueError, "no total sample count .*7200"),
    ],
    ids=["missing-segment", "total-mismatch", "segment-length", "fixed-null-segment", "no-total"],
)
def test_multi_segment_bad_master_header_is_refused_clearly(tmp_path, master, error, match):
    path = write_fixed_layout(tmp_path)
    (tmp_path / "rec.hea").write_text(master)
    with pytest.raises(error, match=match):
        read_record(path)


def test_embed_reads_a_multi_segment_record(tmp_path, tiny_model_dir, tiny_tokenizer):
    import pandas as pd

    from heartbert_hf.embed import main

    path = write_fixed_layout(tmp_path)
    out = tmp_path / "emb.parquet"
    assert main(["--model", str(tiny_model_dir), "--input", str(path), "--output", str(out), "--leads", "MLII"]) == 0
    frame = pd.read_parquet(out)
    texts, _ = tiny_tokenizer.ecg_to_text(read_record(path, leads=["MLII"]).signal, 360)
    assert set(frame["record_id"]) == {"rec"} and len(frame) == len(texts) >= 1  # the whole 7200 samples, as one record


def test_folder_listing_skips_segment_headers(tmp_path):
    write_fixed_layout(tmp_path)
    write_segment(tmp_path, "other", sample_physical(n=720))
    assert list_local_records(tmp_path) == ["other", "rec"]


# ------------------------------------------------------------------ arguments and real records
def test_path_with_hea_extension_is_the_record(sample_dir):
    np.testing.assert_array_equal(read_record(sample_dir / "101.hea").signal, read_record(sample_dir / "101").signal)


def test_leads_as_a_string_is_a_type_error(sample_dir):
    with pytest.raises(TypeError, match="list of lead names"):
        read_record(sample_dir / "101", leads="MLII")


def test_empty_lead_list_is_refused(sample_dir):
    with pytest.raises(ValueError, match=r"leads=\[\] selects no lead of record 101"):
        read_record(sample_dir / "101", leads=[])


def test_unknown_lead_lists_the_record_leads(sample_dir):
    with pytest.raises(ValueError, match=r"record 101 has no lead\(s\) \['II'\]; its leads are \['MLII', 'V1'\]"):
        read_record(sample_dir / "101", leads=["II"])


@pytest.mark.parametrize("record", ["101", "208"])
def test_shipped_records_equal_wfdb(sample_dir, record):
    assert_same_as_wfdb(sample_dir / record, read_record(sample_dir / record))


@pytest.mark.parametrize("record", ["a103l", "v102s", "s0010_re"])
def test_shared_wfdb_samples_equal_wfdb(shared_physionet, record):
    """Real records: .mat signal file with byte offset (a103l), invalid samples (v102s), two signal files (s0010_re)."""
    path = shared_physionet / "wfdb_python_samples" / record
    rec = read_record(path)
    assert_same_as_wfdb(path, rec)
    if record == "v102s":
        assert int(np.isnan(rec.signal).sum()) > 0


def test_a_repeated_lead_is_refused_as_such_not_blamed_on_the_file(sample_dir):
    """Before: leads=["MLII", "MLII"] said "wfdb cannot read ... (truncated or corrupt signal file?)"."""
    with pytest.raises(ValueError, match=r"leads=\['MLII', 'MLII'\] names lead\(s\) \['MLII'\] of record 101 more than once; name each lead once"):
        read_record(sample_dir / "101", leads=["MLII", "MLII"])


def test_a_record_path_ending_in_dat_or_hea_is_the_record(sample_dir):
    """Before: read_record("101.dat") looked for 101.dat.hea, while the command-line tools strip .dat."""
    plain = read_record(sample_dir / "101", leads=["V1"])
    for name in ("101.dat", "101.hea"):
        rec = read_record(sample_dir / name, leads=["V1"])
        assert rec.record_id == "101" and np.array_equal(rec.signal, plain.signal)


def test_an_edf_file_reads_as_wfdbs_edf_reader_gives_it(sample_dir, tmp_path):
    """Before: read_record("x.edf") said "WFDB header not found: x.edf.hea"."""
    import wfdb
    from wfdb.io.convert.edf import read_edf, wfdb_to_edf

    rec = wfdb.rdrecord(str(sample_dir / "208"), sampto=3600, physical=False)
    rec.record_name = "e208"
    rec.wrsamp(write_dir=str(tmp_path))
    wfdb_to_edf(str(tmp_path / "e208"), output_filename=str(tmp_path / "e208.edf"))
    got = read_record(tmp_path / "e208.edf")
    want = read_edf(str(tmp_path / "e208.edf"))
    assert got.record_id == "e208" and got.lead_names == ["MLII", "V1"] and got.units == ["mV", "mV"] and got.sampling_rate == 360.0
    assert np.array_equal(got.signal, want.p_signal.T.astype(np.float32))
    original = wfdb.rdrecord(str(tmp_path / "e208")).p_signal.T
    # wfdb's own round trip (wfdb_to_edf, then read_edf) comes back within one ADC step (1/200 mV) of the WFDB record
    assert np.abs(got.signal[:, :3600] - original).max() <= 1 / 200 + 1e-5
    assert np.array_equal(read_record(tmp_path / "e208.edf", leads=["V1"]).signal, got.signal[1:])
    with pytest.raises(FileNotFoundError, match="EDF file not found"):
        read_record(tmp_path / "missing.edf")


def test_unnamed_signals_are_named_by_their_index(sample_dir, tmp_path):
    """A header whose signal lines have no description (optional in WFDB; wfdb gives None)."""
    import shutil

    for ext in ("hea", "dat"):
        shutil.copy(sample_dir / f"101.{ext}", tmp_path / f"101.{ext}")
    hea = tmp_path / "101.hea"
    lines = hea.read_text().splitlines()
    hea.write_text("\n".join([lines[0]] + [" ".join(line.split()[:-1]) for line in lines[1:3]] + lines[3:]) + "\n")
    rec = read_record(tmp_path / "101")
    assert rec.lead_names == ["0", "1"]
    one = read_record(tmp_path / "101", leads=["1"])
    assert one.lead_names == ["1"] and np.array_equal(one.signal[0], rec.signal[1])


def test_an_annotation_file_is_found_in_another_case(sample_dir, tmp_path):
    """101.ATR (FAT media, CD-ROM copies) is the atr annotator: read_annotation (the builders' and classify-beats' reader) finds it."""
    import shutil

    from heartbert_hf.data.wfdb_io import read_annotation

    shutil.copy(sample_dir / "101.atr", tmp_path / "101.ATR")
    ann = read_annotation(tmp_path / "101", "atr")
    want = read_annotation(sample_dir / "101", "atr")
    assert ann.extension == "ATR" and np.array_equal(ann.sample, want.sample) and ann.symbol == want.symbol
    with pytest.raises(FileNotFoundError, match=r"annotation file .*101\.qrs is missing"):
        read_annotation(tmp_path / "101", "qrs")


def test_an_edf_signal_faster_than_the_lowest_rate_is_refused(tmp_path):
    """wfdb 4.3's read_edf returns a signal sampled k times faster averaged to the lowest rate without its
    gain (here 200 x the true values): such a signal is refused, naming it; the lowest-rate ones read."""
    import wfdb
    from wfdb.io.convert.edf import wfdb_to_edf

    n = 3600
    ecg = (np.sin(np.arange(n) / 20) * 200).astype(np.int64)
    resp = (np.sin(np.arange(2 * n) / 40) * 300).astype(np.int64)
    rec = wfdb.Record(
        record_name="mf", n_sig=2, fs=250, sig_len=n, sig_name=["ECG", "RESP"], units=["mV", "mV"], fmt=["16", "16"], adc_gain=[200.0, 200.0],
        baseline=[0, 0], samps_per_frame=[1, 2], e_d_signal=[ecg, resp], file_name=["mf.dat", "mf.dat"], adc_res=[16, 16], adc_zero=[0, 0],
        block_size=[0, 0], init_value=[int(ecg[0]), int(resp[0])], skew=[None, None], byte_offset=[None, None],
    )  # fmt: skip
    rec.set_d_features(expanded=True)  # checksums
    rec.wrsamp(write_dir=str(tmp_path), expanded=True)
    wfdb_to_edf(str(tmp_path / "mf"), output_filename=str(tmp_path / "mf.edf"))
    with pytest.raises(ValueError, match=r"signal\(s\) \['RESP'\] are sampled faster than the file's lowest rate \(250 Hz\)"):
        read_record(tmp_path / "mf.edf")
    got = read_record(tmp_path / "mf.edf", leads=["ECG"])
    assert got.sampling_rate == 250.0 and np.abs(got.signal[0, :n] - ecg / 200).max() <= 1 / 200 + 1e-5
