"""Folders of EDF files and of records with upper-case names are folders of records (list_local_records,
classify-beats' and embed's folder listing), and embed's inputs: EDF+ leads chosen from the header,
upper-case header paths. Every file is written here, in tmp_path."""

from __future__ import annotations

import shutil

import numpy as np
from conftest_data import (
    card,  # noqa: F401  (fixture)
    edf_leads,
    write_edf,
)

from heartbert_hf.data.record_files import list_local_records
from heartbert_hf.data.wfdb_io import read_record

ANN = "EDF Annotations"


def test_a_folder_lists_its_edf_files_in_any_case_as_records(sample_dir, tmp_path):
    """Before: a folder of EDF files was "no WFDB records (*.hea)". Annotation-only EDF+ files (hypnograms) are no records."""
    mlii, v1 = edf_leads(2)
    write_edf(tmp_path / "patient2.edf", [mlii, dict(label=ANN, spr=30)], 2)
    write_edf(tmp_path / "PATIENT1.EDF", [mlii, v1], 2, variant="")
    write_edf(tmp_path / "patient1-Hypnogram.edf", [dict(label=ANN, spr=30)], 2)
    for ext in ("hea", "dat"):
        shutil.copy(sample_dir / f"101.{ext}", tmp_path / f"101.{ext}")
    assert list_local_records(tmp_path) == ["101", "PATIENT1.EDF", "patient2.edf"]
    assert list_local_records(tmp_path, edf=False) == ["101"]  # the database builders: WFDB records only
    rec = read_record(tmp_path / "PATIENT1.EDF")
    assert rec.record_id == "PATIENT1" and rec.lead_names == ["ECG MLII", "ECG V1"]


def test_records_listing_edf_files_is_followed(tmp_path, caplog):
    """PhysioNet's EDF databases list their files with the extension (Sleep-EDF: sleep-cassette/SC4001E0-PSG.edf)."""
    from heartbert_hf.classify_beats import list_records

    mlii, _ = edf_leads(2)
    (tmp_path / "cassette").mkdir()
    for name in ("cassette/SC4001E0-PSG.edf", "b.edf", "a.edf"):
        write_edf(tmp_path / name, [mlii, dict(label=ANN, spr=30)], 2)
    (tmp_path / "RECORDS").write_text("cassette/SC4001E0-PSG.edf\nB.EDF\nmissing.edf\n")
    assert list_local_records(tmp_path) == ["cassette/SC4001E0-PSG.edf", "b.edf"]
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "1 record(s) skipped (missing.edf)" in messages and "omits 1 record(s) whose .hea or .edf file is in the folder" in messages
    assert [p.relative_to(tmp_path).as_posix() for p in list_records(str(tmp_path))] == ["cassette/SC4001E0-PSG.edf", "b.edf"]


def test_a_folder_lists_upper_case_headers_as_records(card):
    """Before: "no WFDB records (*.hea) in folder" although it holds 101.HEA."""
    assert list_local_records(card) == ["101"]


def test_embed_chooses_edf_ecg_leads_from_the_header(tmp_path):
    """A PSG-like EDF+ file: the EEG at another rate is left out before reading, so the ECG is embedded."""
    from heartbert_hf.embed import iter_sources

    mlii, _ = edf_leads(2)
    eeg = dict(label="EEG Fpz-Cz", unit="uV", spr=100, dmin=-100, dmax=100, pmin=-100, pmax=100, digital=np.zeros(200, int))
    write_edf(tmp_path / "psg.edf", [eeg, mlii, dict(label=ANN, spr=60)], 2)
    (source,) = iter_sources([str(tmp_path / "psg.edf")], None, None)
    signal, rate, names = source.load()
    assert source.name == "psg" and names == ["ECG MLII"] and rate == 250.0 and np.allclose(signal[0], mlii["digital"] / 200, atol=1e-6)
    assert source.left_out == ["EEG Fpz-Cz [uV]"]


def test_embed_takes_an_upper_case_header_path(sample_dir, card):
    """Before: "input CARD/101.HEA is neither a WFDB record (no CARD/101.HEA.hea) ..."."""
    from heartbert_hf.embed import iter_sources

    (source,) = iter_sources([str(card / "101.HEA")], None, None)
    signal, rate, names = source.load()
    assert source.name == "101" and names == ["MLII", "V1"] and rate == 360.0
    assert np.array_equal(signal, read_record(sample_dir / "101").signal)
