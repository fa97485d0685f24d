"""Shared fixtures: the shipped sample, ../shared/physionet when present, a tiny tokenizer and config.

The Hugging Face caches (``HF_HOME``: hub files and the remote-code module copies under
``modules/``; the ``datasets`` cache) point at one temporary folder for the whole session, set here
before anything imports transformers or datasets, so the suite leaves nothing in
``~/.cache/huggingface``. Subprocesses inherit the environment. The folder is removed at exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_HF_TMP = Path(tempfile.mkdtemp(prefix="heartbert-tests-hf-"))
os.environ["HF_HOME"] = str(_HF_TMP)
os.environ["HF_MODULES_CACHE"] = str(_HF_TMP / "modules")
os.environ["HF_DATASETS_CACHE"] = str(_HF_TMP / "datasets")
atexit.register(shutil.rmtree, _HF_TMP, ignore_errors=True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "heartbert_hf" / "sample_data"
SAMPLE_RECORDS = ("101", "208", "118")


def shared_physionet_dir() -> Path | None:
    """``../shared/physionet`` beside the checkout (or $HEARTBERT_SHARED_PHYSIONET), if present."""
    env = os.environ.get("HEARTBERT_SHARED_PHYSIONET")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "physionet", REPO.parents[1] / "shared" / "physionet"]
    for path in candidates:
        if (path / "mitdb").is_dir():
            return path
    return None


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def shared_physionet() -> Path:
    path = shared_physionet_dir()
    if path is None:
        pytest.skip("../shared/physionet is not present (only developers' machines have it)")
    return path


@pytest.fixture(scope="session")
def sample_signals() -> list[np.ndarray]:
    """The three shipped MIT-BIH excerpts as (leads, samples) arrays in mV, 360 Hz."""
    import wfdb

    return [wfdb.rdrecord(str(SAMPLE_DIR / r)).p_signal.T for r in SAMPLE_RECORDS]


@pytest.fixture(scope="session")
def tiny_tokenizer(sample_signals):
    """A HeartBert tokenizer fitted on records 101 and 208 of the sample (vocab 400)."""
    from heartbert_hf import HeartBertTokenizer

    return HeartBertTokenizer.train_from_ecg(sample_signals[:2], 360, vocab_size=400, show_progress=False)


@pytest.fixture(scope="session")
def tiny_config(tiny_tokenizer):
    from heartbert_hf import HeartBertConfig

    return HeartBertConfig(
        vocab_size=len(tiny_tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
    )


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer, tiny_config) -> Path:
    """A tiny 'pretrained' HeartBert (random MLM weights) saved with its tokenizer (fitted on 101 + 208)."""
    import torch

    from heartbert_hf import HeartBertForMaskedLM

    folder = tmp_path_factory.mktemp("tiny-pretrained")
    torch.manual_seed(0)
    HeartBertForMaskedLM(tiny_config).save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


def run_python(code: str, cwd: Path, env_extra: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter; returns the completed process (check returncode yourself)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
