"""Fixtures for the data tests: real-format WFDB records written into tmp dirs (EDB from the shared
excerpts, an slpdb-format record), imported by the tests/test_data*.py files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

EDB_EXCERPTS = ("e0103", "e0110", "e0124")


def excerpt(shared: Path, name: str) -> np.ndarray:
    """One European ST-T CSV excerpt (250 Hz, one column per lead) as ``(samples, leads)``."""
    data = np.loadtxt(shared / "excerpts" / f"{name}.csv", delimiter=",", ndmin=2)
    return data


def write_record(folder: Path, name: str, p_signal: np.ndarray, fs: float, sig_name: list[str]) -> None:
    import wfdb

    wfdb.wrsamp(
        name,
        fs=fs,
        units=["mV"] * len(sig_name),
        sig_name=sig_name,
        p_signal=p_signal,
        fmt=["16"] * len(sig_name),
        adc_gain=[200.0] * len(sig_name),
        baseline=[0] * len(sig_name),
        write_dir=str(folder),
    )


@pytest.fixture(scope="session")
def edb_dir(tmp_path_factory, shared_physionet) -> Path:
    """The three EDB excerpts as WFDB records; e0103 also gets an .atr with one ST and one T episode."""
    import wfdb

    folder = tmp_path_factory.mktemp("edb")
    for name in EDB_EXCERPTS:
        write_record(folder, name, excerpt(shared_physionet, name), 250, ["ECG"])
    # European ST-T episode notes: "(ST0+" opens an ST elevation episode in lead 0, "ST0+)" closes it
    wfdb.wrann(
        "e0103",
        "atr",
        np.array([100, 5000, 9000, 12000, 14000]),
        symbol=["N", '"', '"', '"', '"'],
        aux_note=["", "(ST0+", "(T0-", "ST0+)", "T0-)"],
        write_dir=str(folder),
    )
    return folder


@pytest.fixture(scope="session")
def slpdb_dir(tmp_path_factory, shared_physionet) -> Path:
    """slpdb-format records (ECG + BP at 250 Hz, .st stage notes every 30 s) from real ECG samples.

    slp01a / slp01b are one subject (as in slpdb); slp03 another. Stage notes: W, "1 OA", MT, 4.
    """
    import wfdb

    folder = tmp_path_factory.mktemp("slpdb")
    for rec, src in (("slp01a", "e0103"), ("slp01b", "e0110"), ("slp03", "e0124")):
        ecg = excerpt(shared_physionet, src)[:, :1]
        write_record(folder, rec, np.hstack([ecg, 0.5 * ecg + 1.0]), 250, ["ECG", "BP"])
        # wfdb-python drops an annotation at sample 0 on reading, so the first note sits at sample 1
        wfdb.wrann(rec, "st", np.array([1, 7500, 15000, 22500]), symbol=['"'] * 4, aux_note=["W", "1 OA", "MT", "4"], write_dir=str(folder))
    return folder


@pytest.fixture()
def sample_copy(tmp_path, sample_dir) -> Path:
    """A writable copy of the shipped sample records."""
    dst = tmp_path / "mitdb"
    shutil.copytree(sample_dir, dst)
    return dst
