"""Task registry, splits (disjoint by record / patient), metrics, and PTB-XL / slpdb end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest_data import excerpt, write_record

COMMON = ["--num_train_epochs", "1", "--per_device_train_batch_size", "16", "--torch_threads", "1"]


# ------------------------------------------------------------------ metrics
def test_classification_metrics_known_values():
    from heartbert_hf.metrics import classification_metrics

    labels = ["N", "S", "V", "F"]
    y_true = [0, 0, 0, 0, 1, 1, 2, 2, 3]
    y_pred = [0, 0, 0, 1, 1, 0, 2, 2, 0]
    m = classification_metrics(y_true, y_pred, labels)
    assert m["accuracy"] == pytest.approx(6 / 9)
    assert m["per_class"]["N"]["sensitivity"] == pytest.approx(3 / 4) and m["per_class"]["N"]["ppv"] == pytest.approx(3 / 5)
    assert m["per_class"]["S"]["sensitivity"] == pytest.approx(1 / 2) and m["per_class"]["S"]["ppv"] == pytest.approx(1 / 2)
    assert m["per_class"]["F"]["sensitivity"] == 0.0 and m["per_class"]["F"]["support"] == 1
    assert m["j_index"] == pytest.approx(0.5 + 1 + 0.5 + 1)
    assert m["jk_index"] == pytest.approx(m["cohen_kappa"] / 2 + m["j_index"] / 8)
    assert m["confusion_matrix"][3] == [1, 0, 0, 0]
    with pytest.raises(ValueError, match="not in the label space"):
        classification_metrics(y_true, y_pred, labels, report_classes=["N", "Q"])


def test_multilabel_metrics_and_tuned_thresholds():
    from heartbert_hf.metrics import multilabel_metrics, tune_thresholds

    rng = np.random.default_rng(0)
    y = np.zeros((40, 3), dtype=int)
    y[:20, 0] = 1
    y[::4, 1] = 1  # class 2 never occurs: its AUROC is undefined, not averaged in
    probs = np.clip(0.25 * y + rng.uniform(0, 0.3, y.shape), 0, 1)  # positives score 0.25-0.55, below 0.5 often
    thr = tune_thresholds(y, probs)
    assert thr[2] == 0.5 and 0.2 <= thr[0] <= 0.35
    at_half = multilabel_metrics(y, probs, ["A", "B", "C"])
    tuned = multilabel_metrics(y, probs, ["A", "B", "C"], thr)
    assert tuned["macro_f1"] > at_half["macro_f1"]
    assert tuned["auroc_undefined"] == ["C"] and tuned["auroc_classes"] == ["A", "B"]
    assert tuned["macro_auroc"] == pytest.approx(np.mean([tuned["per_class"]["A"]["auroc"], tuned["per_class"]["B"]["auroc"]]))
    with pytest.raises(ValueError, match=r"\(n, classes\)"):
        multilabel_metrics(y[:, :2], probs, ["A", "B"])


# ------------------------------------------------------------------ registry and splits
def test_task_registry():
    from heartbert_hf.tasks import TASKS, get_task, task_labels

    assert set(TASKS) == {"mitdb-aami", "ptbxl-superdiagnostic", "ptbxl-diagnostic", "slpdb-5", "slpdb-3"}
    assert task_labels(get_task("slpdb-5")) == ["W", "S1", "S2", "S3+S4", "R"]
    assert task_labels(get_task("slpdb-3")) == ["W", "NREM", "R"]
    assert get_task("ptbxl-superdiagnostic").multi_label and not get_task("mitdb-aami").multi_label
    with pytest.raises(ValueError, match="unknown task 'ptbxl'"):
        get_task("ptbxl")
    with pytest.raises(ValueError, match="scp_statements.csv"):
        task_labels(get_task("ptbxl-diagnostic"))


def test_check_disjoint_catches_leak():
    import datasets

    from heartbert_hf.tasks import check_disjoint

    a = datasets.Dataset.from_dict({"patient_id": ["1", "2"]})
    b = datasets.Dataset.from_dict({"patient_id": ["2", "3"]})
    with pytest.raises(ValueError, match="share patient_id \\['2'\\]"):
        check_disjoint({"train": a, "test": b})


def test_cv_folds_are_record_wise_and_cover_ds1():
    from heartbert_hf.data.splits import MITDB_DS1
    from heartbert_hf.tasks import cv_folds

    folds = cv_folds(MITDB_DS1, 5)
    held = [r for _, test in folds for r in test]
    assert sorted(held) == sorted(MITDB_DS1)  # each record held out exactly once
    for train, test in folds:
        assert not set(train) & set(test) and sorted(train + test) == sorted(MITDB_DS1)


@pytest.mark.slow
def test_mitdb_shared_validation_split_is_record_wise(shared_physionet, tmp_path):
    from heartbert_hf.data.splits import MITDB_DS1, MITDB_PACED
    from heartbert_hf.tasks import get_task, load_task_data

    data = load_task_data(get_task("mitdb-aami"), str(shared_physionet / "mitdb"), str(tmp_path))
    train, val = set(data["train"]["record_id"]), set(data["validation"]["record_id"])
    assert train | val == set(MITDB_DS1) and not train & val and len(val) in (4, 5)
    assert not (train | val) & set(MITDB_PACED) and "test" not in data


# ------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def slpdb_subjects_dir(tmp_path_factory, shared_physionet) -> Path:
    """slpdb-format records of 4 subjects (slp01a/b one subject) from real ECG excerpts, 250 Hz."""
    import wfdb

    folder = tmp_path_factory.mktemp("slpdb4")
    sources = {"slp01a": "e0103", "slp01b": "e0110", "slp02": "e0124", "slp03": "e0110", "slp04": "e0103"}
    notes = {
        "slp01a": ["W", "1 OA", "2", "R"],
        "slp01b": ["2", "3", "4", "W"],
        "slp02": ["W", "R", "2", "1"],
        "slp03": ["4", "2", "W", "R"],
        "slp04": ["R", "1", "2", "W"],
    }
    for rec, src in sources.items():
        write_record(folder, rec, excerpt(shared_physionet, src)[:, :1], 250, ["ECG"])
        wfdb.wrann(rec, "st", np.array([1, 7500, 15000, 22499]), symbol=['"'] * 4, aux_note=notes[rec], write_dir=str(folder))
    return folder


@pytest.mark.parametrize("task", ["slpdb-5", "slpdb-3"])
def test_slpdb_end_to_end_subject_wise(task, slpdb_subjects_dir, tiny_model_dir, tmp_path):
    from heartbert_hf.finetune import main

    out = tmp_path / task
    assert (
        main(
            [
                "--task",
                task,
                "--model",
                str(tiny_model_dir),
                "--data_dir",
                str(slpdb_subjects_dir),
                "--output_dir",
                str(out),
                "--cache_dir",
                str(tmp_path / "cache"),
                "--no_baseline",
                *COMMON,
            ]
        )
        == 0
    )
    report = json.loads((out / "results.json").read_text())
    subjects = report["splits"]
    assert set(subjects) == {"train", "validation", "test"}
    assert sum(len(s) for s in subjects.values()) == 4 and len(set().union(*subjects.values())) == 4  # disjoint subjects
    for split in ("validation", "test"):
        res = report["arms"]["pretrained"][split]
        assert np.isfinite([res["macro_f1"], res["accuracy"], res["cohen_kappa"]]).all()
        assert res["n"] == sum(sum(r) for r in res["confusion_matrix"]) > 0
    assert report["labels"] == (["W", "S1", "S2", "S3+S4", "R"] if task == "slpdb-5" else ["W", "NREM", "R"])


def test_ptbxl_superdiagnostic_multilabel_end_to_end(shared_physionet, tiny_model_dir, tmp_path):
    from heartbert_hf.evaluate import main as evaluate_main
    from heartbert_hf.finetune import main

    out = tmp_path / "ptbxl"
    assert (
        main(
            [
                "--task",
                "ptbxl-superdiagnostic",
                "--model",
                str(tiny_model_dir),
                "--data_dir",
                str(shared_physionet / "ptb-xl"),
                "--output_dir",
                str(out),
                "--cache_dir",
                str(tmp_path / "cache"),
                "--skip_missing_records",
                *COMMON,
            ]
        )
        == 0
    )
    report = json.loads((out / "results.json").read_text())
    patients = report["splits"]
    assert set(patients) == {"train", "test"}  # the shared subset has no fold-9 record
    assert not set(patients["train"]) & set(patients["test"])
    assert report["arms_run"] == ["random", "pretrained"]
    for arm in ("pretrained", "random"):
        res = report["arms"][arm]
        assert res["thresholds_tuned_on"] == "train"  # flagged, since there is no validation split
        assert set(res["thresholds"]) == {"NORM", "MI", "STTC", "CD", "HYP"}
        test = res["test"]
        assert np.isfinite(test["macro_f1"]) and test["n"] == 3
        # every fold-10 record is NORM: AUROC is undefined for all classes, and said so
        assert test["macro_auroc"] is None and len(test["auroc_undefined"]) == 5
    config = json.loads((out / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification" and len(config["id2label"]) == 5
    assert (
        evaluate_main(
            [
                "--model",
                str(out),
                "--data_dir",
                str(shared_physionet / "ptb-xl"),
                "--cache_dir",
                str(tmp_path / "cache"),
                "--output_dir",
                str(tmp_path / "eval"),
            ]
        )
        == 0
    )
    ev = json.loads((tmp_path / "eval" / "eval_ptbxl-superdiagnostic_test.json").read_text())
    assert ev["thresholds"] == report["arms"]["pretrained"]["thresholds"]  # the tuned thresholds travel with the model
    assert (tmp_path / "eval" / "confusion_ptbxl-superdiagnostic_test.png").is_file()


@pytest.mark.slow
def test_mitdb_cv_one_command(sample_dir, tiny_model_dir, tmp_path):
    from heartbert_hf.finetune import main

    out = tmp_path / "cv"
    assert (
        main(
            [
                "--task",
                "mitdb-aami",
                "--model",
                str(tiny_model_dir),
                "--data_dir",
                str(sample_dir),
                "--output_dir",
                str(out),
                "--cache_dir",
                str(tmp_path / "cache"),
                "--cv",
                "3",
                "--max_train_per_class",
                "30",
                "--max_eval_examples",
                "60",
                *COMMON,
            ]
        )
        == 0
    )
    report = json.loads((out / "cv_results.json").read_text())
    assert [f["test_records"] for f in report["folds"]] and sorted(r for f in report["folds"] for r in f["test_records"]) == ["101", "118", "208"]
    for arm in ("features", "random", "pretrained", "pretrained+rhythm", "random+rhythm"):
        assert len(report["arms"][arm]["macro_f1_per_fold"]) == 3 and np.isfinite(report["arms"][arm]["pooled"]["macro_f1"])
    card = report["scorecard"]
    assert card["records"] == ["101", "118", "208"] and len(card["comparisons"]) == 4
    assert all(card["arms"][a]["n"] == 180 for a in card["arms"])  # identical beats in every arm


def test_ptbxl_diagnostic_labels_and_patient_split(shared_physionet, tmp_path):
    from heartbert_hf.tasks import get_task, load_task_data, task_labels

    task = get_task("ptbxl-diagnostic")
    data_dir = str(shared_physionet / "ptb-xl")
    labels = task_labels(task, data_dir)
    assert len(labels) == 44 and {"NORM", "IRBBB", "ASMI", "NDT"} <= set(labels) and "SR" not in labels  # rhythm codes are not diagnostic
    data = load_task_data(task, data_dir, str(tmp_path), skip_missing=True)
    assert not set(data["train"]["patient_id"]) & set(data["test"]["patient_id"])
    hot = np.asarray(list(data["train"]["labels"]) + list(data["test"]["labels"]))
    assert hot.shape[1] == 44 and hot[:, labels.index("NORM")].sum() >= 10 and hot[:, labels.index("ASMI")].sum() == 1


# ------------------------------------------------------------------ the published DS1/DS2 split
@pytest.fixture(scope="module")
def mitdb48_dir(tmp_path_factory, sample_dir) -> Path:
    """All 48 MIT-BIH record names, each a 30-s copy of a shipped sample record (101, 118 or 208)
    with its beat annotations: enough to exercise the DS1/DS2 split logic (201/202 included)."""
    import wfdb

    from heartbert_hf.data.splits import MITDB_RECORDS

    folder = tmp_path_factory.mktemp("mitdb48")
    sources = ("101", "118", "208")
    n = 30 * 360
    for i, rec in enumerate(MITDB_RECORDS):
        src = str(sample_dir / sources[i % 3])
        r = wfdb.rdrecord(src, sampto=n)
        a = wfdb.rdann(src, "atr", sampto=n - 1)
        wfdb.wrsamp(
            rec,
            fs=r.fs,
            units=r.units,
            sig_name=r.sig_name,
            p_signal=r.p_signal,
            fmt=["16", "16"],
            adc_gain=[200.0, 200.0],
            baseline=[0, 0],
            write_dir=str(folder),
        )
        wfdb.wrann(rec, "atr", a.sample, symbol=a.symbol, write_dir=str(folder))
    return folder


def test_published_split_keeps_201_202_with_a_warning(mitdb48_dir, tmp_path, caplog):
    from heartbert_hf.data.splits import MITDB_DS1, MITDB_DS2
    from heartbert_hf.tasks import get_task, load_task_data

    task = get_task("mitdb-aami")
    with caplog.at_level("WARNING"):
        data = load_task_data(task, str(mitdb48_dir), str(tmp_path / "cache"))
    assert set(data["test"]["record_id"]) == set(MITDB_DS2)
    assert set(data["train"]["record_id"]) | set(data["validation"]["record_id"]) == set(MITDB_DS1)
    warned = [r.getMessage() for r in caplog.records if "published split" in r.getMessage()]
    assert len(warned) == 1 and "['201']" in warned[0] and "--strict_patients" in warned[0]
    assert len(data["train"]["rr_features"][0]) == 9
    strict = load_task_data(task, str(mitdb48_dir), str(tmp_path / "cache"), strict_patients=True)
    assert set(strict["test"]["record_id"]) == set(MITDB_DS2) - {"202"}


def test_check_disjoint_allows_only_the_published_overlap():
    import datasets

    from heartbert_hf.tasks import check_disjoint

    a = datasets.Dataset.from_dict({"patient_id": ["201", "2"]})
    b = datasets.Dataset.from_dict({"patient_id": ["201", "3"]})
    assert check_disjoint({"train": a, "test": b}, allowed=("201",))["test"] == ["201", "3"]
    c = datasets.Dataset.from_dict({"patient_id": ["201", "2"]})
    with pytest.raises(ValueError, match="share patient_id \\['2'\\]"):
        check_disjoint({"train": a, "test": c}, allowed=("201",))


def test_ds1_to_ds2_finetune_cv_and_evaluate_run(mitdb48_dir, tiny_model_dir, tmp_path, capsys):
    from heartbert_hf.evaluate import main as evaluate_main
    from heartbert_hf.finetune import main

    cache = str(tmp_path / "cache")
    common = [
        "--task",
        "mitdb-aami",
        "--model",
        str(tiny_model_dir),
        "--data_dir",
        str(mitdb48_dir),
        "--cache_dir",
        cache,
        "--max_train_per_class",
        "20",
        "--max_eval_examples",
        "40",
        "--bootstrap",
        "50",
        *COMMON,
    ]
    out = tmp_path / "ds1-ds2"
    assert main([*common, "--output_dir", str(out), "--arms", "features,pretrained+rhythm"]) == 0
    report = json.loads((out / "results.json").read_text())
    assert report["scored_split"] == "test" and not report["notes"]
    assert report["splits"]["test"][0] == "100" and "201" in report["splits"]["test"]  # patient ids: 202 is patient 201
    assert set(report["scorecard"]["arms"]) == {"features", "pretrained+rhythm"} and report["scorecard"]["arms"]["features"]["n"] == 40
    assert "scorecard (split 'test')" in capsys.readouterr().out
    assert (
        evaluate_main(
            ["--model", str(out), "--data_dir", str(mitdb48_dir), "--cache_dir", cache, "--max_eval_examples", "40", "--output_dir", str(tmp_path / "eval")]
        )
        == 0
    )
    ev = json.loads((tmp_path / "eval" / "eval_mitdb-aami_test.json").read_text())
    assert "202" in ev["records"] and ev["n"] == 40 and len(ev["ci"]["macro_f1"]) == 2
    cv = tmp_path / "cv"
    assert main([*common, "--output_dir", str(cv), "--cv", "2", "--arms", "features,random"]) == 0
    folds = json.loads((cv / "cv_results.json").read_text())["folds"]
    held = sorted(r for f in folds for r in f["test_records"])
    from heartbert_hf.data.splits import MITDB_DS1

    assert held == sorted(MITDB_DS1)  # CV runs over DS1 only, never on DS2


# ------------------------------------------------------------------ examples with no label in the task's label set
SCP_STATEMENTS = """,description,diagnostic,form,rhythm,diagnostic_class,diagnostic_subclass
NORM,normal ECG,1.0,,,NORM,NORM
IMI,inferior myocardial infarction,1.0,,,MI,IMI
SR,sinus rhythm,,,1.0,,
LVOLT,low QRS voltages,,1.0,,,
"""

# ecg_id -> (scp_codes, strat_fold): records 3, 5 and 7 have no diagnostic statement at all
PTBXL_ROWS = {
    1: ("{'NORM': 100.0, 'SR': 0.0}", 1),
    2: ("{'IMI': 50.0, 'SR': 0.0}", 2),
    3: ("{'SR': 0.0}", 3),
    4: ("{'NORM': 80.0}", 9),
    5: ("{'SR': 0.0, 'LVOLT': 0.0}", 9),
    6: ("{'IMI': 100.0, 'NORM': 0.0}", 10),
    7: ("{'SR': 0.0}", 10),
}


@pytest.fixture(scope="module")
def ptbxl_with_unlabelled(tmp_path_factory, sample_signals) -> Path:
    """A 7-record PTB-XL-format folder (100 Hz, 2 leads, 10 s cut from sample record 101): records
    3 (train), 5 (validation) and 7 (test) carry only rhythm / form statements."""
    import csv

    from scipy.signal import resample_poly

    folder = tmp_path_factory.mktemp("ptbxl")
    (folder / "scp_statements.csv").write_text(SCP_STATEMENTS)
    (folder / "records100" / "00000").mkdir(parents=True)
    x = resample_poly(sample_signals[0][:, :3600], 5, 18, axis=1).T  # (1000, 2): 10 s at 100 Hz
    with (folder / "ptbxl_database.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["ecg_id", "patient_id", "age", "sex", "scp_codes", "strat_fold", "filename_lr", "filename_hr"])
        for ecg_id, (codes, fold) in PTBXL_ROWS.items():
            name = f"{ecg_id:05d}_lr"
            write_record(folder / "records100" / "00000", name, x, 100, ["I", "II"])
            writer.writerow([ecg_id, 100 + ecg_id, 50, 0, codes, fold, f"records100/00000/{name}", f"records500/00000/{ecg_id:05d}_hr"])
    return folder


@pytest.mark.parametrize("name", ["ptbxl-superdiagnostic", "ptbxl-diagnostic"])
def test_ptbxl_records_without_a_task_label_are_dropped_with_a_warning(ptbxl_with_unlabelled, tmp_path, caplog, name):
    from heartbert_hf.tasks import get_task, load_task_data

    with caplog.at_level("WARNING", logger="heartbert_hf.tasks"):
        data = load_task_data(get_task(name), str(ptbxl_with_unlabelled), str(tmp_path / "cache"), sampling_rate=100)
    kept = {split: sorted(ds["record_id"]) for split, ds in data.items()}
    assert kept == {"train": ["00001_lr", "00002_lr"], "validation": ["00004_lr"], "test": ["00006_lr"]}
    for ds in data.values():
        assert (np.asarray(ds["labels"]).sum(axis=1) > 0).all()
        assert list(ds["example_id"]) == list(range(len(ds)))
    warned = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    for split, record, n in (("train", "00003_lr", 3), ("validation", "00005_lr", 2), ("test", "00007_lr", 2)):
        assert any(m.startswith(f"{name} {split}: dropped 1 of {n} examples with no label") and record in m for m in warned), warned
    test = np.asarray(data["test"]["labels"])
    if name == "ptbxl-superdiagnostic":  # NORM/MI/STTC/CD/HYP: record 6 is MI and NORM (likelihood 0 counts, as in PTB-XL's code)
        assert test.tolist() == [[1.0, 1.0, 0.0, 0.0, 0.0]]
    else:  # the diagnostic statements, sorted: IMI, NORM
        assert test.tolist() == [[1.0, 1.0]]


def test_ptbxl_split_with_only_unlabelled_records_is_left_out(ptbxl_with_unlabelled, tmp_path, caplog):
    from heartbert_hf.tasks import get_task, load_task_data

    with caplog.at_level("WARNING", logger="heartbert_hf.tasks"):  # fold 9 holds only record 5 (rhythm / form codes)
        data = load_task_data(get_task("ptbxl-superdiagnostic"), str(ptbxl_with_unlabelled), str(tmp_path), sampling_rate=100, records=[1, 2, 3, 5, 6, 7])
    assert sorted(data) == ["test", "train"] and len(data["train"]) == 2 and len(data["test"]) == 1
    assert any(r.getMessage().startswith("ptbxl-superdiagnostic validation: none of its 1 examples has a label") for r in caplog.records)


def test_single_label_examples_without_a_label_or_outside_the_classes_are_dropped_and_logged(caplog):
    import datasets

    from heartbert_hf.tasks import _to_label_column, get_task, task_labels

    task = get_task("mitdb-aami")
    features = datasets.Features({"record_id": datasets.Value("string"), "label": datasets.ClassLabel(names=["N", "S", "V", "F", "Q"])})
    ds = datasets.Dataset.from_dict({"record_id": ["100", "100", "101", "102", "103"], "label": [0, 4, -1, 2, 1]}, features=features)
    with caplog.at_level("INFO", logger="heartbert_hf.tasks"):
        out = _to_label_column(ds, task, task_labels(task), "train")
    assert out["record_id"] == ["100", "102", "103"] and out["labels"] == [0, 2, 1]
    by_level = {(r.levelname, r.getMessage()) for r in caplog.records}
    assert ("WARNING", "mitdb-aami train: dropped 1 of 5 examples with no label: records 101.") in by_level
    assert ("INFO", "mitdb-aami train: dropped 1 of 5 examples with a class outside N/S/V/F (Q): records 100.") in by_level


def test_beats_with_invalid_samples_are_left_out_with_a_warning(sample_dir, tmp_path, caplog):
    """A 30-s stretch of invalid samples (NaN, the WFDB invalid code) in a test record: its beats have
    no signal, so every arm leaves them out (the record-context arms scored them from no tokens,
    probe4 s08), with a warning naming the record; the other beats are kept."""
    import shutil

    import numpy as np
    import wfdb

    from heartbert_hf.tasks import get_task, load_task_data

    data_dir = tmp_path / "mitdb"
    data_dir.mkdir()
    for ext in ("hea", "dat", "atr"):
        shutil.copy(sample_dir / f"101.{ext}", data_dir / f"101.{ext}")
    n, gap = 360 * 120, (360 * 50, 360 * 80)
    r = wfdb.rdrecord(str(sample_dir / "208"), sampto=n)
    a = wfdb.rdann(str(sample_dir / "208"), "atr", sampto=n - 1)
    x = r.p_signal.copy()
    x[gap[0] : gap[1]] = np.nan
    wfdb.wrsamp("213", fs=360, units=r.units, sig_name=r.sig_name, p_signal=x, fmt=["16", "16"], write_dir=str(data_dir))
    wfdb.wrann("213", "atr", a.sample, symbol=a.symbol, write_dir=str(data_dir))
    with caplog.at_level("WARNING"):
        test = load_task_data(get_task("mitdb-aami"), str(data_dir), str(tmp_path / "cache"))["test"]
    half = int(0.8 * 360)
    beats = [s for s, sym in zip(a.sample, a.symbol) if sym in "NLRejAaJSVFE"]
    touching = [s for s in beats if s + half >= gap[0] and s - half < gap[1]]
    whole = [s for s in beats if s - half >= 0 and s + half < n]
    assert len(touching) > 20
    assert sorted(test["r_peak"]) == sorted(set(whole) - set(touching))
    warned = [m.getMessage() for m in caplog.records if "invalid (NaN) samples" in m.getMessage()]
    assert len(warned) == 1 and f"dropped {len(touching)} of" in warned[0] and "213" in warned[0]
