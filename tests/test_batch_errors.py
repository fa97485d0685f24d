"""Batch commands go on past a bad record, write everything good, and list what they skipped and why."""

import json
import re
import shutil

import numpy as np
import pytest
from conftest_data import write_record


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory, sample_dir):
    """One good record (118) and four bad ones: 0.5 s long, 4000 lead-off samples, a truncated .dat, corrupt samples."""
    import wfdb

    folder = tmp_path_factory.mktemp("bad_records")
    for ext in ("hea", "dat", "atr"):
        shutil.copy(sample_dir / f"118.{ext}", folder / f"118.{ext}")
    rec = wfdb.rdrecord(str(sample_dir / "208"))
    write_record(folder, "short", rec.p_signal[:180], 360, rec.sig_name)
    leadoff = rec.p_signal[:20000].copy()
    leadoff[4000:8000, 0] = 0.0  # exactly window 1 of lead 0 (MLII) is constant
    write_record(folder, "leadoff", leadoff, 360, rec.sig_name)
    write_record(folder, "trunc", rec.p_signal[:20000], 360, rec.sig_name)
    (folder / "trunc.dat").write_bytes((folder / "trunc.dat").read_bytes()[:10000])
    write_record(folder, "corrupt", rec.p_signal[:20000], 360, rec.sig_name)
    data = bytearray((folder / "corrupt.dat").read_bytes())
    data[100:110] = b"\x7f" * 10  # same size, other samples: only the checksum can tell
    (folder / "corrupt.dat").write_bytes(bytes(data))
    return folder


def test_embed_folder_skips_bad_records_and_lists_them(tiny_model_dir, bad_folder, tmp_path, capsys):
    import pandas as pd

    from heartbert_hf.embed import main

    out = tmp_path / "emb.parquet"
    assert main(["--model", str(tiny_model_dir), "--input", str(bad_folder), "--output", str(out), "--leads", "MLII"]) == 0
    frame = pd.read_parquet(out)
    assert set(frame["record_id"]) == {"118", "leadoff"}
    # 20000 samples = 5 windows of 4000; window 1 is flat and left out, the others are embedded
    assert sorted(frame.loc[frame["record_id"] == "leadoff", "window"]) == [0, 2, 3, 4]
    err = capsys.readouterr().err
    assert "skipped 3 of 5 record(s)" in err
    assert re.search(r"short: (ecg\[0\].*: )?signal too short: 180 samples", err)
    assert "trunc: truncated signal file" in err and "corrupt: header/sample mismatch" in err
    assert "leadoff: lead MLII, window 1 (from 11.1 s)" in err
    assert "Embedding: 100%" in err and "window/s" in err  # the bar counts windows


def test_embed_raise_names_record_lead_and_window(tiny_model_dir, bad_folder, tmp_path, capsys):
    from heartbert_hf.embed import main

    out = tmp_path / "emb.parquet"
    args = ["--model", str(tiny_model_dir), "--output", str(out), "--leads", "MLII"]
    # one record: raise by default; a flat window is an error once drop_flat is off
    assert main([*args, "--input", str(bad_folder / "leadoff.hea"), "--drop_flat", "False"]) == 2
    # the window's samples are counted in the input (here also 360 Hz), as heartbert_hf.inference names them
    assert re.search(r"record leadoff: lead 0, window 1 \(input samples 4000:8000 at 360 Hz\): flat signal", capsys.readouterr().err)
    assert main([*args, "--input", str(bad_folder / "short")]) == 2
    assert re.search(r"record short: (ecg\[0\].*: )?signal too short", capsys.readouterr().err)
    assert main([*args, "--input", str(bad_folder), "--on_error", "raise"]) == 2
    assert not out.exists()
    assert main([*args, "--input", str(bad_folder / "short"), "--on_error", "skip"]) == 2  # nothing good at all
    assert "no windows to embed" in capsys.readouterr().err


def test_embed_missing_model_folder_says_so(bad_folder, tmp_path, capsys):
    from heartbert_hf.embed import main

    missing = tmp_path / "models" / "not-there"
    assert main(["--model", str(missing), "--input", str(bad_folder / "118")]) == 2
    err = capsys.readouterr().err
    assert f"model folder {missing} does not exist" in err and "Repo id" not in err


def test_prepare_skips_bad_records_and_writes_the_list(tiny_model_dir, bad_folder, tmp_path, capsys):
    import datasets

    from heartbert_hf.prepare import main

    out = tmp_path / "prepared"
    assert (
        main(
            [
                "--dataset",
                "mitdb",
                "--data_dir",
                str(bad_folder),
                "--tokenizer",
                str(tiny_model_dir),
                "--output_dir",
                str(out),
                "--cache_dir",
                str(tmp_path / "cache"),
                "--max_length",
                "128",
            ]
        )
        == 0
    )
    dsd = datasets.load_from_disk(str(out))
    records = {r for split in dsd.values() for r in split["record_id"]}
    assert records == {"118", "leadoff"}
    listed = {item["what"]: item["reason"] for item in json.loads((out / "skipped.json").read_text())}
    assert set(listed) == {"mitdb record short", "mitdb record trunc", "mitdb record corrupt"}
    assert "shorter than 1 s" in listed["mitdb record short"] and "checksum" in listed["mitdb record corrupt"]
    assert "skipped 3 record(s)" in capsys.readouterr().err
    # --on_error raise: the first bad record stops the run, and nothing is written
    assert (
        main(
            [
                "--dataset",
                "mitdb",
                "--data_dir",
                str(bad_folder),
                "--tokenizer",
                str(tiny_model_dir),
                "--output_dir",
                str(tmp_path / "p2"),
                "--cache_dir",
                str(tmp_path / "cache"),
                "--on_error",
                "raise",
            ]
        )
        == 2
    )
    assert "truncated signal file" in capsys.readouterr().err and not (tmp_path / "p2").exists()


def test_tokenizing_leaves_out_examples_that_fail(tiny_tokenizer, sample_signals):
    import datasets

    from heartbert_hf.prepare import tokenize_skipping

    good = sample_signals[0][:, :8000]
    nan = good.copy()
    nan[1, 500] = np.nan
    flat = good.copy()
    flat[0, 4000:] = 1.0
    ds = datasets.Dataset.from_dict(
        {"signal": [good.tolist(), nan.tolist(), flat.tolist()], "sampling_rate": [360.0] * 3, "record_id": ["ok", "nan", "flat"], "start": [0, 0, 0]}
    )
    dsd = datasets.DatasetDict({"train": ds})
    skipped = []
    tok = tokenize_skipping(dsd, tiny_tokenizer, 128, drop_flat=True, on_error="skip", skipped=skipped)
    assert set(tok["train"]["record_id"]) == {"ok", "flat"}
    assert {(row["record_id"], row["lead_index"], row["window_index"]) for row in tok["train"] if row["record_id"] == "flat"} == {
        ("flat", 0, 0),
        ("flat", 1, 0),
        ("flat", 1, 1),
    }  # lead 0, window 1 is constant and left out
    assert [what for what, _ in skipped] == ["train record nan from sample 0"]
    assert "signal contains NaN or inf (first at lead 1, sample 500" in skipped[0][1]
    skipped = []
    tok = tokenize_skipping(dsd, tiny_tokenizer, 128, drop_flat=False, on_error="skip", skipped=skipped)
    assert set(tok["train"]["record_id"]) == {"ok"} and "lead 0, window 1" in skipped[1][1]
    with pytest.raises(ValueError, match="record nan from sample 0: .*signal contains NaN"):
        tokenize_skipping(dsd, tiny_tokenizer, 128, drop_flat=True, on_error="raise", skipped=[])


def test_embed_reader_crash_is_a_one_line_error(tiny_model_dir, bad_folder, tmp_path, capsys, monkeypatch):
    """A reader that fails in an unexpected way (e.g. wfdb on a multi-segment header) is that record's error, not a traceback."""
    from heartbert_hf.data import wfdb_io
    from heartbert_hf.embed import main

    def broken(path, leads=None, verify_checksum=True):
        raise AttributeError("'MultiRecord' object has no attribute 'file_name'")

    monkeypatch.setattr(wfdb_io, "read_record", broken)
    assert main(["--model", str(tiny_model_dir), "--input", str(bad_folder / "leadoff"), "--output", str(tmp_path / "e.parquet")]) == 2
    assert "record leadoff: cannot read the record (AttributeError: 'MultiRecord'" in capsys.readouterr().err
