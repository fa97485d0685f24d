"""The `heartbert` console script, the quick start and the plots."""

import shutil
import subprocess

import numpy as np
import pytest

from conftest import REPO
from heartbert_hf.cli import main as cli_main
from heartbert_hf.plots import plot_confusion_matrix, plot_curves, plot_tokens


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
    proc = subprocess.run([exe, "quickstart", "--output_dir", str(out), "--steps", "8"], cwd=tmp_path, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "match the trained model" in proc.stdout and "validation MLM loss" in proc.stdout
    for name in ("config.json", "model.safetensors", "tokenizer.json", "quantizer.json", "tokens.png", "modeling_heartbert.py"):
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
