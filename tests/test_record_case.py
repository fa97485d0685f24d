"""WFDB records copied with names in another case (101.HEA, 101.DAT, 101.ATR from FAT media or CD-ROMs,
the header still naming 101.dat) read as the original: header, signal files and annotations are found
without case, and errors name the real files. Every copy is made here, in tmp_path."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest_data import card  # noqa: F401  (fixture)

from heartbert_hf.data.wfdb_io import check_record_files, read_annotation, read_header, read_record


@pytest.mark.parametrize("name", ["101", "101.HEA", "101.hea", "101.DAT"])
def test_an_upper_case_copy_reads_as_the_original(sample_dir, card, name):
    """Before: "WFDB header not found: CARD/101.hea"."""
    want = read_record(sample_dir / "101")
    got = read_record(card / name)
    assert got.record_id == "101" and got.lead_names == want.lead_names and got.sampling_rate == want.sampling_rate
    assert np.array_equal(got.signal, want.signal)
    assert list((card.parent / "tmp").iterdir()) == []  # the links wfdb read through are gone


def test_headers_checks_listing_and_annotations_find_the_upper_case_files(sample_dir, card):
    assert read_header(card / "101").sig_len == read_header(sample_dir / "101").sig_len
    assert check_record_files(card / "101.HEA").fs == 360
    ann = read_annotation(card / "101", "atr")
    assert ann.extension == "ATR" and np.array_equal(ann.sample, read_annotation(sample_dir / "101", "atr").sample)
    assert read_record(card / "101", leads=["V1"]).lead_names == ["V1"]


def test_errors_name_the_real_files(card):
    dat = card / "101.DAT"
    dat.write_bytes(dat.read_bytes()[:-300])
    with pytest.raises(ValueError, match=r"truncated signal file .*CARD/101\.DAT: .* header 101\.HEA declares"):
        read_record(card / "101")
    dat.unlink()
    with pytest.raises(FileNotFoundError, match=r"signal file .*CARD/101\.dat of record 101 is missing \(named in .*CARD/101\.HEA\)"):
        read_record(card / "101")
    with pytest.raises(FileNotFoundError, match=r"WFDB header not found: .*CARD/102\.hea"):
        read_record(card / "102")


def test_the_exact_name_wins_and_names_differing_only_in_case_are_not_guessed(sample_dir, tmp_path):
    from heartbert_hf.data.record_case import find_file

    for name in ("101.hea", "101.HEA", "101.Dat", "101.DAT"):
        shutil.copy(sample_dir / f"101.{name.split('.')[1].lower()}", tmp_path / name)
    assert find_file(tmp_path / "101.hea") == tmp_path / "101.hea"
    assert find_file(tmp_path / "101.dat") is None  # 101.Dat or 101.DAT: which one is meant is unknown
    with pytest.raises(FileNotFoundError, match=r"signal file .*101\.dat of record 101 is missing"):
        read_record(tmp_path / "101")


@pytest.mark.parametrize("name", ["101", "101.HEA", "101.hea"])
def test_classify_beats_takes_an_upper_case_record_path(card, name):
    """Before: `classify-beats --record CARD/101.HEA` was "no WFDB header CARD/101.hea" (probe5 t05)."""
    from heartbert_hf.classify_beats import list_records

    assert list_records(str(card / name)) == [card / "101"]
