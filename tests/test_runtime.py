"""`heartbert_hf.runtime`: a mistyped model/tokenizer folder fails at once (never minutes of Hub retries), and
`--help` states each option's default once. Nothing here reaches the network: the Hub is replaced by stand-ins."""

from __future__ import annotations

import re
import time

import pytest


@pytest.fixture
def no_hub(monkeypatch, tmp_path):
    """An empty Hub cache in tmp, and a Hub that fails the test if asked (set ``hub.answer`` to let it answer)."""
    from huggingface_hub import HfApi, constants

    cache = tmp_path / "hub-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)

    class Hub:
        answer = None  # an exception to raise, or None to say "the repo exists"
        asked: list[str] = []

    def repo_info(self, repo_id, **kwargs):
        Hub.asked.append(repo_id)
        if Hub.answer == "fail":
            raise AssertionError(f"the Hub was asked about {repo_id}")
        if Hub.answer is not None:
            raise Hub.answer
        return object()

    Hub.answer = "fail"
    Hub.asked = []
    monkeypatch.setattr(HfApi, "repo_info", repo_info)
    Hub.cache = cache
    return Hub


def _cache_repo(cache, repo_id: str):
    """A snapshot of ``repo_id`` in the Hub cache layout (``models--owner--name/refs/main`` → ``snapshots/<commit>``)."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abc")
    snapshot = repo / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    return snapshot


def test_a_mistyped_folder_inside_a_local_folder_is_a_missing_folder_not_a_hub_id(no_hub, tmp_path, monkeypatch):
    """`heartbert-runs/quickstrat` next to ./heartbert-runs/ was sent to the Hub (3.5 min of retries offline)."""
    from heartbert_hf.runtime import check_model_path, looks_like_local_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "heartbert-runs" / "quickstart").mkdir(parents=True)
    assert looks_like_local_path("heartbert-runs/quickstrat") and not looks_like_local_path("runs/aami")
    start = time.monotonic()
    with pytest.raises(
        FileNotFoundError,
        match=r"tokenizer folder heartbert-runs/quickstrat does not exist \(heartbert-runs exists: did you mean heartbert-runs/quickstart\?\)",
    ):
        check_model_path("heartbert-runs/quickstrat", "tokenizer folder")
    assert time.monotonic() - start < 2 and no_hub.asked == []
    assert check_model_path("heartbert-runs/quickstart") == "heartbert-runs/quickstart"
    with pytest.raises(FileNotFoundError, match="does not exist"):  # a Path, as the Python API may pass
        check_model_path(tmp_path / "heartbert-runs" / "quickstrat")
    for name in ("./nothing", "a/b/c", "not a repo id", "x--y"):  # paths, or names the Hub cannot have
        with pytest.raises(FileNotFoundError, match=f"{re.escape(name)} does not exist"):
            check_model_path(name)
    (tmp_path / "file.bin").write_text("x")
    with pytest.raises(FileNotFoundError, match="is a file"):
        check_model_path(str(tmp_path / "file.bin"))


def test_an_unknown_hub_id_offline_fails_at_once_and_a_cached_one_loads_from_the_cache(no_hub, tmp_path, monkeypatch):
    from heartbert_hf.runtime import check_model_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as err:
        check_model_path("runs/aami")
    assert time.monotonic() - start < 2 and no_hub.asked == []  # offline: the Hub is not asked at all
    message = str(err.value)
    assert "model folder runs/aami is not a local folder" in message and "HF_HUB_OFFLINE is set" in message
    assert "the Hub cache holds no repo runs/aami" in message
    snapshot = _cache_repo(no_hub.cache, "org/heartbert")
    assert check_model_path("org/heartbert") == str(snapshot)  # loads from the cache, never from the Hub


def test_a_hub_id_is_asked_once_without_retries(no_hub, tmp_path, monkeypatch):
    from unittest.mock import Mock

    from huggingface_hub.errors import RepositoryNotFoundError

    from heartbert_hf.runtime import check_model_path

    monkeypatch.chdir(tmp_path)
    no_hub.answer = None
    assert check_model_path("org/heartbert") == "org/heartbert" and no_hub.asked == ["org/heartbert"]

    no_hub.answer = RepositoryNotFoundError("404 Repository Not Found", response=Mock(status_code=404, headers={}))  # whatever HTTP client hub uses
    with pytest.raises(FileNotFoundError, match=r"runs/aami is not a local folder .*, and the Hub has no repo runs/aami"):
        check_model_path("runs/aami")

    no_hub.answer = ConnectionError("[Errno -2] Name or service not known")  # the HTTP client's own error class varies by hub version
    no_hub.asked = []
    with pytest.raises(FileNotFoundError, match=r"the Hub is unreachable \(\[Errno -2\] Name or service not known\) with no cached copy of repo runs/aami"):
        check_model_path("runs/aami")
    assert no_hub.asked == ["runs/aami"]  # one request, no back-off
    snapshot = _cache_repo(no_hub.cache, "runs/aami")
    assert check_model_path("runs/aami") == str(snapshot)  # unreachable but cached: the cache, not minutes of retries


def test_the_tokenizer_loaders_check_the_path_themselves(no_hub, tmp_path, monkeypatch):
    from heartbert_hf.runtime import load_heartbert_processor, load_heartbert_tokenizer

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for load in (load_heartbert_tokenizer, load_heartbert_processor):
        with pytest.raises(FileNotFoundError, match="tokenizer folder runs/aami is not a local folder"):
            load("runs/aami")


def test_plot_with_a_mistyped_tokenizer_folder_fails_at_once(no_hub, tmp_path, monkeypatch, capsys):
    from conftest import SAMPLE_DIR

    from heartbert_hf.plots import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "heartbert-runs" / "quickstart").mkdir(parents=True)
    start = time.monotonic()
    assert main(["--record", str(SAMPLE_DIR / "208"), "--tokenizer", "heartbert-runs/quickstrat", "--torch_threads", "1"]) == 2
    err = capsys.readouterr().err
    assert time.monotonic() - start < 10 and no_hub.asked == []
    assert "tokenizer folder heartbert-runs/quickstrat does not exist" in err and "did you mean heartbert-runs/quickstart?" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "heartbert_tokens.png").exists()


def _option_helps(help_text: str) -> dict[str, str]:
    """``--option`` → its help text, one line, from an argparse ``--help`` output."""
    blocks = re.split(r"\n  (?=-)", help_text.split("options:", 1)[1])
    return {block.split()[0].rstrip(","): " ".join(block.split()) for block in blocks if block.strip().startswith("--")}


def _help_of(main, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "module",
    [
        "heartbert_hf.classify_beats",
        "heartbert_hf.plots",
        "heartbert_hf.embed",
        "heartbert_hf.evaluate",
        "heartbert_hf.finetune",
        "heartbert_hf.prepare",
        "heartbert_hf.pretrain",
        "heartbert_hf.quickstart",
    ],
)
def test_help_states_each_default_once(module, capsys):
    """`--model ... (default: the shipped heartbert-aami-ds1) (default: None)` said it twice; required options said `(default: None)`."""
    import importlib

    helps = _option_helps(_help_of(importlib.import_module(module).main, capsys))
    assert len(helps) > 5
    for text in helps.values():
        assert len(re.findall(r"\(default\b", text)) <= 1, text
        assert "(default: None)" not in text, text
    if module.endswith("classify_beats"):
        assert "(default: the shipped heartbert-" in helps["--model"]  # argparse may wrap at the hyphen
        assert helps["--extension"].endswith("(default: hbt)") and "(default" not in helps["--record"]
    elif module.endswith("plots"):
        assert helps["--output"].endswith("(default: heartbert_tokens.png)") and "(default" not in helps["--tokenizer"]


def test_help_formatter_adds_a_default_only_where_the_help_has_none():
    from dataclasses import dataclass, field

    from transformers import HfArgumentParser

    from heartbert_hf.runtime import HelpFormatter

    @dataclass
    class Args:
        path: str = field(metadata={"help": "required"})
        size: int = field(default=3, metadata={"help": "a size"})
        lead: str | None = field(default=None, metadata={"help": "a lead (default: MLII)"})
        name: str = field(default="x", metadata={"help": "a name (Default: the record's)"})

    helps = _option_helps(HfArgumentParser(Args, formatter_class=HelpFormatter).format_help())
    assert helps["--path"].endswith("required") and helps["--size"].endswith("a size (default: 3)")
    assert helps["--lead"].endswith("(default: MLII)") and helps["--name"].endswith("(Default: the record's)")
    plain = _option_helps(HfArgumentParser(Args).format_help())  # what every command printed before
    assert plain["--lead"].endswith("(default: MLII) (default: None)")


def test_pretrain_refuses_a_mistyped_tokenizer_folder_at_once(tmp_path, monkeypatch, capsys):
    """`heartbert pretrain --tokenizer_name_or_path heartbert-runs/quickstrat` used to reach from_pretrained and retry the Hub."""
    from heartbert_hf.pretrain import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "heartbert-runs" / "quickstart").mkdir(parents=True)
    assert main(["--tokenizer_name_or_path", "heartbert-runs/quickstrat", "--output_dir", str(tmp_path / "out"), "--max_steps", "1"]) == 2
    assert re.search(r"heartbert-runs/quickstrat does not exist.*quickstart", capsys.readouterr().err)


def test_commands_load_what_check_model_path_resolved(tiny_model_dir, monkeypatch):
    """check_model_path returns a Hub id's cached copy when the Hub cannot be asked; embed used to ignore it
    and hand the Hub id to from_pretrained, which then retried the Hub for minutes."""
    from huggingface_hub import constants

    import heartbert_hf.runtime as runtime
    from heartbert_hf.embed import load_model

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # from_pretrained("org/cached") fails at once instead of retrying
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    real = runtime.check_model_path
    monkeypatch.setattr(runtime, "check_model_path", lambda name, what="model folder": str(tiny_model_dir) if name == "org/cached" else real(name, what))
    processor, model = load_model("org/cached")
    assert model.config.vocab_size == len(processor.tokenizer) and model.name_or_path == str(tiny_model_dir)


def test_release_process_group_destroys_the_group_and_is_a_no_op_without_one(tmp_path):
    """torchrun ranks that exit with a live gloo group can die with SIGABRT at shutdown (a finished
    2-process pretraining failed CI that way): every Trainer command releases it on the way out."""
    import torch.distributed as dist

    from heartbert_hf.runtime import release_process_group

    release_process_group()  # nothing started: no error
    assert not dist.is_initialized()
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    assert dist.is_initialized()
    release_process_group()
    assert not dist.is_initialized()


def test_a_tilde_in_a_path_option_is_the_home_folder(monkeypatch):
    """Before: --output_dir=~/x (which no shell expands) was a folder named ~ in the working folder."""
    from heartbert_hf.runtime import expand_user_paths

    monkeypatch.setenv("HOME", "/home/u")
    argv = ["--output_dir=~/x", "--input", "~/a", "~/b", "--lead", "~", "--data-dir", "~/d", "--record=~", "--seed", "-1", "--model", "~/m"]
    assert expand_user_paths(argv) == [
        "--output_dir=/home/u/x", "--input", "/home/u/a", "/home/u/b", "--lead", "~", "--data-dir", "/home/u/d", "--record=/home/u", "--seed", "-1",
        "--model", "/home/u/m",
    ]  # fmt: skip


def test_prepare_writes_a_tilde_output_dir_to_the_home_folder(sample_dir, tmp_path, monkeypatch, capsys):
    """Before: prepare saved to $HOME/x.incomplete-PID, then failed writing '~/x.incomplete-PID/README.md' and left that folder."""
    import wfdb

    from heartbert_hf.prepare import main

    data = tmp_path / "data"
    data.mkdir()
    rec = wfdb.rdrecord(str(sample_dir / "101"), sampto=360 * 60)
    wfdb.wrsamp("101", fs=360, units=rec.units, sig_name=rec.sig_name, p_signal=rec.p_signal, fmt=["16", "16"], write_dir=str(data))
    ann = wfdb.rdann(str(sample_dir / "101"), "atr", sampto=360 * 60)
    wfdb.wrann("101", "atr", ann.sample, symbol=ann.symbol, write_dir=str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "home").mkdir()
    assert main(["--dataset", "mitdb", "--data_dir", str(data), "--output_dir=~/prep", "--no_tokenize", "--records", "101"]) == 0, capsys.readouterr().err
    assert (tmp_path / "home" / "prep" / "README.md").is_file() and not (tmp_path / "~").exists()
    assert not list((tmp_path / "home").glob("prep.incomplete*"))
