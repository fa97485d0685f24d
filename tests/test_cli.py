"""The `heartbert` console script, the quick start and the plots."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import run_python

from heartbert_hf.cli import main as cli_main
from heartbert_hf.plotting import plot_confusion_matrix, plot_curves, plot_tokens


def test_cli_lists_commands_and_rejects_unknown_ones(capsys):
    assert cli_main([]) == 0
    out = capsys.readouterr().out
    for name in ("quickstart", "prepare", "pretrain", "finetune", "evaluate", "embed", "plot"):
        assert name in out
    assert cli_main(["nonsense"]) == 2
    assert "unknown command 'nonsense'" in capsys.readouterr().err


def test_quickstart_runs_end_to_end(tmp_path):
    exe = shutil.which("heartbert")
    if exe is None:
        pytest.skip("the heartbert console script is not installed (pip install -e .)")
    out = tmp_path / "qs"
    proc = subprocess.run(
        [exe, "quickstart", "--output_dir", str(out), "--steps", "8"], cwd=tmp_path, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "match the trained model" in proc.stdout and "validation MLM loss" in proc.stdout
    for name in ("config.json", "model.safetensors", "tokenizer.json", "quantizer.json", "processor_config.json", "tokens.png", "modeling_heartbert.py"):
        assert (out / name).is_file(), name


def test_plots_write_pngs(tiny_tokenizer, sample_signals, tmp_path):
    png = plot_tokens(tiny_tokenizer, sample_signals[2], 360, tmp_path / "t.png", window=1, lead=1)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no window 99"):
        plot_tokens(tiny_tokenizer, sample_signals[2], 360, tmp_path / "x.png", window=99)
    curves = plot_curves([{"step": 1, "loss": 6.0}, {"step": 2, "eval_loss": 5.5, "eval_masked_accuracy": 0.1}], tmp_path / "c.png")
    assert curves.stat().st_size > 1000
    with pytest.raises(ValueError, match="no loss"):
        plot_curves([{"step": 1}], tmp_path / "none.png")
    cm = plot_confusion_matrix(np.array([[5, 1], [0, 3]]), ["N", "V"], tmp_path / "cm.png")
    assert cm.stat().st_size > 1000
    with pytest.raises(ValueError, match="does not match"):
        plot_confusion_matrix(np.eye(3, dtype=int), ["N", "V"], tmp_path / "bad.png")


def test_hf_caches_point_at_a_session_tmp_dir_in_subprocesses_too(tmp_path):
    proc = run_python("import transformers.utils as t, datasets.config as d; print(t.HF_MODULES_CACHE); print(d.HF_DATASETS_CACHE)", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    paths = [Path(line) for line in proc.stdout.split()]
    assert len(paths) == 2
    for path in paths:
        assert path.is_relative_to(Path(tempfile.gettempdir())) and not path.is_relative_to(Path.home() / ".cache"), path


def test_torch_threads_default_and_explicit(monkeypatch):
    import torch

    from heartbert_hf import runtime

    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        monkeypatch.setattr(runtime, "usable_cpus", lambda: 8)
        monkeypatch.setattr(os, "getloadavg", lambda: (3.2, 0.0, 0.0))
        assert runtime.default_torch_threads(16) == 5  # 8 cores, 3 busy
        assert runtime.default_torch_threads(4) == 4  # never above torch's default
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
        assert runtime.default_torch_threads(16) == 2  # two launched processes share the 5 free cores
        monkeypatch.setattr(os, "getloadavg", lambda: (11.0, 0.0, 0.0))
        assert runtime.default_torch_threads(16) == 1  # a busy machine: at least one
        assert runtime.set_torch_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert runtime.set_torch_threads(0) == torch.get_num_threads()  # the user's OMP_NUM_THREADS wins
        with pytest.raises(ValueError, match="--torch_threads"):
            runtime.set_torch_threads(-1)
    finally:
        torch.set_num_threads(before)


def test_check_model_path_tells_a_missing_folder_from_a_hub_id(tmp_path):
    from heartbert_hf.runtime import check_model_path

    (tmp_path / "models").mkdir()
    with pytest.raises(FileNotFoundError, match=r"does not exist \(.*models exists: is the last part misspelt\?\)"):
        check_model_path(str(tmp_path / "models" / "tiny"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_model_path("./heartbert-runs/nothing")
    (tmp_path / "file.bin").write_text("x")
    with pytest.raises(FileNotFoundError, match="is a file"):
        check_model_path(str(tmp_path / "file.bin"))
    check_model_path(str(tmp_path))  # an existing folder
