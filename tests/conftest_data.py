"""Fixtures for the data tests: real-format WFDB records written into tmp dirs (EDB from the shared
excerpts, an slpdb-format record), EDF / EDF+ files, upper-case record copies; imported by the tests."""

from __future__ import annotations

import shutil
import tempfile
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


# ------------------------------------------------------------------ EDF files, upper-case copies
def write_edf(path: Path, signals: list[dict], n_records: int, variant: str = "EDF+C", seconds: float = 1.0, declared: int | None = None) -> Path:
    """Write an EDF / EDF+ file. Each signal: ``label``, ``spr`` (samples per data record), and either
    ``digital`` (int16 values, ``n_records x spr``) with ``dmin``/``dmax``/``pmin``/``pmax``, or none (an
    annotation signal: a time-keeping TAL per data record)."""

    def field(value, width: int) -> bytes:
        return str(value)[:width].ljust(width).encode("ascii")

    n = len(signals)
    head = field("0", 8) + field("X X X X", 80) + field("Startdate 02-JAN-2003 X X X", 80) + field("02.01.03", 8) + field("04.05.06", 8)
    head += field(256 * (n + 1), 8) + field(variant, 44) + field(n_records if declared is None else declared, 8) + field(f"{seconds:g}", 8) + field(n, 4)
    for key, width, default in [("label", 16, ""), ("transducer", 80, ""), ("unit", 8, ""), ("pmin", 8, -1), ("pmax", 8, 1)]:
        head += b"".join(field(s.get(key, default), width) for s in signals)
    head += b"".join(field(s.get("dmin", -32768), 8) for s in signals) + b"".join(field(s.get("dmax", 32767), 8) for s in signals)
    head += b"".join(field("", 80) for s in signals) + b"".join(field(s["spr"], 8) for s in signals) + b"".join(field("", 32) for s in signals)
    body = bytearray()
    for r in range(n_records):
        for s in signals:
            if "digital" in s:
                body += np.asarray(s["digital"][r * s["spr"] : (r + 1) * s["spr"]], dtype="<i2").tobytes()
            else:  # an EDF+ annotation signal: the time-keeping TAL
                body += f"+{r * seconds:g}\x14\x14\x00".encode().ljust(2 * s["spr"], b"\x00")
    path.write_bytes(head + bytes(body))
    return path


def edf_leads(n_records: int, fs: int = 250) -> tuple[dict, dict]:
    """Two ECG leads whose physical values are known exactly: ``MLII`` = digital / 200 mV
    (-2048..2047 ↔ -10.24..10.235 mV), ``V1`` = digital x 0.002 - 1 mV (0..1000 ↔ -1..1 mV)."""
    t = np.arange(n_records * fs)
    mlii = dict(label="ECG MLII", unit="mV", spr=fs, dmin=-2048, dmax=2047, pmin=-10.24, pmax=10.235, digital=np.round(300 * np.sin(t / 7)).astype(int))
    v1 = dict(label="ECG V1", unit="mV", spr=fs, dmin=0, dmax=1000, pmin=-1, pmax=1, digital=(500 + np.round(400 * np.cos(t / 11))).astype(int))
    return mlii, v1


@pytest.fixture
def card(sample_dir, tmp_path, monkeypatch):
    """Sample 101 as 101.HEA / 101.DAT / 101.ATR; temporary folders go under tmp_path/tmp, so that none is left behind."""
    folder = tmp_path / "CARD"
    folder.mkdir()
    for ext in ("hea", "dat", "atr"):
        shutil.copy(sample_dir / f"101.{ext}", folder / f"101.{ext.upper()}")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return folder
