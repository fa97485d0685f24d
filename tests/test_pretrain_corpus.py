"""The pretraining corpus library (heartbert_hf.data.corpus), the preset files and pretrain's default paths."""

import os

import pytest

from heartbert_hf.data.corpus import excluded_records, load_corpus, split_by_patient
from heartbert_hf.data.splits import MITDB_DS1
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


def _only_packages(names: list[str], folder):
    """Symlink the installed distributions ``names`` and everything they require into ``folder``: a site
    with nothing else (run the child with ``python -S``). Returns the distribution names linked."""
    import importlib.metadata as md
    import re

    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    env = default_environment()
    seen, todo = set(), list(names)
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue  # an optional requirement that is not installed
        seen.add(name)
        for top in {f.parts[0] for f in dist.files or [] if f.parts and f.parts[0] != ".."}:
            src = dist.locate_file(top)
            if src.exists() and not (folder / top).exists():
                (folder / top).symlink_to(src)
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
                todo.append(req.name)
    return seen


def test_pretrain_from_saved_blocks_with_only_torch_and_transformers(tiny_tokenizer, tmp_path):
    """--save_blocks writes token blocks; --prepared_blocks pretrains from them in a process where
    datasets, wfdb and scipy cannot be imported (a site holding only torch, transformers, accelerate and their requirements)."""
    import json
    import subprocess
    import sys

    from conftest import REPO

    from heartbert_hf.data.corpus import save_blocks, split_summary, tokenize_and_pack

    corpus = load_corpus("sample", cache_dir=str(tmp_path / "cache"))
    train_raw, val_raw = split_by_patient(corpus, validation_records="118")
    train_raw, val_raw = train_raw.select(range(4)), val_raw.select(range(2))
    summary = {"sources": ["sample"]}
    packed = {}
    for name, raw, offset in (("train", train_raw, 0), ("validation", val_raw, -(10**9))):
        packed[name], chunks = tokenize_and_pack(raw, tiny_tokenizer, 64, uid_offset=offset, name=name)
        summary[name] = split_summary(raw, packed[name], chunks, tiny_tokenizer, 64)
    blocks = save_blocks(tmp_path / "blocks", packed["train"], packed["validation"], tiny_tokenizer, summary)

    site = tmp_path / "site"
    site.mkdir()
    linked = _only_packages(["torch", "transformers", "accelerate"], site)
    assert not linked & {"datasets", "wfdb", "scipy", "pandas"}, linked
    code = (
        f"import sys; sys.path[:0] = [{str(site)!r}, {str(REPO)!r}]\n"
        "import importlib.util\n"
        "assert all(importlib.util.find_spec(m) is None for m in ('datasets', 'wfdb', 'scipy')), 'not isolated'\n"
        "from heartbert_hf.pretrain import main\n"
        f"main(['--prepared_blocks', {str(blocks)!r}, '--hidden_size', '32', '--num_hidden_layers', '1', '--num_attention_heads', '2',"
        " '--intermediate_size', '64', '--max_steps', '2', '--per_device_train_batch_size', '2', '--eval_strategy', 'no',"
        " '--save_strategy', 'no', '--report_to', 'none', '--use_cpu', 'True', '--logging_steps', '1', '--output_dir', 'out', '--torch_threads', '1'])\n"
        "print('modules:', sorted(m for m in ('datasets', 'wfdb', 'scipy') if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "modules: []" in proc.stdout
    out = tmp_path / "out"
    for name in ("model.safetensors", "config.json", "quantizer.json", "processor_config.json", "README.md", "data_summary.json"):
        assert (out / name).is_file(), name
    assert (blocks / "tokenizer" / "processor_config.json").is_file()  # the blocks folder carries the processor too
    from transformers import AutoProcessor

    from heartbert_hf import HeartBertProcessor

    for folder in (out, blocks / "tokenizer"):
        processor = AutoProcessor.from_pretrained(folder)
        assert isinstance(processor, HeartBertProcessor), (folder, type(processor))
        assert processor.feature_extractor.fingerprint == tiny_tokenizer.quantizer_fingerprint
    assert json.loads((out / "config.json").read_text())["max_position_embeddings"] == 66  # the blocks' 64 tokens + 2
    assert "train: 1 records" in proc.stdout
