"""`heartbert embed` internals: the window count behind its progress bar, and the bar's updates."""

import numpy as np
import pytest


@pytest.mark.parametrize("fs, n", [(360, 20000), (250, 15000), (500, 7777), (128, 1000), (360, 300)])
def test_expected_windows_match_the_feature_extractor(tiny_tokenizer, sample_signals, fs, n):
    from heartbert_hf.embed import _expected_windows

    features = tiny_tokenizer.feature_extractor
    signal = np.resize(sample_signals[0][0], n)
    try:
        got = len(features(signal, sampling_rate=fs)["level_text"])
    except ValueError:  # too short: no window
        got = 0
    assert _expected_windows(n, 1, fs, features) == got


def test_progress_counts_every_window_once(tiny_model_dir, sample_signals):
    from transformers import AutoModel

    import heartbert_hf  # noqa: F401
    from heartbert_hf.embed import embed_windows
    from heartbert_hf.runtime import load_heartbert_processor

    processor = load_heartbert_processor(str(tiny_model_dir))
    model = AutoModel.from_pretrained(tiny_model_dir).eval()
    updates = []
    rows = embed_windows(model, processor, sample_signals[2][:, :20000], 360, max_length=128, batch_size=8, progress=updates.append)
    assert len(rows) == 10 and sum(updates) == 10  # 2 leads x 5 windows
    assert len(updates) > 1 and all(u >= 0 for u in updates)  # updated after each forward pass, not once per record
    assert [(r["window"], r["lead"]) for r in rows] == [(w, lead) for w in range(5) for lead in range(2)]


def test_embed_windows_is_the_inference_path(tiny_model_dir, sample_signals):
    """`heartbert embed` gives what heartbert_hf.inference.embed_ecg gives: one inference path."""
    from transformers import AutoModel

    import heartbert_hf  # noqa: F401
    from heartbert_hf.embed import embed_windows
    from heartbert_hf.inference import embed_ecg
    from heartbert_hf.runtime import load_heartbert_processor

    processor = load_heartbert_processor(str(tiny_model_dir))
    model = AutoModel.from_pretrained(tiny_model_dir).eval()
    x = sample_signals[0][:, :12000]
    rows = embed_windows(model, processor, x, 360, max_length=128)
    ref = embed_ecg(model, processor, x, 360, max_length=128)
    np.testing.assert_array_equal(np.stack([r["embedding"] for r in rows]), ref.embeddings)
    assert [r["n_sequences"] for r in rows] == ref.n_sequences.tolist() and min(ref.n_sequences) > 1


def test_load_heartbert_processor_from_model_and_processor_folders(tiny_model_dir, tiny_tokenizer, tmp_path):
    from heartbert_hf.processing_heartbert import HeartBertProcessor
    from heartbert_hf.runtime import load_heartbert_processor

    from_model = load_heartbert_processor(str(tiny_model_dir))  # tokenizer files only: its feature extractor
    assert isinstance(from_model, HeartBertProcessor) and from_model.feature_extractor.fingerprint == tiny_tokenizer.quantizer_fingerprint
    HeartBertProcessor.from_tokenizer(tiny_tokenizer).save_pretrained(tmp_path / "proc")  # processor_config.json
    saved = load_heartbert_processor(str(tmp_path / "proc"))
    assert saved.feature_extractor is not saved.tokenizer.feature_extractor  # read from processor_config.json
    settings = [{k: v for k, v in p.feature_extractor.to_dict().items() if k != "auto_map"} for p in (saved, from_model)]
    assert settings[0] == settings[1] and settings[0]["quantizer_fingerprint"] == tiny_tokenizer.quantizer_fingerprint
    with pytest.raises(ValueError, match="has no HeartBert tokenizer"):
        load_heartbert_processor(str(tmp_path))


def test_embed_precision_option(tiny_model_dir, sample_dir, tmp_path, capsys):
    import pandas as pd

    from heartbert_hf.embed import main

    args = ["--model", str(tiny_model_dir), "--input", str(sample_dir / "118"), "--leads", "MLII"]
    assert main([*args, "--output", str(tmp_path / "fp32.parquet")]) == 0
    assert main([*args, "--output", str(tmp_path / "int8.parquet"), "--precision", "int8"]) == 0
    a, b = (np.stack(pd.read_parquet(tmp_path / f"{p}.parquet")["embedding"]) for p in ("fp32", "int8"))
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert a.shape == b.shape and cosine.min() > 0.999 and not np.array_equal(a, b)  # int8 really ran, and stays close
    capsys.readouterr()
    assert main([*args, "--output", str(tmp_path / "x.parquet"), "--precision", "fp16"]) == 2
    assert "--precision must be one of ('fp32', 'bf16', 'int8'), got 'fp16'" in capsys.readouterr().err


def _write_record(folder, name, p_signal, sig_name, units):
    import wfdb

    n = p_signal.shape[1]
    wfdb.wrsamp(name, fs=360, units=units, sig_name=sig_name, p_signal=p_signal, fmt=["16"] * n, adc_gain=[200] * n, baseline=[0] * n, write_dir=str(folder))
    return folder / name


def test_non_ecg_signals_are_left_out_and_named_unless_leads_names_them(tiny_model_dir, sample_dir, tmp_path, capsys):
    """Before: a pulse signal (PLETH, units NU) beside the ECG (CinC 2015 alarm records) was embedded as an ECG lead, silently."""
    import pandas as pd
    import wfdb

    from heartbert_hf.embed import main

    x = wfdb.rdrecord(str(sample_dir / "101"), sampto=360 * 30).p_signal  # (samples, 2)
    rec = _write_record(tmp_path, "a1", np.c_[x, x[:, 1] * 20], ["II", "V", "PLETH"], ["mV", "mV", "NU"])
    out = tmp_path / "e.parquet"
    assert main(["--model", str(tiny_model_dir), "--input", str(rec), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "left out the non-ECG signals (units not a voltage, or a non-ECG name) of 1 record(s); --leads NAME ... embeds them:" in err
    assert "  a1: PLETH [NU]" in err
    assert set(pd.read_parquet(out)["lead_name"]) == {"II", "V"}
    assert main(["--model", str(tiny_model_dir), "--input", str(rec), "--output", str(out), "--leads", "II", "PLETH"]) == 0
    assert set(pd.read_parquet(out)["lead_name"]) == {"II", "PLETH"} and "non-ECG" not in capsys.readouterr().err
    # a record of non-ECG signals only is a bad record, named with its signals
    bad = _write_record(tmp_path, "p1", x * 20, ["PLETH", "ABP"], ["NU", "mmHg"])
    assert main(["--model", str(tiny_model_dir), "--input", str(bad), str(rec), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "p1: none of its signals is an ECG lead by its units and name (PLETH [NU], ABP [mmHg]); pass --leads NAME" in err


def test_embed_reads_an_edf_file_and_unnamed_signals_by_index(tiny_model_dir, sample_dir, tmp_path, capsys):
    import pandas as pd
    import wfdb
    from wfdb.io.convert.edf import wfdb_to_edf

    from heartbert_hf.embed import main

    rec = wfdb.rdrecord(str(sample_dir / "101"), sampto=360 * 20, physical=False)
    rec.record_name = "r101"
    rec.wrsamp(write_dir=str(tmp_path))
    wfdb_to_edf(str(tmp_path / "r101"), output_filename=str(tmp_path / "r101.edf"))
    out = tmp_path / "e.parquet"
    assert main(["--model", str(tiny_model_dir), "--input", str(tmp_path / "r101.edf"), "--output", str(out)]) == 0, capsys.readouterr().err
    frame = pd.read_parquet(out)
    assert set(frame["lead_name"]) == {"MLII", "V1"} and set(frame["record_id"]) == {"r101"}
    hea = tmp_path / "r101.hea"
    lines = hea.read_text().splitlines()
    hea.write_text("\n".join([lines[0]] + [line.rsplit(" ", 1)[0] for line in lines[1:]]) + "\n")  # no signal names
    assert main(["--model", str(tiny_model_dir), "--input", str(tmp_path / "r101"), "--output", str(out), "--leads", "1"]) == 0
    assert set(pd.read_parquet(out)["lead_name"]) == {"1"}


@pytest.mark.parametrize(
    "name, non_ecg",
    [
        ("EEG (C4-A1)", True), ("EEG Fpz-Cz", True), ("EEG(sec)", True), ("EOG(L)", True), ("EMG submental", True), ("ECoG 3", True),
        ("Resp (sum)", True), ("THOR RES", True), ("C4-A1", True), ("Fpz-Cz", True), ("O2-A1", True), ("F3:M2", True), ("LOC-A2", True),
        ("ECG", False), ("EKG", False), ("MLII", False), ("II", False), ("V1", False), ("aVR", False), ("CM5", False), ("C4", False),
        ("Abdomen_1", False), ("Direct_1", False), ("ECG I", False), ("", False),
    ],
)  # fmt: skip
def test_standard_non_ecg_signal_names(name, non_ecg):
    """EEG/EOG/EMG names and 10-20 derivations are no ECG lead; ECG lead names (C1..C6: the IEC chest leads) are."""
    from heartbert_hf.data.lead_units import is_ecg_signal, is_non_ecg_name

    assert is_non_ecg_name(name) is non_ecg
    assert is_ecg_signal(name, "uV") is not non_ecg


def test_eeg_eog_emg_in_microvolts_are_left_out_unless_leads_names_them(tiny_model_dir, sample_dir, tmp_path, capsys):
    """Before: polysomnography channels in uV (slpdb: EEG (C4-A1), EOG, EMG) were embedded as ECG leads, silently."""
    import pandas as pd
    import wfdb

    from heartbert_hf.embed import main

    x = wfdb.rdrecord(str(sample_dir / "101"), sampto=360 * 30).p_signal[:, 0]  # MLII, mV
    eeg = np.random.default_rng(0).normal(scale=30.0, size=len(x))  # uV
    rec = _write_record(tmp_path, "slp", np.c_[x, eeg, eeg, eeg], ["ECG", "EEG (C4-A1)", "EOG (L)", "EMG"], ["mV", "uV", "uV", "uV"])
    out = tmp_path / "e.parquet"
    assert main(["--model", str(tiny_model_dir), "--input", str(rec), "--output", str(out)]) == 0
    assert "  slp: EEG (C4-A1) [uV], EOG (L) [uV], EMG [uV]" in capsys.readouterr().err
    assert set(pd.read_parquet(out)["lead_name"]) == {"ECG"}
    assert main(["--model", str(tiny_model_dir), "--input", str(rec), "--output", str(out), "--leads", "ECG", "EMG"]) == 0
    assert set(pd.read_parquet(out)["lead_name"]) == {"ECG", "EMG"}


def test_signals_sharing_a_name_are_embedded_by_index(tiny_model_dir, sample_dir, tmp_path, capsys):
    """Before: --leads ECG on a record naming both signals ECG (Long-Term AF Database headers) embedded only the first."""
    import pandas as pd
    import wfdb

    from heartbert_hf.embed import main

    x = wfdb.rdrecord(str(sample_dir / "101"), sampto=360 * 30).p_signal
    rec = _write_record(tmp_path, "dup", x, ["A", "B"], ["mV", "mV"])
    hea = rec.with_name("dup.hea")
    hea.write_text(hea.read_text().replace(" A\n", " ECG\n").replace(" B\n", " ECG\n"))
    assert wfdb.rdheader(str(rec)).sig_name == ["ECG", "ECG"]
    out = tmp_path / "e.parquet"
    args = ["--model", str(tiny_model_dir), "--input", str(rec), "--output", str(out)]
    for leads, expected in (
        [[], {"ECG (signal 0)", "ECG (signal 1)"}],
        [["--leads", "ECG"], {"ECG (signal 0)", "ECG (signal 1)"}],
        [["--leads", "1"], {"ECG (signal 1)"}],
    ):
        assert main([*args, *leads]) == 0, capsys.readouterr().err
        frame = pd.read_parquet(out)
        assert set(frame["lead_name"]) == expected, leads
    one = frame[frame["lead_name"] == "ECG (signal 1)"]["embedding"].iloc[0]
    assert main([*args, "--leads", "0"]) == 0
    assert not np.allclose(pd.read_parquet(out)["embedding"].iloc[0], one)  # signal 0 is another lead than signal 1
