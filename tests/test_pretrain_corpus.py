"""Pretraining corpus selection: downstream evaluation records can be kept out of pretraining."""

import pytest

from heartbert_hf.data.splits import MITDB_DS1
from heartbert_hf.pretrain import DataArguments, excluded_records, load_corpus, parse_args


def test_excluded_records_expands_named_splits():
    assert excluded_records("DS1") == set(MITDB_DS1)
    assert excluded_records(" 208, x1 ,") == {"208", "x1"}
    assert excluded_records(None) == set()


def test_load_corpus_drops_excluded_records(tmp_path):
    args = DataArguments(sources="sample", exclude_records="208", cache_dir=str(tmp_path))
    corpus = load_corpus(args)
    records = {r for split in corpus.values() for r in split["record_id"]}
    assert records == {"101", "118"}
    with pytest.raises(SystemExit, match="no training data"):
        load_corpus(DataArguments(sources="sample", exclude_records="101,208,118", cache_dir=str(tmp_path)))


def test_default_output_dirs_and_no_pin_memory_on_cpu():
    import torch

    _, _, training = parse_args([])
    assert training.output_dir == "heartbert-runs/pretrain"
    _, _, training = parse_args(["--preset", "quickstart"])
    assert training.output_dir == "heartbert-runs/pretrain-quickstart"
    assert training.dataloader_pin_memory == torch.cuda.is_available()
    _, _, training = parse_args(["--preset", "quickstart", "--output_dir", "elsewhere", "--dataloader_pin_memory", "True"])
    assert training.output_dir == "elsewhere" and training.dataloader_pin_memory is True
