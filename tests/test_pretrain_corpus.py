"""The pretraining corpus library (heartbert_hf.corpus), the preset files and pretrain's default paths."""

import pytest

from heartbert_hf.data.splits import MITDB_DS1
from heartbert_hf.corpus import excluded_records, load_corpus, split_by_patient
from heartbert_hf.pretrain import load_preset, parse_args, preset_names


def test_excluded_records_expands_named_splits():
    assert excluded_records("DS1") == set(MITDB_DS1)
    assert excluded_records(" 208, x1 ,") == {"208", "x1"}
    assert excluded_records(None) == set()


def test_load_corpus_drops_excluded_records(tmp_path):
    corpus = load_corpus("sample", exclude="208", cache_dir=str(tmp_path))
    records = {r for split in corpus.values() for r in split["record_id"]}
    assert records == {"101", "118"}
    train, validation = split_by_patient(corpus, validation_records="118")
    assert set(train["record_id"]) == {"101"} and set(validation["record_id"]) == {"118"}
    with pytest.raises(ValueError, match="not in the corpus"):
        split_by_patient(corpus, validation_records="999")
    with pytest.raises(ValueError, match="no training data"):
        load_corpus("sample", exclude="101,208,118", cache_dir=str(tmp_path))


def test_presets_are_shipped_files_loaded_by_name():
    assert preset_names() == ["gpu", "paper", "quickstart"]
    quick = load_preset("quickstart")
    assert (quick["hidden_size"], quick["max_steps"], quick["sources"]) == (64, 200, "sample")
    assert load_preset("gpu", gpu=True)["torch_compile"] is True
    assert "torch_compile" not in load_preset("gpu", gpu=False) and "optim" not in load_preset("gpu", gpu=False)
    model, data, training = parse_args(["--preset", "paper", "--output_dir", "x"])
    assert (model.hidden_size, model.vocab_size, data.max_seq_length, training.learning_rate) == (768, 52000, 512, 5e-4)
    with pytest.raises(SystemExit, match=r"unknown preset 'nope'; choose among \['gpu', 'paper', 'quickstart'\]"):
        parse_args(["--preset", "nope"])


def test_default_output_dirs_and_no_pin_memory_on_cpu():
    import torch

    _, _, training = parse_args([])
    assert training.output_dir == "heartbert-runs/pretrain"
    _, _, training = parse_args(["--preset", "quickstart"])
    assert training.output_dir == "heartbert-runs/pretrain-quickstart"
    assert training.dataloader_pin_memory == torch.cuda.is_available()
    _, _, training = parse_args(["--preset", "quickstart", "--output_dir", "elsewhere", "--dataloader_pin_memory", "True"])
    assert training.output_dir == "elsewhere" and training.dataloader_pin_memory is True
