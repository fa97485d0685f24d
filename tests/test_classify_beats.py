"""`heartbert classify-beats`: annotation file, CSV, strip plot, confusion, bad records, any sampling rate."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import SAMPLE_DIR

SECONDS = 60  # records are cut to their first minute to keep the tests fast


def _copy_record(src, dst_dir, seconds: float = SECONDS, fs_out: int | None = None, name: str | None = None):
    """Write the first ``seconds`` of a sample record (and its .atr) into ``dst_dir``, optionally resampled."""
    import wfdb
    from scipy.signal import resample_poly

    name = name or src.name
    fs = 360
    stop = int(seconds * fs)
    ann = wfdb.rdann(str(src), "atr", sampto=stop - 1)
    if fs_out is None:
        rec = wfdb.rdrecord(str(src), sampto=stop, physical=False)
        rec.record_name = name
        rec.wrsamp(write_dir=str(dst_dir), expanded=False)
        samples = ann.sample
    else:
        rec = wfdb.rdrecord(str(src), sampto=stop)
        signal = resample_poly(rec.p_signal, fs_out, fs, axis=0)
        wfdb.wrsamp(name, fs=fs_out, units=rec.units, sig_name=rec.sig_name, p_signal=signal, fmt=["16"] * len(rec.sig_name), write_dir=str(dst_dir))
        samples = np.round(ann.sample * fs_out / fs).astype(np.int64)
    wfdb.wrann(name, "atr", samples, symbol=ann.symbol, aux_note=ann.aux_note, fs=fs_out or fs, write_dir=str(dst_dir))
    return dst_dir / name


def _save_classifier(folder, tokenizer, tiny_config, **config_fields):
    import torch

    from heartbert_hf import HeartBertConfig, HeartBertForSequenceClassification

    labels = ["N", "S", "V", "F"]
    fields = {"num_labels": 4, "id2label": dict(enumerate(labels)), "label2id": {c: i for i, c in enumerate(labels)}, **config_fields}
    config = HeartBertConfig(**{**tiny_config.to_dict(), **fields})
    torch.manual_seed(0)
    HeartBertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def beat_model_dir(tmp_path_factory, tiny_tokenizer, tiny_config):
    """A tiny (random) HeartBert beat classifier over N/S/V/F, saved with its tokenizer."""
    return _save_classifier(tmp_path_factory.mktemp("tiny-beat-classifier"), tiny_tokenizer, tiny_config)


@pytest.fixture(scope="module")
def short_records(tmp_path_factory):
    """The first minute of sample records 101 and 208, with their reference annotations."""
    folder = tmp_path_factory.mktemp("records")
    for name in ("101", "208"):
        _copy_record(SAMPLE_DIR / name, folder)
    return folder


def _run(argv, capsys):
    from heartbert_hf.classify_beats import main

    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_annotations_round_trip_csv_and_confusion(beat_model_dir, short_records, tmp_path, capsys):
    import wfdb

    from heartbert_hf.rhythm import RR_FEATURE_NAMES

    out = tmp_path / "out"
    code, stdout, stderr = _run(["--record", str(short_records / "208"), "--model", str(beat_model_dir), "--output_dir", str(out)], capsys)
    assert code == 0, stderr
    ann = wfdb.rdann(str(out / "208"), "hbt")
    rows = _read_csv(out / "208_beats.csv")
    assert ann.fs == 360
    assert len(ann.sample) == len(rows) > 50  # ~70 beats a minute in 208
    assert set(ann.symbol) <= {"N", "S", "V", "F", "Q"}
    assert [int(r["sample"]) for r in rows] == ann.sample.tolist()
    assert [r["label"] for r in rows] == ann.symbol
    assert list(rows[0]) == ["sample", "time_s", "label", "p_N", "p_S", "p_V", "p_F", *RR_FEATURE_NAMES, "reference", "note"]
    for row in rows:
        if row["label"] == "Q":
            assert row["note"] and row["p_N"] == ""
        else:
            p = np.array([float(row[f"p_{c}"]) for c in "NSVF"])
            assert abs(p.sum() - 1) < 1e-3 and row["label"] == "NSVF"[int(p.argmax())]
        assert abs(float(row["time_s"]) - int(row["sample"]) / 360) < 1e-3
    # the reference exists, so the confusion against it is printed; matched beats carry their reference class
    assert "against 208.atr" in stdout and "(beat detection)" in stdout
    assert {"N", "V"} <= {r["reference"] for r in rows}
    png = out / "208_strip.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reference_beats_at_250_hz_stay_in_the_records_own_samples(beat_model_dir, tmp_path, capsys):
    import wfdb

    from heartbert_hf.data.labels import aami_class

    (tmp_path / "rec250").mkdir()
    rec = _copy_record(SAMPLE_DIR / "101", tmp_path / "rec250", fs_out=250)
    ref = wfdb.rdann(str(rec), "atr")
    ref_beats = [s for s, sym in zip(ref.sample, ref.symbol) if aami_class(sym) is not None]

    out = tmp_path / "ref"
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(out), "--use_reference_beats"], capsys)
    assert code == 0, stderr
    ann = wfdb.rdann(str(out / "101"), "hbt")
    assert ann.fs == 250 and ann.sample.tolist() == ref_beats

    # detected beats: also in 250 Hz samples, so they match the reference within 150 ms
    out = tmp_path / "detected"
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(out)], capsys)
    assert code == 0, stderr
    detected = wfdb.rdann(str(out / "101"), "hbt").sample
    assert detected.max() < 250 * SECONDS
    near = [np.abs(detected - s).min() <= 0.15 * 250 for s in ref_beats]
    assert np.mean(near) > 0.95


def test_invalid_samples_leave_their_beats_unclassified(beat_model_dir, tmp_path, capsys):
    """1 s of invalid samples (NaN in wfdb, -32768 in format 16): beats whose window touches it are Q."""
    import wfdb

    rec = wfdb.rdrecord(str(SAMPLE_DIR / "101"), sampto=360 * 30)
    signal = rec.p_signal.copy()
    signal[3600:3960, 0] = np.nan  # 10.0-11.0 s of MLII
    (tmp_path / "rec").mkdir()
    wfdb.wrsamp("gap", fs=360, units=rec.units, sig_name=rec.sig_name, p_signal=signal, fmt=["16", "16"], write_dir=str(tmp_path / "rec"))
    out = tmp_path / "out"
    code, stdout, stderr = _run(["--record", str(tmp_path / "rec" / "gap"), "--model", str(beat_model_dir), "--output_dir", str(out)], capsys)
    assert code == 0, stderr
    rows = _read_csv(out / "gap_beats.csv")
    touching = [r for r in rows if 10.0 - 0.8 <= float(r["time_s"]) < 11.0 + 0.8]
    assert touching and all(r["label"] == "Q" and r["note"] == "invalid samples in the window" for r in touching)
    assert sum(r["note"] == "invalid samples in the window" for r in rows) == len(touching)
    assert sum(r["label"] in ("N", "S", "V", "F") for r in rows) > 20


def test_multi_frequency_record_annotations_count_frames(beat_model_dir, tmp_path, capsys):
    """MLII at 2 samples per frame (720 Hz) in a 360-frame/s record: annotations stay in frame numbers."""
    import wfdb
    from scipy.signal import resample_poly

    from heartbert_hf.data.labels import aami_class

    rec = wfdb.rdrecord(str(SAMPLE_DIR / "101"), sampto=360 * SECONDS)
    multi = wfdb.Record(
        record_name="mf",
        fs=360,
        n_sig=2,
        sig_len=rec.sig_len,
        sig_name=["MLII", "V1"],
        units=["mV", "mV"],
        e_p_signal=[resample_poly(rec.p_signal[:, 0], 2, 1), rec.p_signal[:, 1]],
        samps_per_frame=[2, 1],
        fmt=["16", "16"],
        adc_gain=[200.0, 200.0],
        baseline=[0, 0],
    )
    multi.set_d_features(do_adc=True, expanded=True)
    multi.set_defaults()
    (tmp_path / "rec").mkdir()
    multi.wrsamp(expanded=True, write_dir=str(tmp_path / "rec"))
    ref = wfdb.rdann(str(SAMPLE_DIR / "101"), "atr", sampto=rec.sig_len - 1)
    wfdb.wrann("mf", "atr", ref.sample, symbol=ref.symbol, fs=360, write_dir=str(tmp_path / "rec"))
    ref_beats = [s for s, sym in zip(ref.sample, ref.symbol) if aami_class(sym) is not None]

    out = tmp_path / "out"
    code, stdout, stderr = _run(
        ["--record", str(tmp_path / "rec" / "mf"), "--model", str(beat_model_dir), "--output_dir", str(out), "--use_reference_beats"], capsys
    )
    assert code == 0, stderr
    assert "720 Hz" in stdout
    ann = wfdb.rdann(str(out / "mf"), "hbt")
    assert ann.fs == 360 and ann.sample.tolist() == ref_beats
    rows = _read_csv(out / "mf_beats.csv")
    assert [int(r["sample"]) for r in rows] == ref_beats
    assert all(r["reference"] for r in rows)  # every beat matched its own reference beat

    code, stdout, stderr = _run(["--record", str(tmp_path / "rec" / "mf"), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "det")], capsys)
    assert code == 0, stderr
    detected = wfdb.rdann(str(tmp_path / "det" / "mf"), "hbt").sample
    assert np.mean([np.abs(detected - s).min() <= 0.15 * 360 for s in ref_beats]) > 0.95


def test_multi_segment_record_uses_mlii_and_summary_warns_on_few_beats(beat_model_dir, tmp_path, capsys):
    import dataclasses

    import wfdb

    from heartbert_hf.classify_beats import RecordResult, summarize

    src = wfdb.rdrecord(str(SAMPLE_DIR / "101"), sampto=360 * 40)
    folder = tmp_path / "rec"
    folder.mkdir()
    for i, name in enumerate(["seg_0001", "seg_0002"]):  # V1 first: the default must still pick MLII
        wfdb.wrsamp(
            name,
            fs=360,
            units=["mV", "mV"],
            sig_name=src.sig_name[::-1],
            p_signal=src.p_signal[i * 7200 : (i + 1) * 7200, ::-1],
            fmt=["212", "212"],
            write_dir=str(folder),
        )
    (folder / "rec.hea").write_text("rec/2 2 360 14400\nseg_0001 7200\nseg_0002 7200\n")
    code, stdout, stderr = _run(["--record", str(folder / "rec"), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "out")], capsys)
    assert code == 0, stderr
    assert "record rec (lead MLII, 360 Hz, 40 s)" in stdout
    assert len(wfdb.rdann(str(tmp_path / "out" / "rec"), "hbt").sample) > 40

    few = RecordResult("x", "V1", 360.0, "R-peak detector", np.array([100, 9000]), ["N", "N"], np.full((2, 4), 0.25), [], 60.0)
    assert "implausibly few" in summarize(few, "atr")
    assert "implausibly few" not in summarize(dataclasses.replace(few, duration_s=2.0), "atr")


def test_folder_goes_past_a_bad_record_and_lists_it(beat_model_dir, short_records, tmp_path, capsys):
    import shutil

    folder = tmp_path / "folder"
    shutil.copytree(short_records, folder)
    dat = folder / "208.dat"
    dat.write_bytes(dat.read_bytes()[: dat.stat().st_size // 2])  # truncated signal file
    out = tmp_path / "out"
    code, stdout, stderr = _run(["--record", str(folder), "--model", str(beat_model_dir), "--output_dir", str(out)], capsys)
    assert code == 1
    assert (out / "101.hbt").is_file() and (out / "101_beats.csv").is_file()
    assert not (out / "208.hbt").exists()
    listing = stderr.split("record(s) failed:")[1]
    assert "208" in listing and "truncated" in listing
    assert "Traceback" not in stderr


def test_on_error_raise_stops_at_the_bad_record(beat_model_dir, short_records, tmp_path):
    import shutil

    from heartbert_hf.classify_beats import main

    folder = tmp_path / "folder"
    shutil.copytree(short_records, folder)
    (folder / "101.dat").write_bytes(b"")
    with pytest.raises(ValueError, match="truncated"):
        main(["--record", str(folder), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o"), "--on_error", "raise"])


def test_missing_record_and_bad_lead_are_clear_errors(beat_model_dir, short_records, tmp_path, capsys):
    code, stdout, stderr = _run(["--record", str(tmp_path / "nope"), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "nope" in stderr and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1

    code, stdout, stderr = _run(
        ["--record", str(short_records / "101"), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o"), "--lead", "V5"], capsys
    )
    assert code == 2
    assert "101" in stderr and "'V5'" in stderr and "MLII" in stderr


def test_unannotated_record_and_missing_model(beat_model_dir, tmp_path, capsys):
    import wfdb

    (tmp_path / "rec").mkdir()
    rec = _copy_record(SAMPLE_DIR / "118", tmp_path / "rec", seconds=20)
    (rec.parent / "118.atr").unlink()
    out = tmp_path / "out"
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(out), "--lead", "V1"], capsys)
    assert code == 0, stderr
    assert "lead V1" in stdout and "against" not in stdout
    assert len(wfdb.rdann(str(out / "118"), "hbt").sample) > 10

    code, _, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(out), "--use_reference_beats"], capsys)
    assert code == 2 and "no reference annotations" in stderr

    code, _, stderr = _run(["--record", str(rec), "--model", str(tmp_path / "no-model"), "--output_dir", str(out)], capsys)
    assert code == 2 and "no-model" in stderr


def test_rhythm_model_gets_the_rr_features_it_names(tiny_tokenizer, tiny_config, short_records, tmp_path, capsys):
    """A BiLSTM head over two RR features: the features reach it (a model without them would raise)."""
    from heartbert_hf.beat_classifier import classify_segments, load_classifier
    from heartbert_hf.rhythm import RR_FEATURE_NAMES

    names = ["pre_over_post", "pre_rr_norm"]
    folder = _save_classifier(
        tmp_path / "rhythm-model",
        tiny_tokenizer,
        tiny_config,
        classifier_head="bilstm",
        lstm_hidden_size=8,
        rhythm_feature_names=names,
        rhythm_feature_mean=[1.0, 1.0],
        rhythm_feature_std=[0.2, 0.2],
    )
    clf = load_classifier(str(folder))
    assert clf.rhythm_columns == [RR_FEATURE_NAMES.index(n) for n in names]
    rng = np.random.default_rng(0)
    segments = [rng.normal(size=577) for _ in range(3)]
    rhythm = np.ones((3, len(RR_FEATURE_NAMES)), dtype=np.float32)
    base = classify_segments(clf, segments, 360, rhythm)
    rhythm[1, RR_FEATURE_NAMES.index("pre_over_post")] = 0.4  # a premature beat
    moved = classify_segments(clf, segments, 360, rhythm)
    assert np.allclose(base[[0, 2]], moved[[0, 2]]) and not np.allclose(base[1], moved[1])
    assert np.allclose(moved.sum(axis=1), 1.0)

    code, stdout, stderr = _run(["--record", str(short_records / "101"), "--model", str(folder), "--output_dir", str(tmp_path / "out")], capsys)
    assert code == 0, stderr


def test_compare_with_reference_counts_missed_and_extra_beats():
    from heartbert_hf.classify_beats import compare_with_reference

    fs = 100.0
    ref = np.array([100, 200, 300, 400])
    ref_classes = ["N", "V", "S", "N"]
    # beat at 205 matches 200 (V), 296 matches 300 (S), 400 missed, 600 has no reference, 100 → N
    beats = np.array([100, 205, 296, 600])
    labels = ["N", "V", "N", "Q"]
    comp = compare_with_reference(beats, labels, ref, ref_classes, fs, ["N", "S", "V", "F"])
    m = dict(zip(comp["rows"], comp["matrix"].tolist()))
    cols = comp["columns"]
    assert m["N"][cols.index("N")] == 1 and m["N"][cols.index("missed")] == 1
    assert m["V"][cols.index("V")] == 1
    assert m["S"][cols.index("N")] == 1
    assert m["none"][cols.index("Q")] == 1
    assert comp["se"]["N"] == 0.5 and comp["ppv"]["N"] == 0.5 and comp["se"]["V"] == 1.0 and comp["se"]["S"] == 0.0
    assert comp["se"]["F"] is None and comp["ppv"]["F"] is None
    assert comp["detection_se"] == 0.75 and comp["detection_ppv"] == 0.75
    assert comp["matched_reference"] == ["N", "V", "S", ""]


def test_plot_beat_labels(tmp_path):
    from heartbert_hf.plotting import plot_beat_labels

    t = np.arange(0, 12, 1 / 250)
    signal = np.sin(2 * np.pi * 1.2 * t)
    beats = np.arange(50, len(t), 200)
    labels = ["N", "V"] * (len(beats) // 2) + ["N"] * (len(beats) % 2)
    png = plot_beat_labels(
        signal, 250, beats, labels, tmp_path / "s.png", start_s=1, seconds=5, title="record x, lead MLII", reference_labels=["N"] * len(beats)
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="labels"):
        plot_beat_labels(signal, 250, beats, labels[:-1], tmp_path / "bad.png")
    with pytest.raises(ValueError, match=r"the strip 100-110 s starts after the end of the signal \(12 s\)"):
        plot_beat_labels(signal, 250, beats, labels, tmp_path / "bad.png", start_s=100)
    with pytest.raises(ValueError, match=r"a strip of 0.001 s holds 0 sample\(s\) at 250 Hz: pass a longer one"):
        plot_beat_labels(signal, 250, beats, labels, tmp_path / "bad.png", seconds=0.001)
    with pytest.raises(ValueError, match="must be numbers of seconds"):
        plot_beat_labels(signal, 250, beats, labels, tmp_path / "bad.png", start_s=float("nan"))


@pytest.mark.slow
def test_whole_sample_and_a_ds1_record_round_trip(beat_model_dir, shared_physionet, tmp_path, capsys):
    """The issue's check: the shipped sample and a full 30-min DS1 record give annotations rdann reads back."""
    import wfdb

    from heartbert_hf.data.labels import aami_class

    for record in (SAMPLE_DIR / "208", shared_physionet / "mitdb" / "119"):
        out = tmp_path / record.name
        code, stdout, stderr = _run(["--record", str(record), "--model", str(beat_model_dir), "--output_dir", str(out)], capsys)
        assert code == 0, stderr
        ann = wfdb.rdann(str(out / record.name), "hbt")
        ref = wfdb.rdann(str(record), "atr")
        n_ref = sum(aami_class(s) is not None for s in ref.symbol)
        assert abs(len(ann.sample) - n_ref) < 0.05 * n_ref  # the detector finds about as many beats as the reference
        assert len(_read_csv(out / f"{record.name}_beats.csv")) == len(ann.sample)
        assert f"against {record.name}.atr" in stdout


def test_cli_lists_and_dispatches_classify_beats(capsys):
    from heartbert_hf.cli import main as cli_main

    assert cli_main([]) == 0
    assert "classify-beats" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["classify-beats", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: heartbert classify-beats") and "--use_reference_beats" in out and "--on_error" in out


@pytest.mark.slow
def test_a_rhythm_model_from_finetune_classifies_a_record(tiny_model_dir, short_records, tmp_path, capsys):
    """`heartbert finetune --arms pretrained+rhythm` output is a model classify-beats runs, RR features included."""
    import wfdb

    from heartbert_hf.beat_classifier import load_classifier
    from heartbert_hf.finetune import main as finetune_main

    model = tmp_path / "ft"
    code = finetune_main(
        [
            "--task",
            "mitdb-aami",
            "--model",
            str(tiny_model_dir),
            "--data_dir",
            str(SAMPLE_DIR),
            "--cache_dir",
            str(tmp_path / "cache"),
            "--output_dir",
            str(model),
            "--arms",
            "pretrained+rhythm",
            "--num_train_epochs",
            "1",
            "--max_train_per_class",
            "20",
            "--max_eval_examples",
            "50",
            "--torch_threads",
            "1",
        ]
    )
    assert code in (0, None)
    assert load_classifier(str(model)).rhythm_columns is not None
    capsys.readouterr()
    code, stdout, stderr = _run(["--record", str(short_records / "208"), "--model", str(model), "--output_dir", str(tmp_path / "out")], capsys)
    assert code == 0, stderr
    assert len(wfdb.rdann(str(tmp_path / "out" / "208"), "hbt").sample) > 50


def test_no_model_and_no_shipped_classifier_is_a_clear_error(short_records, tmp_path, capsys, monkeypatch):
    from heartbert_hf import beat_classifier

    monkeypatch.setattr(beat_classifier, "DEFAULT_MODEL", tmp_path / "absent")
    code, _, stderr = _run(["--record", str(short_records / "208"), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "is not installed; pass --model" in stderr


def test_the_shipped_classifier_labels_normal_and_ventricular_beats(short_records, tmp_path, capsys):
    """The default --model on (training) records: 101's N beats and 208's V beats mostly get their own class."""
    from heartbert_hf.beat_classifier import DEFAULT_MODEL

    if not DEFAULT_MODEL.is_dir():
        pytest.skip("the shipped classifier heartbert_hf/models/heartbert-aami-ds1 is not in this checkout")
    code, stdout, stderr = _run(["--record", str(short_records), "--output_dir", str(tmp_path / "out")], capsys)
    assert code == 0, stderr
    for record, cls in (("101", "N"), ("208", "V")):
        rows = _read_csv(tmp_path / "out" / f"{record}_beats.csv")
        mine = [r["label"] for r in rows if r["reference"] == cls and r["label"] != "Q"]
        assert len(mine) > 5 and mine.count(cls) / len(mine) > 0.5, (record, cls, mine)


@pytest.mark.parametrize(
    "names, expected",
    [(["V1", "MLII"], "MLII"), (["I", "II", "III"], "II"), (["i", "ii"], "ii"), (["MLII", "II"], "MLII"), (["V5", "V1"], "V5")],
)
def test_default_lead_is_mlii_then_ii_then_the_first(names, expected):
    from heartbert_hf.lead_choice import choose_lead

    assert names[choose_lead(names, None, "r")] == expected
    with pytest.raises(ValueError, match=r"record r has no lead 'aVR'; its leads are"):
        choose_lead(names, "aVR", "r")


@pytest.mark.parametrize(
    "names, expected",
    [
        (["V1", "ECG II"], "ECG II"),
        (["V1", "Lead II"], "Lead II"),
        (["V1", "EKG-II"], "EKG-II"),
        (["V1", "ML2"], "ML2"),
        (["V1", "ML II"], "ML II"),
        (["ECG I", "ECG II", "ECG MLII"], "ECG MLII"),
        (["ECG V1", "ECG DII"], "ECG DII"),
        (["ECG1", "ECG2"], "ECG1"),  # Holter channel numbers are not lead II
        (["ECG 1", "ECG 2"], "ECG 1"),
        (["V1", "MLIII"], "V1"),
        (["I", "III"], "I"),
    ],
)
def test_usual_spellings_of_lead_ii_are_the_default_lead(names, expected):
    """Probe 5 t03: 'ECG II', 'Lead II', 'ML2', ... (EDF and 12-lead exporters) fell through to V1 / lead I."""
    from heartbert_hf.lead_choice import choose_lead

    assert names[choose_lead(names, None, "r", ["mV"] * len(names))] == expected


def test_a_lead_in_microvolts_is_detected_in_millivolts(beat_model_dir, tmp_path, capsys):
    """Before: GQRS (thresholds in mV) ran on a lead stored in uV and found about twice the beats (142/min
    on a 70/min record), so every RR feature was wrong; now the lead's WFDB units are converted to mV for detection."""
    import wfdb

    rec = wfdb.rdrecord(str(SAMPLE_DIR / "101"), sampto=360 * SECONDS, channels=[0])
    wfdb.wrsamp("uv101", fs=360, units=["uV"], sig_name=["MLII"], p_signal=rec.p_signal * 1000, fmt=["16"], write_dir=str(tmp_path))
    ref = wfdb.rdann(str(SAMPLE_DIR / "101"), "atr", sampto=360 * SECONDS - 1)
    beats = ref.sample[np.isin(ref.symbol, ["N", "L", "R", "V", "A", "F", "/", "f", "Q", "a", "J", "S", "e", "j", "E"])]
    code, stdout, stderr = _run(["--record", str(tmp_path / "uv101"), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    detected = wfdb.rdann(str(tmp_path / "o" / "uv101"), "hbt").sample
    assert abs(len(detected) - len(beats)) <= 2, (len(detected), len(beats))


@pytest.mark.parametrize("record", ["101", "208"])
def test_qrs_polarity_of_the_sample_mlii_leads_is_upright_and_negates(record):
    """Reference beats of the shipped excerpts: MLII is upright (DS1 medians +0.06 to +0.90, 207 aside), negated it is not."""
    import wfdb

    from heartbert_hf.lead_choice import NEGATIVE_QRS_POLARITY, inverted_lead_note, qrs_polarity

    rec = wfdb.rdrecord(str(SAMPLE_DIR / record), sampto=360 * SECONDS, channel_names=["MLII"])
    peaks = wfdb.rdann(str(SAMPLE_DIR / record), "atr", sampto=360 * SECONDS - 1).sample
    lead = rec.p_signal[:, 0]
    upright = qrs_polarity(lead, 360, peaks)
    assert upright > 0.5 and qrs_polarity(-lead, 360, peaks) == pytest.approx(-upright)
    assert inverted_lead_note("MLII", lead, 360, peaks) == ""
    assert "mostly negative" in inverted_lead_note("ECG II", -lead, 360, peaks)
    assert inverted_lead_note("V1", -lead, 360, peaks) == ""  # a negative QRS is normal in V1
    assert np.isnan(qrs_polarity(lead[:100], 360, peaks[:1]))  # no beat with 0.5 s around it
    assert -upright < NEGATIVE_QRS_POLARITY


def test_an_inverted_mlii_lead_gets_a_note(beat_model_dir, tmp_path, capsys):
    """Probe 5 t04: MLII wired backwards was classified without a word, with 18 % of the labels changed."""
    import wfdb

    rec = wfdb.rdrecord(str(SAMPLE_DIR / "101"), sampto=360 * SECONDS, channels=[0])
    wfdb.wrsamp("inv101", fs=360, units=["mV"], sig_name=["MLII"], p_signal=-rec.p_signal, fmt=["16"], write_dir=str(tmp_path))
    code, stdout, stderr = _run(["--record", str(tmp_path / "inv101"), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    assert "QRS complexes are mostly negative" in stdout + stderr


def test_reference_beats_past_the_record_end_are_ignored_with_a_warning(beat_model_dir, short_records, tmp_path, capsys):
    """Before: two reference beats past the end of a 60 s record stretched the record's mean RR interval,
    and so every beat's normalised RR features, without a word."""
    import shutil

    import wfdb

    for ext in ("hea", "dat"):
        shutil.copy(short_records / f"101.{ext}", tmp_path / f"101.{ext}")
    ann = wfdb.rdann(str(short_records / "101"), "atr")
    n = 360 * SECONDS
    wfdb.wrann("101", "atr", np.r_[ann.sample, n + 100, n + 20000], symbol=[*ann.symbol, "N", "N"], fs=360, write_dir=str(tmp_path))
    args = ["--model", str(beat_model_dir), "--use_reference_beats"]
    code, clean_out, stderr = _run(["--record", str(short_records / "101"), "--output_dir", str(tmp_path / "clean"), *args], capsys)
    assert code == 0, stderr
    code, stdout, stderr = _run(["--record", str(tmp_path / "101"), "--output_dir", str(tmp_path / "extra"), *args], capsys)
    assert code == 0, stderr
    assert "warning: 2 reference beat(s) in 101.atr lie outside the record's 60 s and were ignored" in stdout
    clean, extra = _read_csv(tmp_path / "clean" / "101_beats.csv"), _read_csv(tmp_path / "extra" / "101_beats.csv")
    assert [r["record_rr"] for r in extra] == [r["record_rr"] for r in clean] and len(extra) == len(clean)


@pytest.mark.parametrize(
    ("extension", "expected"),
    [
        ("hb2", "--extension 'hb2': a WFDB annotator must be letters only (wfdb.wrann's rule)"),  # docs/classify_beats.md's example
        ("", "--extension '': a WFDB annotator must be letters only"),
        ("atr", "--extension 'atr' is the reference annotations' extension (--reference_extension)"),
        ("ATR", "--extension 'ATR' is the reference annotations' extension (--reference_extension)"),  # the same file on a case-insensitive disk
    ],
)
def test_a_bad_extension_is_refused_before_any_work(extension, expected, beat_model_dir, short_records, tmp_path, capsys, monkeypatch):
    """Before: `--extension hb2` classified the record, then wfdb.wrann refused it in a line that named no option;
    `--extension atr` with another --output_dir wrote labels into a file named like the reference."""
    from heartbert_hf import classify_beats

    def no_work(*args, **kwargs):
        raise AssertionError("records were read or a model loaded before the arguments were checked")

    monkeypatch.setattr(classify_beats, "list_records", no_work)
    monkeypatch.setattr(classify_beats, "load_classifier", no_work)
    out = tmp_path / "out"
    argv = ["--record", str(short_records), "--model", str(beat_model_dir), "--output_dir", str(out), "--extension", extension]
    code, stdout, stderr = _run(argv, capsys)
    assert code == 2 and expected in stderr and len(stderr.strip().splitlines()) == 1
    assert not out.exists() and not stdout


def test_a_mistyped_model_folder_fails_at_once(beat_model_dir, short_records, tmp_path, capsys, monkeypatch):
    """Before: `--model runs/aami` (no ./runs) went to the Hub and failed after 27 s of retries offline."""
    from huggingface_hub import HfApi, constants

    def hub(*args, **kwargs):
        raise AssertionError("the Hub was asked while HF_HUB_OFFLINE is set")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    monkeypatch.setattr(HfApi, "repo_info", hub)
    code, _, stderr = _run(["--record", str(short_records / "208"), "--model", "runs/aami", "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "model folder runs/aami is not a local folder" in stderr and "holds no repo runs/aami" in stderr
    (tmp_path / "runs").mkdir()  # now runs/ is a folder here, so runs/aami is a (missing) folder, not a Hub id
    code, _, stderr = _run(["--record", str(short_records / "208"), "--model", "runs/aami", "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 2 and "model folder runs/aami does not exist (runs exists: is the last part misspelt?)" in stderr
    assert not (tmp_path / "o").exists()


def test_a_paced_record_is_labelled_with_a_warning(beat_model_dir, short_records, tmp_path, capsys):
    """Before: MIT-BIH's paced records (102, 104, 107, 217) came out mostly V without a word, though the
    classifier never saw a paced beat. Here 101's beats are relabelled paced (/) in its reference."""
    import shutil

    import wfdb

    for ext in ("hea", "dat"):
        shutil.copy(short_records / f"101.{ext}", tmp_path / f"101.{ext}")
    ann = wfdb.rdann(str(short_records / "101"), "atr")
    beats = [i for i, sym in enumerate(ann.symbol) if sym == "N"]
    paced = ["/" if i in beats[: len(beats) // 2] else sym for i, sym in enumerate(ann.symbol)]  # half of the beats paced
    wfdb.wrann("101", "atr", ann.sample, symbol=paced, fs=360, write_dir=str(tmp_path))
    args = ["--model", str(beat_model_dir)]
    code, stdout, stderr = _run(["--record", str(tmp_path / "101"), "--output_dir", str(tmp_path / "out"), *args], capsys)
    assert code == 0, stderr
    n_ref = sum(1 for sym in ann.symbol if sym in "NLRejAaJSVEF/fQ")
    assert f"warning: {len(beats) // 2} of {n_ref} reference beats in 101.atr" in stdout and "are AAMI Q (paced or unclassifiable)" in stdout
    code, stdout, stderr = _run(["--record", str(short_records / "101"), "--output_dir", str(tmp_path / "clean"), *args], capsys)
    assert code == 0 and "AAMI Q (paced" not in stdout  # the unpaced record: no warning


def _write(folder, name, p_signal, sig_name, units, fs=360):
    import wfdb

    n = p_signal.shape[1]
    wfdb.wrsamp(name, fs=fs, units=units, sig_name=sig_name, p_signal=p_signal, fmt=["16"] * n, adc_gain=[200] * n, baseline=[0] * n, write_dir=str(folder))
    return folder / name


def _minute_of_101():
    import wfdb

    return wfdb.rdrecord(str(SAMPLE_DIR / "101"), sampto=360 * SECONDS).p_signal  # (samples, 2): MLII, V1


def test_a_rhythm_only_reference_is_said_to_hold_no_beats(beat_model_dir, tmp_path, capsys):
    """Before: a reference of rhythm annotations only (the MIT-BIH AF Database's .atr) was compared with as a
    beat reference: 'beats Se - +P 0.000', every detected beat a false detection; --use_reference_beats
    failed with 'no beats found ...; is the lead an ECG?'."""
    import wfdb

    rec = _write(tmp_path, "af", _minute_of_101(), ["MLII", "V1"], ["mV", "mV"])
    wfdb.wrann("af", "atr", np.array([0, 5000]), ["+", "+"], aux_note=["(N", "(AFIB"], fs=360, write_dir=str(tmp_path))
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    assert "note: af.atr holds no beat annotations: only 2 non-beat annotations (2 x '+'" in stdout
    assert "no Se/+P comparison" in stdout and "(beat detection)" not in stdout and "+P" not in stdout.split("no Se/+P comparison")[1]
    assert {r["reference"] for r in _read_csv(tmp_path / "o" / "af_beats.csv")} == {""}
    argv = ["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "r"), "--use_reference_beats"]
    code, stdout, stderr = _run(argv, capsys)
    assert code == 2
    assert "record af: af.atr holds no beat annotations" in stderr and "drop --use_reference_beats" in stderr


def test_an_upper_case_reference_extension_is_found(beat_model_dir, short_records, tmp_path, capsys):
    """Before: 101.ATR beside 101.hea (FAT media, CD-ROM copies) was ignored without a word."""
    import shutil

    for ext in ("hea", "dat"):
        shutil.copy(short_records / f"101.{ext}", tmp_path / f"101.{ext}")
    shutil.copy(short_records / "101.atr", tmp_path / "101.ATR")
    code, stdout, stderr = _run(["--record", str(tmp_path / "101"), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    assert "against 101.ATR" in stdout and "(beat detection)" in stdout
    code, stdout, stderr = _run(
        ["--record", str(tmp_path / "101"), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "r"), "--use_reference_beats"], capsys
    )
    assert code == 0, stderr
    assert "from the reference annotations (ATR)" in stdout


def test_a_header_without_signal_names_is_classified_on_lead_0_or_the_lead_index(beat_model_dir, tmp_path, capsys):
    """Before: a header whose signal lines omit the (optional) description made the record fail with
    "'NoneType' object has no attribute 'strip'"."""
    rec = _write(tmp_path, "rec", _minute_of_101(), ["MLII", "V1"], ["mV", "mV"])
    hea = tmp_path / "rec.hea"
    lines = hea.read_text().splitlines()
    hea.write_text("\n".join([lines[0]] + [line.rsplit(" ", 1)[0] for line in lines[1:]]) + "\n")
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    assert "record rec (lead 0, 360 Hz" in stdout
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o1"), "--lead", "1"], capsys)
    assert code == 0, stderr
    assert "record rec (lead 1, 360 Hz" in stdout


def test_a_flat_default_lead_is_passed_over_for_the_next_with_a_note(beat_model_dir, tmp_path, capsys):
    """Before: a 12-lead record whose lead II is dead was skipped: "lead II: no beats found (R-peak detector);
    is the lead an ECG?", no word of a flat lead nor of the other leads."""
    signal = _minute_of_101()
    signal[:, 0] = 0.0  # MLII disconnected
    rec = _write(tmp_path, "dead", signal, ["MLII", "V1"], ["mV", "mV"])
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    assert "record dead (lead V1," in stdout
    assert "note: lead MLII is flat (constant 0: disconnected?); classified on lead V1 instead (--lead chooses the lead)" in stdout
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "m"), "--lead", "MLII"], capsys)
    assert code == 2
    assert "record dead, lead MLII is flat (constant 0: disconnected?); its leads are ['MLII', 'V1']: pass another --lead" in stderr
    signal[:, 1] = 0.0
    rec = _write(tmp_path, "dead2", signal, ["MLII", "V1"], ["mV", "mV"])
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "d")], capsys)
    assert code == 2
    assert "record dead2: no lead to classify: lead MLII is flat (constant 0: disconnected?); lead V1 is flat" in stderr


def test_non_ecg_signals_are_not_chosen_by_default(beat_model_dir, tmp_path, capsys):
    """A pulse (PLETH, NU) or pressure signal first in the header is not an ECG lead: the default is the first lead in voltage units."""
    signal = _minute_of_101()
    rec = _write(tmp_path, "mixed", signal[:, ::-1] * [50.0, 1.0], ["PLETH", "V1"], ["NU", "mV"])
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    assert "record mixed (lead V1," in stdout
    rec = _write(tmp_path, "noecg", signal * 50.0, ["PLETH", "ABP"], ["NU", "mmHg"])
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "n")], capsys)
    assert code == 2
    assert "record noecg has no ECG lead: none of its signals is in voltage units with an ECG name (PLETH [NU], ABP [mmHg]); pass --lead NAME" in stderr


def test_an_edf_file_is_classified_and_plotted(beat_model_dir, tiny_model_dir, tmp_path, capsys):
    """Before: classify-beats and plot refused x.edf ("no WFDB header x.edf.hea"); read_record reads it through wfdb's EDF reader."""
    import wfdb
    from wfdb.io.convert.edf import wfdb_to_edf

    from heartbert_hf.plots import main as plot_main

    rec = wfdb.rdrecord(str(SAMPLE_DIR / "101"), sampto=360 * 30, physical=False)
    rec.record_name = "e101"
    rec.wrsamp(write_dir=str(tmp_path))
    wfdb_to_edf(str(tmp_path / "e101"), output_filename=str(tmp_path / "e101.edf"))
    code, stdout, stderr = _run(["--record", str(tmp_path / "e101.edf"), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    assert "record e101 (lead MLII, 360 Hz" in stdout
    assert len(wfdb.rdann(str(tmp_path / "o" / "e101"), "hbt").sample) > 20
    assert plot_main(["--record", str(tmp_path / "e101.edf"), "--tokenizer", str(tiny_model_dir), "--output", str(tmp_path / "p.png"), "--lead", "1"]) == 0
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _rename_signals(rec, names):
    """Give the signals of a written record the header names ``names`` (wfdb.wrsamp refuses repeated names)."""
    hea = rec.with_name(rec.name + ".hea")
    lines = hea.read_text().splitlines()
    for k, name in enumerate(names):
        fields = lines[1 + k].split(" ")
        lines[1 + k] = " ".join(fields[:8] + [name]) if len(fields) > 8 else lines[1 + k] + " " + name
    hea.write_text("\n".join(lines) + "\n")
    return rec


def test_signals_sharing_a_name_are_chosen_by_index(beat_model_dir, tmp_path, capsys):
    """Before: with two signals named ECG (Long-Term AF / SCD Holter headers), --lead 1 read signal 0, and a flat
    signal 0 refused the record ("lead ECG is flat; lead ECG is flat") although signal 1 is a good ECG."""
    import wfdb

    signal = _minute_of_101()
    signal[:, 1] = 0.0  # V1 disconnected: signal 0 MLII, signal 1 flat
    rec = _rename_signals(_write(tmp_path, "dup", signal[:, ::-1].copy(), ["A", "B"], ["mV", "mV"]), ["ECG", "ECG"])
    assert wfdb.rdheader(str(rec)).sig_name == ["ECG", "ECG"]
    model = ["--model", str(beat_model_dir)]
    code, stdout, stderr = _run(["--record", str(rec), *model, "--output_dir", str(tmp_path / "o"), "--lead", "1"], capsys)
    assert code == 0, stderr
    assert "record dup (lead ECG (signal 1)," in stdout
    code, stdout, stderr = _run(["--record", str(rec), *model, "--output_dir", str(tmp_path / "d")], capsys)
    assert code == 0, stderr
    assert "note: lead ECG (signal 0) is flat (constant 0: disconnected?); classified on lead ECG (signal 1) instead" in stdout
    code, stdout, stderr = _run(["--record", str(rec), *model, "--output_dir", str(tmp_path / "n"), "--lead", "ECG"], capsys)
    assert code == 2
    assert "record dup names 2 signals 'ECG' (signals 0, 1): pass the signal index, e.g. --lead 1" in stderr
    code, stdout, stderr = _run(["--record", str(rec), *model, "--output_dir", str(tmp_path / "f"), "--lead", "0"], capsys)
    assert code == 2 and "record dup, lead ECG (signal 0) is flat" in stderr


def test_eeg_in_microvolts_is_not_a_default_lead(beat_model_dir, tmp_path, capsys):
    """Before: an EEG channel in uV (polysomnography: SHHS, slpdb) ahead of the ECG was tried as the first ECG lead."""
    signal = _minute_of_101()
    eeg = np.random.default_rng(0).normal(scale=30.0, size=len(signal))  # uV
    rec = _write(tmp_path, "psg", np.c_[eeg, eeg, signal[:, 0]], ["EEG (C4-A1)", "O2-A1", "ECG"], ["uV", "uV", "mV"])
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    assert "record psg (lead ECG," in stdout and "EEG" not in stdout and "O2-A1" not in stdout
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "e"), "--lead", "O2-A1"], capsys)
    assert "(lead O2-A1," in stdout or "lead O2-A1 gives no beats" in stderr  # --lead still reads it on request


@pytest.mark.parametrize("name, written", [("patient 01", "patient_01"), ("rec.2024", "rec_2024")])
def test_an_edf_named_with_a_space_or_dot_is_written_under_a_wfdb_name(beat_model_dir, tmp_path, capsys, name, written):
    """Before: the record was classified, then wfdb.wrann refused the name and nothing was written (exit 2)."""
    import wfdb
    from wfdb.io.convert.edf import wfdb_to_edf

    rec = wfdb.rdrecord(str(SAMPLE_DIR / "101"), sampto=360 * 30, physical=False)
    rec.record_name = "e101"
    rec.wrsamp(write_dir=str(tmp_path))
    wfdb_to_edf(str(tmp_path / "e101"), output_filename=str(tmp_path / f"{name}.edf"))
    code, stdout, stderr = _run(["--record", str(tmp_path / f"{name}.edf"), "--model", str(beat_model_dir), "--output_dir", str(tmp_path / "o")], capsys)
    assert code == 0, stderr
    assert f"note: {name!r} is no WFDB record name (letters, digits, - and _ only): the outputs are named {written}" in stdout
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [f"{written}.hbt", f"{written}_beats.csv", f"{written}_strip.png"]
    assert len(wfdb.rdann(str(tmp_path / "o" / written), "hbt").sample) > 20


def test_records_whose_output_names_collide_are_refused_up_front(tmp_path):
    from pathlib import Path

    from heartbert_hf.classify_beats import check_output_names, output_name

    assert output_name("a b.c") == "a_b_c" and output_name("208") == "208"
    check_output_names([Path("x/208"), Path("x/a b.edf")])
    with pytest.raises(ValueError, match=r"records x/a b.edf and x/a_b would both write their outputs as a_b \(a_b_beats.csv, ...\): rename one"):
        check_output_names([Path("x/a b.edf"), Path("x/a_b")])


def test_strip_options_are_checked_up_front_and_a_start_past_the_end_is_clamped(beat_model_dir, tmp_path, capsys):
    """Before: --plot_start 200 on a 60-s record of a folder made it a failed record after its labels were written;
    --plot_start nan said "cannot convert float NaN to integer"; --plot_seconds 0.001 said the strip lies outside the signal."""
    rec = _write(tmp_path, "one", _minute_of_101(), ["MLII", "V1"], ["mV", "mV"])
    model = ["--record", str(rec), "--model", str(beat_model_dir)]
    code, stdout, stderr = _run([*model, "--output_dir", str(tmp_path / "o"), "--plot_start", "200"], capsys)
    assert code == 0, stderr
    assert f"note: --plot_start 200 s is past the end of the record ({SECONDS:.1f} s): the strip shows its last 10.0 s" in stdout
    assert (tmp_path / "o" / "one_strip.png").is_file()
    for option, value, message in [
        ("--plot_start", "nan", "--plot_start must be a number, got nan"),
        ("--plot_start", "-3", "--plot_start must be 0 or more, got -3.0"),
        ("--plot_seconds", "0.001", "--plot_seconds must be a length in seconds of at least 0.5, got 0.001"),
        ("--plot_seconds", "inf", "--plot_seconds must be a length in seconds of at least 0.5, got inf"),
    ]:
        try:
            code, stdout, stderr = _run([*model, "--output_dir", str(tmp_path / "x"), option, value], capsys)
        except SystemExit as exit:  # the options parser's own check of numbers (heartbert_hf.runtime.check_numbers)
            code, stderr = exit.code, capsys.readouterr().err
        assert code == 2 and message in stderr, (option, value, stderr)
    assert not (tmp_path / "x").exists()


def test_a_tilde_in_the_output_dir_is_the_home_folder(beat_model_dir, tmp_path, monkeypatch, capsys):
    """Before: --output_dir=~/labels (no shell expansion) wrote into a folder literally named ~ in the working folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    rec = _write(tmp_path, "one", _minute_of_101(), ["MLII", "V1"], ["mV", "mV"])
    code, stdout, stderr = _run(["--record", str(rec), "--model", str(beat_model_dir), "--output_dir=~/labels"], capsys)
    assert code == 0, stderr
    assert (tmp_path / "home" / "labels" / "one_beats.csv").is_file() and not (tmp_path / "~").exists()
    assert f"→ {tmp_path / 'home' / 'labels'}" in stdout
