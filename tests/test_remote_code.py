"""Save → load round trips in fresh interpreters: with the package, and as remote code without it."""

import json

import numpy as np
import pytest
import torch
from conftest import REPO, run_python

from heartbert_hf import HeartBertForMaskedLM

LOAD_AND_RUN = """
import json, sys, numpy as np, torch
{prelude}
from transformers import AutoModel, AutoTokenizer
folder = sys.argv[1] if len(sys.argv) > 1 else {folder!r}
report = {{}}
{refusals}
tok = AutoTokenizer.from_pretrained(folder{trust})
model = AutoModel.from_pretrained(folder{trust}).eval()
x = np.load(folder + "/probe.npy")
enc = tok(ecg=x, sampling_rate=360, truncation=True, max_length=64, padding=True, return_tensors="pt")
with torch.no_grad():
    out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
report["tokenizer_class"] = type(tok).__module__ + "." + type(tok).__name__
report["model_class"] = type(model).__module__ + "." + type(model).__name__
report["ids"] = enc["input_ids"].tolist()
report["pooled"] = out.pooler_output.tolist()
print("\\nREPORT" + json.dumps(report))
"""

REFUSALS = """
for loader in (AutoTokenizer, AutoModel):
    try:
        loader.from_pretrained(folder)
        report[loader.__name__] = "loaded without trust_remote_code"
    except Exception as err:
        report[loader.__name__] = type(err).__name__ + ": " + str(err)
"""


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny_tokenizer, tiny_config, sample_signals):
    folder = tmp_path_factory.mktemp("heartbert_saved")
    torch.manual_seed(0)
    model = HeartBertForMaskedLM(tiny_config)
    model.save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    probe = sample_signals[2][:, :6000]
    np.save(folder / "probe.npy", probe)
    enc = tiny_tokenizer(ecg=probe, sampling_rate=360, truncation=True, max_length=64, padding=True, return_tensors="pt")
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(folder).eval()
    with torch.no_grad():
        pooled = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).pooler_output
    return folder, enc["input_ids"].tolist(), pooled.numpy()


def _report(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    # transformers' trust prompt is printed without a newline, so the marker may not start the line
    line = next(row for row in proc.stdout.splitlines() if "REPORT{" in row)
    return json.loads(line.split("REPORT", 1)[1])


def test_fresh_process_with_the_package(saved):
    folder, ids, pooled = saved
    code = LOAD_AND_RUN.format(prelude="import heartbert_hf", folder=str(folder), refusals="", trust="")
    report = _report(run_python(code, cwd=REPO))
    assert report["tokenizer_class"] == "heartbert_hf.tokenization_heartbert.HeartBertTokenizer"
    assert report["model_class"] == "heartbert_hf.modeling_heartbert.HeartBertModel"
    assert report["ids"] == ids
    np.testing.assert_allclose(np.array(report["pooled"]), pooled, rtol=1e-5, atol=1e-6)


def test_fresh_process_without_the_package_uses_remote_code_only_when_trusted(saved, tmp_path):
    folder, ids, pooled = saved
    # `sys.modules[name] = None` makes `import heartbert_hf` fail, as on a machine without the package
    code = LOAD_AND_RUN.format(prelude="sys.modules['heartbert_hf'] = None", folder=str(folder), refusals=REFUSALS, trust=", trust_remote_code=True")
    # remote-code modules are copied to HF_MODULES_CACHE: keep them in the test's tmp dir
    report = _report(run_python(code, cwd=tmp_path, env_extra={"HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}))
    # (c) without trust_remote_code both loaders refuse, and the tokenizer does not fall back to a generic class
    for loader in ("AutoTokenizer", "AutoModel"):
        assert report[loader].startswith("ValueError") and "trust_remote_code" in report[loader], report[loader]
    # (b) with it, the copied files load and reproduce the outputs
    assert report["tokenizer_class"].startswith("transformers_modules.") and report["tokenizer_class"].endswith("HeartBertTokenizer")
    assert report["model_class"].endswith("modeling_heartbert.HeartBertModel")
    assert report["ids"] == ids
    np.testing.assert_allclose(np.array(report["pooled"]), pooled, rtol=1e-5, atol=1e-6)
    assert (tmp_path / "modules").is_dir()


def test_remote_files_import_nothing_heavy_at_module_level(saved):
    folder, _, _ = saved
    names = (
        "ecg_signal.py",
        "quantization.py",
        "tokenization_heartbert.py",
        "configuration_heartbert.py",
        "modeling_heartbert.py",
        "modeling_checks.py",
        "beat_pooling.py",
    )
    for name in names:
        top_level = [row for row in (folder / name).read_text().splitlines() if row.startswith(("import ", "from "))]
        assert top_level, name
        for line in top_level:
            assert "wfdb" not in line and "scipy" not in line and "heartbert_hf" not in line, f"{name}: {line}"
