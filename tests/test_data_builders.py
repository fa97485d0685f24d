"""PhysioNet builders on real data: the shipped MIT-BIH sample (CI), ../shared/physionet when present."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from conftest_data import edb_dir, sample_copy, slpdb_dir  # noqa: F401  (fixtures)

from heartbert_hf.data import get_builder_class, load_physionet
from heartbert_hf.data.splits import MITDB_DS1, MITDB_DS2, MITDB_PACED, group_splits, kfold_records
from heartbert_hf.data.wfdb_io import read_record

# AAMI EC57 written out here, independently of heartbert_hf.data.labels
AAMI_TEST = {**dict.fromkeys("NLRej", "N"), **dict.fromkeys("AaJS", "S"), **dict.fromkeys("VE", "V"), "F": "F", **dict.fromkeys("/fQ", "Q")}


def _aami_counts_from_rdann(path) -> collections.Counter:
    import wfdb

    ann = wfdb.rdann(str(path), "atr")
    return collections.Counter(AAMI_TEST[s] for s in ann.symbol if s in AAMI_TEST)


def _builder_counts(dsd, record) -> collections.Counter:
    ds = dsd["train"].filter(lambda r: r == record, input_columns="record_id")
    names = ds.features["label"].names
    return collections.Counter(names[i] for i in ds["label"])


def test_mitdb_beats_aami_counts_match_rdann(tmp_path, sample_dir):
    dsd = load_physionet("mitdb", "beats", data_dir=sample_dir, cache_dir=tmp_path, records=["208"])
    assert list(dsd) == ["train"]  # 208 is a DS1 record
    assert _builder_counts(dsd, "208") == _aami_counts_from_rdann(sample_dir / "208")
    row = dsd["train"][5]
    sig = np.asarray(row["signal"])
    assert sig.shape == (2, 721) and row["lead_names"] == ["MLII", "V1"] and row["sampling_rate"] == 360
    assert row["r_peak"] - row["start"] == row["r_peak_index"] == 360
    full = read_record(sample_dir / "208").signal
    np.testing.assert_allclose(sig, full[:, row["start"] : row["start"] + 721], rtol=1e-6)


def test_mitdb_windows_and_streaming(tmp_path, sample_dir):
    dsd = load_physionet("mitdb", "windows", data_dir=sample_dir, cache_dir=tmp_path, records=["101"], window_seconds=60)
    assert len(dsd["train"]) == 10  # 10 min in 60-s windows
    first = dsd["train"][0]
    assert np.asarray(first["signal"]).shape == (2, 21600) and first["start"] == 0
    streamed = load_physionet("mitdb", "windows", data_dir=sample_dir, streaming=True, records=["101"], window_seconds=60)
    item = next(iter(streamed["train"]))
    np.testing.assert_array_equal(np.asarray(item["signal"], dtype=np.float32), np.asarray(first["signal"], dtype=np.float32))


@pytest.mark.parametrize(
    "damage, error, match",
    [
        ("missing_dat", FileNotFoundError, "101.dat .*missing"),
        ("truncated_dat", ValueError, "truncated"),
        ("longer_dat", ValueError, "header/sample mismatch"),
        ("corrupt_sample", ValueError, "checksum"),
    ],
)
def test_bad_records_fail_clearly(tmp_path, sample_copy, damage, error, match):
    dat = sample_copy / "101.dat"
    if damage == "missing_dat":
        dat.unlink()
    elif damage == "truncated_dat":
        dat.write_bytes(dat.read_bytes()[: dat.stat().st_size // 2])
    elif damage == "longer_dat":
        hea = sample_copy / "101.hea"
        hea.write_text(hea.read_text().replace("101 2 360 216000", "101 2 360 200000", 1))
    else:
        raw = bytearray(dat.read_bytes())
        raw[300000] ^= 0x5A
        dat.write_bytes(bytes(raw))
    with pytest.raises(error, match=match):
        load_physionet("mitdb", "windows", data_dir=sample_copy, cache_dir=tmp_path / "cache", records=["101"])


def test_unknown_config_and_database(sample_dir):
    with pytest.raises(ValueError, match="unknown config 'rhythm' for mitdb"):
        load_physionet("mitdb", "rhythm", data_dir=sample_dir)
    with pytest.raises(ValueError, match="unknown PhysioNet database"):
        load_physionet("mimic", data_dir=sample_dir)
    with pytest.raises(ValueError, match="sampling_rate must be 100 or 500"):
        get_builder_class("ptbxl")(config_name="diagnostic", sampling_rate=250)


def test_split_helpers_are_disjoint():
    assert not set(MITDB_DS1) & set(MITDB_DS2) and not set(MITDB_PACED) & set(MITDB_DS1 + MITDB_DS2)
    folds = [set(kfold_records(MITDB_DS1, 5, k)[1]) for k in range(5)]
    assert set().union(*folds) == set(MITDB_DS1) and sum(len(f) for f in folds) == len(MITDB_DS1)
    splits = group_splits([f"s{i}" for i in range(20)], {"train": 0.8, "validation": 0.1, "test": 0.1})
    assert [len(v) for v in splits.values()] == [16, 2, 2]
    assert len(set().union(*map(set, splits.values()))) == 20


# ------------------------------------------------------------------ ../shared/physionet (skipped in CI)
def test_mitdb_shared_splits_disjoint_and_counts(tmp_path, shared_physionet):
    dsd = load_physionet("mitdb", "windows", data_dir=shared_physionet / "mitdb", cache_dir=tmp_path, n_folds=5, fold=0, leads=["MLII"], window_seconds=600)
    records = {split: set(ds["record_id"]) for split, ds in dsd.items()}
    assert set(records) == {"train", "validation"}  # DS2 is not in ../shared
    assert records["train"] | records["validation"] == set(MITDB_DS1)
    assert not records["train"] & records["validation"]
    assert not (records["train"] | records["validation"]) & set(MITDB_PACED)
    patients = {split: set(ds["patient_id"]) for split, ds in dsd.items()}
    assert not patients["train"] & patients["validation"]
    assert all(names == ["MLII"] for names in dsd["train"]["lead_names"])  # 114 has MLII second


def test_mitdb_shared_full_record_aami_counts(tmp_path, shared_physionet):
    dsd = load_physionet("mitdb", "beats", data_dir=shared_physionet / "mitdb", cache_dir=tmp_path, records=["119"], leads=["MLII"], beat_seconds=0.1)
    assert _builder_counts(dsd, "119") == _aami_counts_from_rdann(shared_physionet / "mitdb" / "119")


def test_ptbxl_superdiagnostic_matches_scp_statements(tmp_path, shared_physionet):
    import ast

    import pandas as pd

    root = shared_physionet / "ptb-xl"
    dsd = load_physionet("ptbxl", data_dir=root, cache_dir=tmp_path, skip_missing=True, leads=["I", "II"])
    meta = pd.read_csv(root / "ptbxl_database_subset.csv", index_col="ecg_id")
    scp = pd.read_csv(root / "scp_statements.csv", index_col=0)
    scp = scp[scp.diagnostic == 1]
    seen = 0
    for split, ds in dsd.items():
        names = ds.features["superdiagnostic"].feature.names
        for row in ds.select_columns(["ecg_id", "superdiagnostic", "strat_fold", "patient_id"]):
            codes = ast.literal_eval(meta.loc[row["ecg_id"], "scp_codes"])
            expected = {scp.loc[c, "diagnostic_class"] for c in codes if c in scp.index}
            assert {names[i] for i in row["superdiagnostic"]} == expected, row["ecg_id"]
            assert row["strat_fold"] in {"train": range(1, 9), "validation": [9], "test": [10]}[split]
            seen += 1
    assert seen == 17  # the subset's 18 rows, less ecg_id 1 (it has only the 100 Hz file here)
    patients = [set(ds["patient_id"]) for ds in dsd.values()]
    assert not set.intersection(*patients) if len(patients) > 1 else True
    assert np.asarray(dsd["train"][0]["signal"]).shape == (2, 5000)


def test_ptbxl_100hz_and_missing_record_error(tmp_path, shared_physionet):
    root = shared_physionet / "ptb-xl"
    dsd = load_physionet("ptbxl", data_dir=root, cache_dir=tmp_path, sampling_rate=100, records=[1])
    row = dsd["train"][0]
    assert row["ecg_id"] == 1 and row["sampling_rate"] == 100 and np.asarray(row["signal"]).shape == (12, 1000)
    with pytest.raises(FileNotFoundError, match="00001_hr .*skip_missing"):
        load_physionet("ptbxl", data_dir=root, cache_dir=tmp_path / "b", records=[1])


def test_edb_windows_and_episodes(tmp_path, edb_dir):
    dsd = load_physionet("edb", data_dir=edb_dir, cache_dir=tmp_path)
    split_records = {split: set(ds["record_id"]) for split, ds in dsd.items()}
    assert set().union(*split_records.values()) == {"e0103", "e0110", "e0124"}
    assert sum(len(r) for r in split_records.values()) == 3  # each record in exactly one split
    ds = next(ds for ds in dsd.values() if "e0103" in ds["record_id"]).filter(lambda r: r == "e0103", input_columns="record_id")
    size = round(4000 / 360 * 250)
    assert len(ds) == 30000 // size + (30000 % size >= 250)
    for row in ds.select_columns(["start", "st_episode", "t_episode", "episodes", "has_annotations"]):
        stop = row["start"] + size
        assert row["has_annotations"]
        assert row["st_episode"] == (row["start"] < 12000 and stop > 5000)
        assert row["t_episode"] == (row["start"] < 14000 and stop > 9000)
    others = next(iter(dsd.values())).filter(lambda r: r != "e0103", input_columns="record_id")
    assert not any(others["has_annotations"])  # e0110 and e0124 have no .atr here


def test_slpdb_epochs_stages_and_subject_split(tmp_path, slpdb_dir):
    dsd = load_physionet("slpdb", data_dir=slpdb_dir, cache_dir=tmp_path, split_fractions={"train": 0.5, "test": 0.5})
    subjects = {split: set(ds["patient_id"]) for split, ds in dsd.items()}
    assert set(subjects) == {"train", "test"} and not subjects["train"] & subjects["test"]
    by_record = collections.defaultdict(set)
    for split, ds in dsd.items():
        for rec in ds["record_id"]:
            by_record[rec].add(split)
    assert by_record["slp01a"] == by_record["slp01b"] and all(len(s) == 1 for s in by_record.values())
    ds = next(ds for ds in dsd.values() if "slp03" in ds["record_id"]).filter(lambda r: r == "slp03", input_columns="record_id")
    five, three = ds.features["stage5"].names, ds.features["stage3"].names
    assert ds["stage"] == ["W", "1", "4"]  # MT skipped
    assert [five[i] for i in ds["stage5"]] == ["W", "S1", "S3+S4"]
    assert [three[i] for i in ds["stage3"]] == ["W", "NREM", "NREM"]
    row = ds[1]
    assert row["lead_names"] == ["ECG"] and np.asarray(row["signal"]).shape == (1, 7500) and row["epoch"] == 1
