"""Bad command lines are refused before any work, as usage errors (exit 2) naming the option.

Unknown or foreign options, bad numbers, output paths that would delete the input or cannot be
written: the same rules in every `heartbert` command (``heartbert_hf.runtime.HfArgumentParser``,
``check_replaceable_output``, ``check_output_file``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from heartbert_hf.cli import main as cli_main

SAMPLE = Path(__file__).resolve().parents[1] / "heartbert_hf" / "sample_data"

# each command with the options it requires, so that only the option under test is wrong
REQUIRED = {
    "quickstart": [],
    "plot": ["--record", str(SAMPLE / "101"), "--tokenizer", "t"],
    "prepare": ["--output_dir", "o"],
    "pretrain": [],
    "finetune": ["--task", "mitdb-aami", "--model", "m"],
    "evaluate": ["--model", "m"],
    "embed": ["--model", "m", "--input", "i"],
    "classify-beats": ["--record", str(SAMPLE / "101")],
}


def _usage_error(capsys, argv: list[str]) -> str:
    """Run ``heartbert ARGV``; assert it stops with argparse's exit 2 and return stderr."""
    with pytest.raises(SystemExit) as stop:
        cli_main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("command", sorted(REQUIRED))
def test_every_command_names_a_mistyped_option_and_its_close_match(command, capsys):
    """A typo used to end in HfArgumentParser's bare ValueError traceback (exit 1)."""
    err = _usage_error(capsys, [command, *REQUIRED[command], "--bach_size", "8"])
    assert f"heartbert {command}: error: unrecognized arguments: --bach_size 8" in err
    if command not in ("pretrain", "finetune", "plot"):  # no --batch_size there (pretrain, finetune: --per_device_train_batch_size)
        assert "did you mean --batch_size?" in err


@pytest.mark.parametrize(
    ("command", "wrong", "right"), [("embed", "--output_dir", "--output"), ("plot", "--output_dir", "--output"), ("quickstart", "--max_steps", "--steps")]
)
def test_an_option_of_another_command_names_this_commands_spelling(command, wrong, right, capsys):
    err = _usage_error(capsys, [command, *REQUIRED[command], wrong, "x"])
    assert f"unrecognized arguments: {wrong} x" in err and right in err


@pytest.mark.parametrize(
    ("command", "option", "value", "says"),
    [
        ("pretrain", "--mlm_probability", "1.5", "--mlm_probability must lie in (0, 1], got 1.5"),
        ("pretrain", "--max_seq_length", "0", "--max_seq_length must be a positive whole number, got 0"),
        ("pretrain", "--max_seq_length", "2", "--max_seq_length must be at least 3"),
        ("pretrain", "--validation_fraction", "1", "--validation_fraction must lie in [0, 1)"),
        ("classify-beats", "--batch_size", "-1", "--batch_size must be a positive whole number (or 0: automatic), got -1"),
        ("embed", "--batch_size", "-1", "--batch_size must be a positive whole number (or 0: automatic), got -1"),
        ("prepare", "--batch_size", "0", "--batch_size must be a positive whole number, got 0"),
        ("prepare", "--max_length", "0", "--max_length must be a positive whole number, got 0"),
        ("quickstart", "--steps", "0", "--steps must be a positive whole number, got 0"),
        ("finetune", "--per_device_train_batch_size", "0", "--per_device_train_batch_size must be a positive whole number, got 0"),
        ("finetune", "--learning_rate", "0", "--learning_rate must be more than 0"),
        ("evaluate", "--max_eval_examples", "-5", "--max_eval_examples must be a positive whole number (or 0: automatic), got -5"),
        ("plot", "--window", "-1", "--window must be 0 or more, got -1"),
        ("finetune", "--val_folds", "-1", "--val_folds must be a positive whole number (or 0: none), got -1"),
        ("plot", "--torch_threads", "-2", "--torch_threads must be a positive whole number (or 0: automatic), got -2"),
    ],
)
def test_bad_numbers_are_usage_errors_naming_the_option(command, option, value, says, capsys):
    """They used to surface after minutes of work (pretrain fitted the quantizer + BPE first) or as a per-record error."""
    assert says in _usage_error(capsys, [command, *REQUIRED[command], option, value])


@pytest.mark.parametrize("command", ["prepare", "finetune", "quickstart", "classify-beats", "pretrain"])
def test_an_output_dir_that_is_a_file_is_a_usage_error(command, tmp_path, capsys):
    """finetune used to load the model and data, then fail in os.makedirs with a FileExistsError traceback."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    argv = [a for a in REQUIRED[command]]
    if "--output_dir" in argv:
        argv[argv.index("--output_dir") + 1] = str(afile)
    else:
        argv += ["--output_dir", str(afile)]
    assert f"--output_dir {afile} is a file" in _usage_error(capsys, [command, *argv])


@pytest.fixture
def project(tmp_path) -> Path:
    """``tmp/proj/mitdb`` holding a copy of sample record 101."""
    data = tmp_path / "proj" / "mitdb"
    data.mkdir(parents=True)
    for suffix in (".hea", ".dat", ".atr"):
        shutil.copy(SAMPLE / f"101{suffix}", data)
    return data


@pytest.mark.parametrize("output", ["same", "parent"])
def test_prepare_never_deletes_its_input_folder(project, output, capsys):
    """`prepare --data_dir proj/mitdb --output_dir proj/mitdb (or proj) --overwrite_output_dir` deleted the user's records."""
    out = project if output == "same" else project.parent
    argv = ["prepare", "--dataset", "mitdb", "--config", "windows", "--data_dir", str(project), "--output_dir", str(out), "--overwrite_output_dir"]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert f"--output_dir {out} {'is' if output == 'same' else 'holds'} the --data_dir folder" in err
    assert sorted(p.name for p in project.iterdir()) == ["101.atr", "101.dat", "101.hea"]


def test_prepare_refuses_to_replace_a_folder_of_records_or_an_existing_one_without_overwrite(project, tmp_path, capsys):
    """A folder of records is never rmtree'd; an existing output_dir was a FileExistsError traceback (exit 1)."""
    argv = ["prepare", "--dataset", "mitdb", "--data_dir", str(tmp_path / "elsewhere"), "--output_dir", str(project)]
    assert cli_main(argv) == 2
    assert f"--output_dir {project} exists; pass --overwrite_output_dir" in capsys.readouterr().err
    assert cli_main([*argv, "--overwrite_output_dir"]) == 2
    assert "holds record files (101." in capsys.readouterr().err
    assert len(list(project.iterdir())) == 3


def test_prepare_refuses_an_output_dir_holding_its_cache(tmp_path, capsys):
    cache = tmp_path / "out" / "cache"
    cache.mkdir(parents=True)
    assert cli_main(["prepare", "--output_dir", str(tmp_path / "out"), "--cache_dir", str(cache), "--overwrite_output_dir"]) == 2
    assert "holds the --cache_dir folder" in capsys.readouterr().err and cache.is_dir()


def test_embed_checks_output_before_embedding(tiny_model_dir, tmp_path, capsys):
    """--output naming a folder used to embed everything, then end in pyarrow's IsADirectoryError traceback."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    for output, says in ((tmp_path, "is a folder; pass the path of a Parquet file"), (afile / "x.parquet", f"{afile} is a file, not a folder")):
        assert cli_main(["embed", "--model", str(tiny_model_dir), "--input", str(SAMPLE / "101"), "--output", str(output)]) == 2
        assert says in capsys.readouterr().err


def test_embed_says_a_prepared_dataset_is_tokenized(tiny_model_dir, tmp_path, capsys):
    """A `heartbert prepare` output (input_ids, no signal) used to be refused as lacking column 'signal'."""
    import datasets

    datasets.Dataset.from_dict({"input_ids": [[0, 5, 2]], "record_id": ["101"]}).save_to_disk(str(tmp_path / "prep"))
    assert cli_main(["embed", "--model", str(tiny_model_dir), "--input", str(tmp_path / "prep"), "--output", str(tmp_path / "e.parquet")]) == 2
    err = capsys.readouterr().err
    assert "is tokenized (input_ids, no signal)" in err and "--no_tokenize" in err


def test_plot_into_a_folder_writes_inside_it_and_prints_the_real_path(tiny_model_dir, tmp_path, capsys):
    """`plot --output figs/` used to print 'wrote figs' while matplotlib wrote figs.png beside the folder."""
    figs = tmp_path / "figs"
    figs.mkdir()
    assert cli_main(["plot", "--record", str(SAMPLE / "101"), "--tokenizer", str(tiny_model_dir), "--output", str(figs), "--max_tokens", "10"]) == 0
    written = figs / "101_window0_lead0.png"
    assert capsys.readouterr().out.strip() == f"wrote {written}" and written.is_file()
    assert not (tmp_path / "figs.png").exists()
    assert cli_main(["plot", "--record", str(SAMPLE / "101"), "--tokenizer", str(tiny_model_dir), "--output", str(tmp_path / "noext")]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'noext.png'}" and (tmp_path / "noext.png").is_file()


def test_pretrain_refuses_a_max_seq_length_beyond_the_models_positions(tiny_model_dir, tmp_path, capsys):
    """A 128-position model with --max_seq_length 512 used to tokenize and pack everything, then crash at step 1."""
    argv = ["--model_name_or_path", str(tiny_model_dir), "--max_seq_length", "512", "--output_dir", str(tmp_path / "o"), "--max_steps", "1"]
    assert cli_main(["pretrain", *argv]) == 2
    err = capsys.readouterr().err
    assert "--max_seq_length 512 exceeds the 128 token positions" in err and "pass --max_seq_length 128 or less" in err


def test_check_continued_model_caps_the_default_and_refuses_a_foreign_tokenizer(tiny_model_dir, sample_signals, tmp_path):
    from types import SimpleNamespace

    from heartbert_hf import HeartBertTokenizer
    from heartbert_hf.pretrain import check_continued_model

    model = SimpleNamespace(model_name_or_path=str(tiny_model_dir), tokenizer_name_or_path=None)
    data = SimpleNamespace(max_seq_length=512)
    assert "--max_seq_length 512 -> 128" in check_continued_model(model, data, max_seq_length_given=False)
    assert data.max_seq_length == 128
    with pytest.raises(ValueError, match="--max_seq_length 512 exceeds the 128 token positions.*pass --max_seq_length 128 or less"):
        check_continued_model(model, SimpleNamespace(max_seq_length=512), max_seq_length_given=True)

    other = HeartBertTokenizer.train_from_ecg(sample_signals[1:], 360, vocab_size=600, show_progress=False)
    other.save_pretrained(tmp_path / "other")
    model.tokenizer_name_or_path = str(tmp_path / "other")
    with pytest.raises(ValueError, match="differs from the tokenizer saved with --model_name_or_path.*pretrained with"):
        check_continued_model(model, SimpleNamespace(max_seq_length=128), max_seq_length_given=True)
    model.tokenizer_name_or_path = str(tiny_model_dir)  # its own tokenizer: fine
    assert check_continued_model(model, SimpleNamespace(max_seq_length=128), max_seq_length_given=True) is None

    bare = tmp_path / "bare"  # a model folder without a tokenizer: the tokenizer must fit its embedding rows
    bare.mkdir()
    shutil.copy(tiny_model_dir / "config.json", bare)
    model = SimpleNamespace(model_name_or_path=str(bare), tokenizer_name_or_path=str(tmp_path / "other"))
    with pytest.raises(ValueError, match=f"has {len(other)} tokens, more than the"):
        check_continued_model(model, SimpleNamespace(max_seq_length=128), max_seq_length_given=True)


def test_documented_zero_values_are_accepted():
    """``--val_folds 0`` (train on every DS1 record) is how ``mitdb_scorecard.py --ship`` trains the shipped classifier."""
    from heartbert_hf.finetune import parse_args

    args, _ = parse_args(["--task", "mitdb-aami", "--model", "m", "--val_folds", "0"])
    assert args.val_folds == 0
