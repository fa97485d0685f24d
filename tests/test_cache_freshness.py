"""A prepared dataset is reused only while the files in data_dir are unchanged (names, sizes,
modification times), and a RECORDS file that leaves records out says so. Records are written here,
in tmp_path, from the shipped sample records."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest

from heartbert_hf.data import builder_base, get_builder, load_physionet
from heartbert_hf.data.record_files import list_local_records

SAMPLE = Path(__file__).resolve().parents[1] / "heartbert_hf" / "sample_data"


def write_as(folder: Path, name: str, source: str, seconds: int = 30, hour_ago: bool = True) -> np.ndarray:
    """Write ``seconds`` of shipped record ``source`` as record ``name`` (format 212); return ``(leads, samples)``."""
    import wfdb

    rec = wfdb.rdrecord(str(SAMPLE / source), sampto=360 * seconds)
    wfdb.wrsamp(
        name,
        fs=360,
        units=["mV", "mV"],
        sig_name=["MLII", "V1"],
        p_signal=rec.p_signal,
        fmt=["212", "212"],
        adc_gain=[200, 200],
        baseline=[0, 0],
        write_dir=str(folder),
    )
    if hour_ago:  # as if downloaded earlier: a later rewrite gets a different mtime even on coarse clocks
        earlier = time.time() - 3600
        for ext in ("hea", "dat"):
            os.utime(folder / f"{name}.{ext}", (earlier, earlier))
    return rec.p_signal.T


def first_window(data: Path, cache: Path, **kwargs) -> tuple[np.ndarray, list[str]]:
    ds = load_physionet("mitdb", "windows", data_dir=data, cache_dir=cache, records=["101"], **kwargs)["train"]
    return np.asarray(ds[0]["signal"], dtype=np.float64), [f["filename"] for f in ds.cache_files]


# ------------------------------------------------------------------ cache freshness
def test_replaced_record_is_rebuilt_not_served_from_the_cache(tmp_path):
    data, cache = tmp_path / "mitdb", tmp_path / "cache"
    data.mkdir()
    old = write_as(data, "101", "101")
    w1, files1 = first_window(data, cache)
    np.testing.assert_allclose(w1, old[:, : w1.shape[1]], atol=0.01)
    new = write_as(data, "101", "208", hour_ago=False)
    w2, files2 = first_window(data, cache)
    np.testing.assert_allclose(w2, new[:, : w2.shape[1]], atol=0.01)
    assert not np.allclose(w2, old[:, : w2.shape[1]], atol=0.01) and files2 != files1


def test_unchanged_files_reuse_the_prepared_dataset(tmp_path):
    data, cache = tmp_path / "mitdb", tmp_path / "cache"
    data.mkdir()
    write_as(data, "101", "101")
    w1, files1 = first_window(data, cache)
    w2, files2 = first_window(data, cache)
    assert files2 == files1 and np.array_equal(w1, w2)


def test_cache_dir_inside_data_dir_is_left_out_of_the_fingerprint(tmp_path):
    data = tmp_path / "mitdb"
    data.mkdir()
    write_as(data, "101", "101")
    _, files1 = first_window(data, data / "hf_cache")
    _, files2 = first_window(data, data / "hf_cache")
    assert files2 == files1


def test_builder_config_carries_the_fingerprint_of_data_dir(tmp_path):
    write_as(tmp_path, "101", "101")
    builder = get_builder("mitdb", "windows", data_dir=str(tmp_path), cache_dir=str(tmp_path / "c"), records=["101"])
    assert builder.config.source_fingerprint == builder_base.source_fingerprint(tmp_path, exclude=[tmp_path / "c"])
    remote = get_builder("mitdb", "windows", cache_dir=str(tmp_path / "c"), records=["101"])
    assert remote.config.source_fingerprint is None  # downloads are cached by URL by datasets itself


@pytest.mark.parametrize("change", ["rewrite_same_size", "touch", "grow", "add_file", "remove_file", "rename_file"])
def test_fingerprint_changes_with_names_sizes_and_mtimes(tmp_path, change):
    write_as(tmp_path, "101", "101")
    write_as(tmp_path, "118", "118")
    before = builder_base.source_fingerprint(tmp_path)
    dat = tmp_path / "101.dat"
    if change == "rewrite_same_size":
        raw = bytearray(dat.read_bytes())
        raw[100] ^= 0xFF
        dat.write_bytes(bytes(raw))
    elif change == "touch":
        os.utime(dat, None)
    elif change == "grow":
        with dat.open("ab") as fh:
            fh.write(b"\0\0\0")
        os.utime(dat, (dat.stat().st_atime, dat.stat().st_mtime - 7200))  # even with an older mtime
    elif change == "add_file":
        write_as(tmp_path, "208", "208")
    elif change == "remove_file":
        (tmp_path / "118.dat").unlink()
    else:
        (tmp_path / "118.dat").rename(tmp_path / "119.dat")
    assert builder_base.source_fingerprint(tmp_path) != before


def test_fingerprint_ignores_hidden_files_and_reads_no_file(tmp_path, monkeypatch):
    write_as(tmp_path, "101", "101")
    before = builder_base.source_fingerprint(tmp_path)
    (tmp_path / ".DS_Store").write_bytes(b"x")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a.txt").write_text("x")

    def no_reading(*args, **kwargs):
        raise AssertionError("source_fingerprint must only stat files")

    monkeypatch.setattr("builtins.open", no_reading)
    assert builder_base.source_fingerprint(tmp_path) == before


def test_fingerprint_covers_subfolders(tmp_path):
    sub = tmp_path / "records500" / "00000"
    sub.mkdir(parents=True)
    write_as(sub, "00001_hr", "101")
    before = builder_base.source_fingerprint(tmp_path)
    os.utime(sub / "00001_hr.dat", None)
    assert builder_base.source_fingerprint(tmp_path) != before


# ------------------------------------------------------------------ RECORDS
@pytest.fixture
def three_records(tmp_path) -> Path:
    for name in ("101", "118", "208"):
        write_as(tmp_path, name, name, seconds=12)
    return tmp_path


def test_records_file_omitting_headers_warns_with_the_count(three_records, caplog):
    (three_records / "RECORDS").write_text("101\n")
    with caplog.at_level(logging.WARNING, logger="heartbert_hf.data.record_files"):
        names = list_local_records(three_records)
    assert names == ["101"]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("omits 2 record(s)" in m and "2 record(s) skipped" in m and "118, 208" in m for m in messages), messages


def test_complete_records_file_and_no_records_file_do_not_warn(three_records, caplog):
    with caplog.at_level(logging.WARNING, logger="heartbert_hf.data.record_files"):
        assert list_local_records(three_records) == ["101", "118", "208"]
        (three_records / "RECORDS").write_text("208\n101\n118\n")
        assert list_local_records(three_records) == ["208", "101", "118"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_records_file_listing_absent_records_warns(three_records, caplog):
    (three_records / "RECORDS").write_text("101\n118\n208\n209\n210\n")
    with caplog.at_level(logging.WARNING, logger="heartbert_hf.data.record_files"):
        assert list_local_records(three_records) == ["101", "118", "208"]
    assert any("2 record(s) skipped (209, 210)" in r.getMessage() for r in caplog.records)


def test_records_file_does_not_count_segments_of_listed_records(tmp_path, caplog):
    write_as(tmp_path, "seg_1", "101", seconds=10)
    write_as(tmp_path, "seg_2", "101", seconds=10)
    (tmp_path / "rec.hea").write_text("rec/2 2 360 7200\nseg_1 3600\nseg_2 3600\n")
    (tmp_path / "RECORDS").write_text("rec\n")
    with caplog.at_level(logging.WARNING, logger="heartbert_hf.data.record_files"):
        assert list_local_records(tmp_path) == ["rec"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_builder_warns_when_records_file_skips_records(three_records, caplog):
    (three_records / "RECORDS").write_text("101\n")
    with caplog.at_level(logging.WARNING, logger="heartbert_hf.data.record_files"):
        dsd = load_physionet("mitdb", "windows", data_dir=three_records, cache_dir=three_records / ".cache")
    assert set(dsd["train"]["record_id"]) == {"101"}
    assert any("omits 2 record(s)" in r.getMessage() for r in caplog.records)


def test_builder_code_is_part_of_the_cache_key(tmp_path, monkeypatch):
    """A dataset prepared by an older builder (e.g. one that kept beats past the record end) is not
    served to a fixed one: the builder code's digest is the datasets ``hash`` (a cache subfolder)."""
    import importlib.util
    import sys

    module_file = tmp_path / "fake_builder.py"
    module_file.write_text("X = 1\n")
    spec = importlib.util.spec_from_file_location("fake_builder", module_file)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "fake_builder", module)
    spec.loader.exec_module(module)
    cls = type("FakeBuilder", (), {"__module__": "fake_builder"})
    before = builder_base.builder_code_hash(cls)
    module_file.write_text("X = 2\n")
    assert builder_base.builder_code_hash(cls) != before

    folder = tmp_path / "d"
    folder.mkdir()
    write_as(folder, "101", "101")
    builder = get_builder("mitdb", "windows", data_dir=folder, cache_dir=tmp_path / "cache")
    assert builder.hash == builder_base.builder_code_hash(type(builder))
    assert builder.cache_dir.rstrip("/").split("/")[-1] == builder.hash
    monkeypatch.setattr(builder_base, "builder_code_hash", lambda cls: "0123456789abcdef")
    changed = get_builder("mitdb", "windows", data_dir=folder, cache_dir=tmp_path / "cache")
    assert changed.cache_dir != builder.cache_dir
