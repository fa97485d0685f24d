"""Tokenizing map, pretraining corpus, `heartbert prepare` (interruption, push), download path."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading

import datasets
import numpy as np
import pytest
from conftest import run_python
from conftest_data import edb_dir  # noqa: F401  (fixture)

from heartbert_hf.data import EcgTokenizeFunction, build_pretraining_corpus, load_physionet, tokenize_dataset, train_tokenizer


@pytest.fixture(scope="module")
def windows_101(tmp_path_factory, sample_dir):
    cache = tmp_path_factory.mktemp("cache")
    return load_physionet("mitdb", "windows", data_dir=sample_dir, cache_dir=cache, records=["101"], window_seconds=30)["train"].select(range(4))


def test_tokenize_map_roundtrip_cache_and_num_proc(windows_101, tiny_tokenizer):
    out = tokenize_dataset(windows_101, tiny_tokenizer, max_length=64)
    assert {"input_ids", "attention_mask", "lead_index", "window_index", "record_id", "start"} <= set(out.column_names)
    assert "signal" not in out.column_names and max(len(ids) for ids in out["input_ids"]) <= 64
    # example 0, lead 0, window 0: its sequences, joined, decode to the tokenizer's own level text
    texts, _ = tiny_tokenizer.ecg_to_text(np.asarray(windows_101[0]["signal"]), 360)
    rows = [i for i in range(len(out)) if out[i]["start"] == 0 and out[i]["lead_index"] == 0 and out[i]["window_index"] == 0]
    joined = "".join(tiny_tokenizer.decode(out[i]["input_ids"], skip_special_tokens=True) for i in rows)
    assert len(rows) > 1 and joined == texts[0]
    again = tokenize_dataset(windows_101, tiny_tokenizer, max_length=64)
    assert again.cache_files == out.cache_files  # fingerprint cache hit
    parallel = tokenize_dataset(windows_101, tiny_tokenizer, max_length=64, num_proc=2, load_from_cache_file=False)
    assert parallel["input_ids"] == out["input_ids"]


def test_tokenize_function_rejects_bad_input(tiny_tokenizer):
    with pytest.raises(ValueError, match="max_length"):
        EcgTokenizeFunction(tiny_tokenizer, max_length=2)
    with pytest.raises(ValueError, match="'signal' and 'sampling_rate'"):
        EcgTokenizeFunction(tiny_tokenizer)({"text": ["AB"]})
    with pytest.raises(TypeError, match="one split"):
        train_tokenizer(datasets.DatasetDict())


@pytest.mark.parametrize(
    "spoil, error, match",
    [
        (lambda ex: {**ex, "signal": np.asarray(ex["signal"])[:, :200]}, ValueError, r"signal too short: 200 samples"),
        (lambda ex: {**ex, "signal": np.asarray(ex["signal"]).T}, ValueError, r"more leads than samples.*pass p_signal\.T"),
        (lambda ex: {**ex, "sampling_rate": None}, ValueError, r"sampling_rate is required"),
        (lambda ex: {**ex, "sampling_rate": 0.0}, ValueError, r"sampling_rate must be positive and finite, got 0\.0"),
    ],
)
def test_tokenize_dataset_errors_name_the_example(windows_101, tiny_tokenizer, spoil, error, match):
    """Before: only the NaN error named the record; the others said 'ecg[1] (item 1 of the batch of 2)' or were a raw
    'float() argument must be ... NoneType'. Row 3 is the second example of the second batch (batch_size 2)."""
    rows = [dict(windows_101[i]) for i in range(4)]
    rows[3] = spoil(rows[3])
    rows = [{**r, "signal": np.asarray(r["signal"], dtype=np.float32).tolist()} for r in rows]
    ds = datasets.Dataset.from_list(rows)
    start = rows[3]["start"]
    with pytest.raises(error, match=rf"^example at row 3 with record_id '101', start {start}: .*{match}"):
        tokenize_dataset(ds, tiny_tokenizer, max_length=64, batch_size=2, load_from_cache_file=False)
    fn = EcgTokenizeFunction(tiny_tokenizer, max_length=64)  # called directly, without indices: the item of the batch
    with pytest.raises(error, match=rf"^example at item 1 of the batch with record_id '101', start {start}: .*{match}"):
        fn({k: [rows[2][k], rows[3][k]] for k in rows[0]})


def test_corpus_combines_sources_and_tokenizer_fits_on_train(tmp_path, sample_dir, edb_dir):
    corpus = build_pretraining_corpus({"mitdb": {"data_dir": sample_dir, "records": ["101", "208"]}, "edb": {"data_dir": edb_dir}}, cache_dir=tmp_path)
    train = corpus["train"]
    assert set(train["source"]) == {"mitdb", "edb"} and set(train.column_names) == {
        "signal",
        "sampling_rate",
        "lead_names",
        "record_id",
        "patient_id",
        "start",
        "source",
    }
    sources = train["source"]
    assert sources != sorted(sources) and sources != sorted(sources, reverse=True)  # shuffled
    held_out = {r for split, ds in corpus.items() if split != "train" for r in ds["record_id"]}
    assert not held_out & set(train["record_id"])
    tok = train_tokenizer(train, vocab_size=150, max_examples=8, show_progress=False)
    assert len(tok) == 150 and tok.quantizer is not None


def _prepare_args(out, cache, sample_dir, tokenizer_dir):
    return [
        "--dataset",
        "mitdb",
        "--config",
        "windows",
        "--data_dir",
        str(sample_dir),
        "--records",
        "101",
        "118",
        "--output_dir",
        str(out),
        "--cache_dir",
        str(cache),
        "--tokenizer",
        str(tokenizer_dir),
        "--max_length",
        "64",
    ]


def test_prepare_interrupted_then_completes(tmp_path, sample_dir, tiny_tokenizer, monkeypatch, capsys):
    from heartbert_hf import prepare
    from heartbert_hf.data import processing

    tokenizer_dir = tmp_path / "tok"
    tiny_tokenizer.save_pretrained(tokenizer_dir)
    out, cache = tmp_path / "out", tmp_path / "cache"
    original = processing.EcgTokenizeFunction.__call__
    calls = {"n": 0}

    def interrupted(self, batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the map
        return original(self, batch)

    monkeypatch.setattr(processing.EcgTokenizeFunction, "__call__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare.main(_prepare_args(out, cache, sample_dir, tokenizer_dir))
    assert not out.exists() and not list(tmp_path.glob("out.incomplete*"))
    monkeypatch.setattr(processing.EcgTokenizeFunction, "__call__", original)
    assert prepare.main(_prepare_args(out, cache, sample_dir, tokenizer_dir)) == 0
    done = datasets.load_from_disk(str(out))
    reference = tokenize_dataset(load_physionet("mitdb", data_dir=sample_dir, cache_dir=tmp_path / "ref", records=["101", "118"]), tiny_tokenizer, 64)
    assert done["train"]["input_ids"] == reference["train"]["input_ids"]
    assert (out / "README.md").is_file() and (out / "tokenizer" / "tokenizer.json").is_file()
    from transformers import AutoProcessor

    saved = AutoProcessor.from_pretrained(out / "tokenizer")  # the processor it tokenized with
    assert saved.feature_extractor.fingerprint == tiny_tokenizer.quantizer_fingerprint
    assert prepare.main(_prepare_args(out, cache, sample_dir, tokenizer_dir)) == 2  # an existing output_dir: one-line error, not a traceback
    assert f"--output_dir {out} exists; pass --overwrite_output_dir" in capsys.readouterr().err


def test_push_writes_loadable_parquet_at_the_hub_boundary(tmp_path, monkeypatch):
    """Loopback stand-in for the Hub: a fake HfApi records the upload; the uploaded folder must load with no code."""
    from huggingface_hub import constants

    from heartbert_hf.prepare import push_prepared

    dsd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"input_ids": [[0, 5, 2]] * 3, "record_id": ["101"] * 3}),
            "test": datasets.Dataset.from_dict({"input_ids": [[0, 6, 2]], "record_id": ["100"]}),
        }
    )

    class FakeApi:
        calls: list = []

        def create_repo(self, repo_id, **kw):
            self.calls.append(("create_repo", repo_id, kw["repo_type"], kw["private"]))

        def upload_folder(self, folder_path, repo_id, **kw):
            self.calls.append(("upload_folder", repo_id, kw["repo_type"], kw["commit_message"], list(kw.get("ignore_patterns") or [])))

    api = FakeApi()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    folder = push_prepared(dsd, "---\nlicense: other\n---\n# card\n", "org/name", private=True, api=api, staging_dir=str(tmp_path / "push"))
    # through hub.push_folder: one dataset repo, private as asked, every staged file uploaded
    assert api.calls == [("create_repo", "org/name", "dataset", True), ("upload_folder", "org/name", "dataset", "heartbert prepare", [])]
    loaded = datasets.load_dataset(folder, cache_dir=str(tmp_path / "c"))
    assert {k: len(v) for k, v in loaded.items()} == {"train": 3, "test": 1} and loaded["test"][0]["record_id"] == "100"
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE"):
        push_prepared(dsd, "# card", "org/name", api=api)


def test_download_over_http_then_offline_from_cache(tmp_path, sample_dir):
    served = tmp_path / "www" / "mitdb" / "1.0.0"
    served.mkdir(parents=True)
    for rec in ("101", "118"):
        for ext in ("hea", "dat", "atr"):
            shutil.copy(sample_dir / f"{rec}.{ext}", served)
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path / "www")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    cache = tmp_path / "cache"
    try:
        dsd = load_physionet("mitdb", "beats", cache_dir=cache, base_url=url, records=["101", "118"], beat_seconds=0.2)
    finally:
        server.shutdown()
    assert any(p.endswith("/mitdb/1.0.0/118.dat") for p in requests)
    local = load_physionet("mitdb", "beats", data_dir=sample_dir, cache_dir=tmp_path / "local", records=["101", "118"], beat_seconds=0.2)
    assert dsd["train"]["symbol"] == local["train"]["symbol"] and dsd["train"][7]["signal"] == local["train"][7]["signal"]
    code = (
        f"from heartbert_hf.data import load_physionet\n"
        f"d = load_physionet('mitdb', 'beats', cache_dir={str(cache)!r}, base_url={url!r}, records=['101', '118'], beat_seconds=0.2)\n"
        "print('rows', len(d['train']))"
    )
    proc = run_python(code, cwd=tmp_path, env_extra={"HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"rows {len(dsd['train'])}" in proc.stdout


def test_unreachable_server_says_to_pass_data_dir(tmp_path):
    """Offline (here: a loopback port nobody listens on), a download names the URL and says what to do."""
    import socket

    with socket.socket() as sock:  # a free port, closed again: connections to it are refused at once
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FileNotFoundError, match=r"could not download .*127\.0\.0\.1.*pass --data_dir"):
        load_physionet("mitdb", "beats", cache_dir=tmp_path / "cache", base_url=f"http://127.0.0.1:{port}", records=["101"], beat_seconds=0.2)


def test_a_renamed_error_keeps_its_cause_when_its_class_takes_other_arguments():
    from heartbert_hf.data.processing import _renamed

    cause = UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")  # a ValueError whose constructor takes 5 arguments
    out = _renamed(cause, "example at row 3 with record_id '101': bad bytes")
    assert type(out) is ValueError and out.__cause__ is cause and "row 3" in str(out)
    plain = _renamed(TypeError("x"), "example at row 0: x")
    assert type(plain) is TypeError and str(plain) == "example at row 0: x" and isinstance(plain.__cause__, TypeError)
