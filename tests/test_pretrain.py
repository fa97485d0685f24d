"""`heartbert pretrain`: packing, masking, arguments, the quickstart preset under `accelerate launch`,
1 vs 2 processes, resume after a kill, the model card, reload, and the push (loopback Hub stand-in)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import REPO, run_python

TINY = [  # a tiny, deterministic run (dropout off) on the shipped sample, CPU
    "--preset",
    "quickstart",
    "--logging_steps",
    "1",
    "--eval_strategy",
    "no",
    "--save_strategy",
    "no",
    "--hidden_dropout_prob",
    "0",
    "--attention_probs_dropout_prob",
    "0",
    "--use_cpu",
    "True",
    "--report_to",
    "none",
    "--dataloader_num_workers",
    "0",
    "--max_eval_blocks",
    "32",
    "--max_steps",
    "10",
    "--warmup_steps",
    "0",
    "--learning_rate",
    "2e-3",
    "--hidden_size",
    "32",
    "--intermediate_size",
    "64",
]


def _env():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
    return env


def _run(cmd, timeout=300):
    proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _losses(output_dir) -> dict[int, float]:
    state = json.loads((Path(output_dir) / "trainer_state.json").read_text())
    return {h["step"]: h["loss"] for h in state["log_history"] if "loss" in h}


@pytest.fixture(scope="module")
def data(tmp_path_factory, tiny_tokenizer):
    """A fitted tiny tokenizer (records 101, 208 only) and a shared datasets cache."""
    root = tmp_path_factory.mktemp("pretrain")
    tok_dir = root / "tokenizer"
    tiny_tokenizer.save_pretrained(str(tok_dir))
    return {"root": root, "args": TINY + ["--tokenizer_name_or_path", str(tok_dir), "--cache_dir", str(root / "cache")]}


@pytest.fixture(scope="module")
def reference_run(data):
    """One uninterrupted 1-process run: 10 steps of batch 8."""
    out = data["root"] / "ref"
    _run([sys.executable, "-m", "heartbert_hf.pretrain", *data["args"], "--output_dir", str(out), "--per_device_train_batch_size", "8"])
    return out


# ------------------------------------------------------------------------------------------ units
def test_packing_keeps_every_token_in_order():
    from heartbert_hf.packing import PackFunction

    rows = {  # <s>=0, </s>=2, pad=1; record a window cut in two pieces, then another window
        "input_ids": [[0, 10, 11, 12, 2], [0, 13, 14, 2], [0, 20, 21, 22, 23, 24, 2]],
        "record_id": ["a", "a", "a"],
        "lead_index": [0, 0, 0],
        "window_index": [0, 0, 1],
    }
    out = PackFunction(block_size=6, bos_id=0, eos_id=2, pad_id=1)(rows)
    assert all(len(b) == 6 for b in out["input_ids"])
    real = [[t for t, k in zip(b, m) if k] for b, m in zip(out["input_ids"], out["attention_mask"])]
    assert all(r[0] == 0 and r[-1] == 2 for r in real)
    body = [t for r in real for t in r[1:-1]]
    # the two pieces of window 0 are joined directly; window 1 follows a </s> separator
    assert body == [10, 11, 12, 13, 14, 2, 20, 21, 22, 23, 24]
    assert sum(out["n_content_tokens"]) == 10
    assert sum(out["n_pad"]) <= 5  # only the last block is padded


def test_masks_do_not_depend_on_batch_composition(tiny_tokenizer):
    import torch

    from heartbert_hf.packing import PackedMLMCollator

    rng = torch.Generator().manual_seed(0)
    blocks = [{"input_ids": [0] + torch.randint(10, 400, (62,), generator=rng).tolist() + [2], "attention_mask": [1] * 64, "uid": u} for u in range(8)]
    col = PackedMLMCollator(tokenizer=tiny_tokenizer, mlm_probability=0.15, mask_seed=3)
    full = col([dict(b) for b in blocks])
    halves = [col([dict(b) for b in blocks[:4]]), col([dict(b) for b in blocks[4:]])]
    assert torch.equal(full["labels"], torch.cat([h["labels"] for h in halves]))
    assert torch.equal(full["input_ids"], torch.cat([h["input_ids"] for h in halves]))
    share = (full["labels"] != -100).float().mean().item()
    assert 0.08 < share < 0.25
    assert (full["labels"][:, 0] == -100).all() and (full["labels"][:, -1] == -100).all()  # specials never masked
    col.epoch = 1  # dynamic masking: a new epoch gives new masks
    assert not torch.equal(col([dict(b) for b in blocks])["labels"], full["labels"])


def test_arguments_preset_then_file_then_command_line(tmp_path):
    from heartbert_hf.pretrain import parse_args

    cfg = tmp_path / "run.yaml"
    cfg.write_text("preset: quickstart\nmax_steps: 7\nlearning_rate: 0.01\noutput_dir: %s\n" % (tmp_path / "o"))
    m, d, t = parse_args([str(cfg), "--learning_rate", "0.02"])
    assert (m.hidden_size, d.max_seq_length, d.validation_records) == (64, 128, "118")  # preset
    assert t.max_steps == 7  # file over preset
    assert t.learning_rate == 0.02  # command line over file
    js = tmp_path / "run.json"
    js.write_text(json.dumps({"preset": "paper", "output_dir": str(tmp_path / "p")}))
    m, d, t = parse_args([str(js)])
    assert (m.hidden_size, m.num_hidden_layers, m.vocab_size, d.max_seq_length, d.mlm_probability) == (768, 6, 52000, 512, 0.15)
    with pytest.raises(SystemExit, match="unknown preset"):
        parse_args(["--preset", "nope"])


# ------------------------------------------------------------------------------------------ runs
def test_quickstart_preset_under_accelerate_launch(tmp_path):
    """The CI run: the real quickstart preset (tokenizer fitted on the training records), shortened."""
    out = tmp_path / "qs"
    proc = _run(
        [
            "accelerate",
            "launch",
            "--num_processes",
            "1",
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
            "--cpu",
            "-m",
            "heartbert_hf.pretrain",
            "--preset",
            "quickstart",
            "--output_dir",
            str(out),
            "--max_steps",
            "40",
            "--warmup_steps",
            "5",
            "--eval_steps",
            "20",
            "--save_steps",
            "20",
            "--max_eval_blocks",
            "64",
            "--cache_dir",
            str(tmp_path / "cache"),
            "--dataloader_num_workers",
            "0",
        ]
    )
    assert "samples reaching the model 100.00%" in proc.stdout
    metrics = json.loads((out / "eval_results.json").read_text())
    assert metrics["eval_loss"] < 6.8  # ln(1000) = 6.91 at chance: it learned something
    assert 0 < metrics["eval_masked_accuracy"] <= 1 and metrics["eval_perplexity"] > 1
    for name in (
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "quantizer.json",
        "modeling_heartbert.py",
        "configuration_heartbert.py",
        "tokenization_heartbert.py",
        "processor_config.json",
        "processing_heartbert.py",
        "feature_extraction_heartbert.py",
        "tokenizer/processor_config.json",  # the tokenizer fitted on the training records, saved with its processor
        "curves.png",
        "checkpoint-40/trainer_state.json",
    ):
        assert (out / name).is_file(), name
    assert list((out / "runs").rglob("events.out.tfevents*")), "no TensorBoard log"
    card = (out / "README.md").read_text()
    assert "| train | 2 / 2 |" in card and "Validation records: 118." in card
    assert "40 optimizer steps" in card and "Not a medical device" in card and "ODC-By 1.0" in card
    assert f"| loss | {metrics['eval_loss']:.4f} |" in card
    assert "$" not in card.split("```")[0]  # no unfilled placeholder
    assert card.startswith("---\n") and "license: apache-2.0" in card and "pipeline_tag: fill-mask" in card and "- physionet/mitdb" in card
    assert "![Training and validation loss by step](curves.png)" in card

    # the saved folder reloads in a fresh process, through the remote code (no heartbert_hf import)
    code = f"""
import numpy as np, torch, wfdb
from transformers import AutoModelForMaskedLM, AutoProcessor, AutoTokenizer
tok = AutoTokenizer.from_pretrained({str(out)!r}, trust_remote_code=True)
processor = AutoProcessor.from_pretrained({str(out)!r}, trust_remote_code=True)
model = AutoModelForMaskedLM.from_pretrained({str(out)!r}, trust_remote_code=True).eval()
assert type(tok).__name__ == "HeartBertTokenizer" and type(model).__name__ == "HeartBertForMaskedLM", (type(tok), type(model))
assert type(processor).__name__ == "HeartBertProcessor", type(processor)
sig = wfdb.rdrecord({str(REPO / "heartbert_hf/sample_data/118")!r}, sampto=4000).p_signal.T
enc = tok(ecg=sig, sampling_rate=360, truncation=True, max_length=128, padding=True, return_tensors="pt")
assert torch.equal(processor(ecg=sig, sampling_rate=360, truncation=True, max_length=128, padding=True, return_tensors="pt")["input_ids"], enc["input_ids"])
with torch.no_grad():
    out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
assert out.logits.shape[-1] == len(tok) == 1000
print("RELOADED", tuple(out.logits.shape))
"""
    res = run_python(code, REPO, env_extra={"HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0 and "RELOADED" in res.stdout, res.stderr[-2000:]

    # the card's "Use" snippet runs as written on the saved folder (its repo id is the output folder)
    snippet = card.split("```python\n", 1)[1].split("```", 1)[0]
    assert "AutoProcessor.from_pretrained" in snippet and "processor(ecg=signal" in snippet
    code = (
        f"import wfdb\nsignal = wfdb.rdrecord({str(REPO / 'heartbert_hf/sample_data/118')!r}, sampto=8000).p_signal.T\nfs = 360\n"
        + snippet
        + "import json\nprint('SNIPPET' + json.dumps({'shape': list(emb.shape), 'leads': enc['lead_index'].tolist()}))\n"
    )
    res = run_python(code, REPO, env_extra={"HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0 and "SNIPPET" in res.stdout, res.stderr[-2000:]
    used = json.loads(res.stdout.split("SNIPPET")[-1])
    hidden = json.loads((out / "config.json").read_text())["hidden_size"]
    assert used["shape"] == [len(used["leads"]), hidden] and set(used["leads"]) == {0, 1}  # one vector per sequence, both leads


def test_two_processes_match_one_process(data, reference_run):
    """torchrun with 2 CPU processes (gloo), batch 4 each, against 1 process with batch 8: same data
    order, same masks (PackedMLMCollator), dropout off. The MLM loss is the masked-token sum over
    Trainer's ``num_items_in_batch`` (the step's masked tokens in all processes), so every masked token
    weighs the same in both layouts: losses and weights agree up to float reduction order (measured:
    max 9.5e-07 on losses near 6, 2-core CPU). Averaging per-process means instead weighs the halves
    1:1 whatever their masked-token counts: measured max 3.2e-03 here, which this tolerance sees."""
    from safetensors.torch import load_file

    out = data["root"] / "two"
    _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            "29561",
            "-m",
            "heartbert_hf.pretrain",
            *data["args"],
            "--output_dir",
            str(out),
            "--per_device_train_batch_size",
            "4",
        ]
    )
    one, two = _losses(reference_run), _losses(out)
    assert sorted(one) == sorted(two) == list(range(1, 11))
    diffs = [abs(one[s] - two[s]) for s in one]
    print("1-process", one, "\n2-process", two, "\nmax |diff|", max(diffs))
    assert max(diffs) < 1e-5
    w1, w2 = load_file(reference_run / "model.safetensors"), load_file(out / "model.safetensors")
    assert w1.keys() == w2.keys()
    for key in w1:
        assert (w1[key] - w2[key]).abs().max().item() < 1e-5, key
    assert "1 processes" in (reference_run / "README.md").read_text()
    assert "× 2 processes" in (out / "README.md").read_text()  # really two processes


KILL = """
import os, sys
from transformers import TrainerCallback
from heartbert_hf.pretrain import main
class Kill(TrainerCallback):
    def on_step_end(self, args, state, control, **kw):
        if state.global_step == 7:
            os._exit(17)  # a hard kill: no cleanup, no final save
main(sys.argv[1:], callbacks=[Kill()])
"""


def test_resume_after_kill_loses_no_progress(data, reference_run):
    out = data["root"] / "killed"
    args = [*data["args"], "--output_dir", str(out), "--per_device_train_batch_size", "8", "--save_strategy", "steps", "--save_steps", "4"]
    proc = subprocess.run([sys.executable, "-c", KILL, *args], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 17, proc.stderr[-2000:]
    assert (out / "checkpoint-4").is_dir() and not (out / "checkpoint-8").exists() and not (out / "model.safetensors").exists()
    _run([sys.executable, "-m", "heartbert_hf.pretrain", *args, "--resume_from_checkpoint", "last"])
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 10
    resumed, ref = _losses(out), _losses(reference_run)
    assert sorted(resumed) == list(range(1, 11))  # steps 1-4 from the checkpoint, 5-10 after the resume
    diffs = {s: abs(resumed[s] - ref[s]) for s in ref}
    print("resumed", resumed, "\nreference", ref)
    assert max(diffs.values()) < 1e-3, diffs  # the resumed run continues the uninterrupted trajectory


# ------------------------------------------------------------------------------------------ hub
class _HubStandIn(BaseHTTPRequestHandler):
    """A loopback stand-in for the three Hub API calls an upload makes (create repo, preupload, commit)."""

    calls: list = []

    def _send(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.calls.append(("GET", self.path, b""))
        self._send({})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.calls.append(("POST", self.path, body))
        port = self.server.server_port
        if self.path.startswith("/api/repos/create"):
            b = json.loads(body)
            return self._send({"url": f"http://127.0.0.1:{port}/{b['organization']}/{b['name']}", "name": b["name"]})
        if "/preupload/" in self.path:
            files = json.loads(body)["files"]
            return self._send({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})
        if "/commit/" in self.path:
            return self._send({"commitUrl": f"http://127.0.0.1:{port}/me/hb/commit/{'a' * 40}", "commitOid": "a" * 40})
        self._send({})

    def log_message(self, *args):
        pass


def test_push_uploads_model_tokenizer_code_and_card_to_loopback_hub(tmp_path, tiny_config, tiny_tokenizer):
    """LOOPBACK STAND-IN, not the real Hub: checks which files the push sends and to where."""
    from heartbert_hf import HeartBertForMaskedLM
    from heartbert_hf.hub import push_folder

    folder = tmp_path / "run"
    HeartBertForMaskedLM(tiny_config).save_pretrained(str(folder))
    tiny_tokenizer.save_pretrained(str(folder))
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# card\n")
    (folder / "checkpoint-5").mkdir()
    (folder / "checkpoint-5" / "optimizer.pt").write_bytes(b"0")
    _HubStandIn.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HubStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = push_folder(folder, "me/hb", commit_message="a run", token="hf_test", endpoint=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
    assert url.endswith("a" * 40)
    paths = [p for _, p, _ in _HubStandIn.calls]
    assert paths[0] == "/api/repos/create" and any(p == "/api/models/me/hb/commit/main" for p in paths)
    commit = next(b for _, p, b in _HubStandIn.calls if p.endswith("/commit/main"))
    sent = {json.loads(line)["value"]["path"] for line in commit.decode().splitlines() if json.loads(line)["key"] == "file"}
    for name in (
        "README.md",
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "quantizer.json",
        "modeling_heartbert.py",
        "configuration_heartbert.py",
        "tokenization_heartbert.py",
        "quantization.py",
    ):
        assert name in sent, (name, sent)
    assert not any(s.startswith("checkpoint-") for s in sent)


def test_push_offline_fails_before_training_with_a_clear_error(tmp_path):
    env = _env() | {"HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "heartbert_hf.pretrain",
            "--preset",
            "quickstart",
            "--output_dir",
            str(tmp_path / "o"),
            "--push_to_hub",
            "True",
            "--hub_model_id",
            "me/hb",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "HF_HUB_OFFLINE=1" in proc.stderr and "nothing can be uploaded" in proc.stderr
    assert not (tmp_path / "o" / "tokenizer").exists()  # it stopped before any work
