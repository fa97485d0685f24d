"""HeartBertFeatureExtractor + HeartBertProcessor (issue 8 item 2): same results as tok(ecg=...), save/load,
Auto classes, mismatched quantizers refused, remote code without the package."""

import json

import numpy as np
import pytest
from conftest import run_python

from heartbert_hf import HeartBertConfig, HeartBertTokenizer
from heartbert_hf.feature_extraction_heartbert import HeartBertFeatureExtractor
from heartbert_hf.processing_heartbert import HeartBertProcessor


@pytest.fixture(scope="module")
def processor(tiny_tokenizer):
    return HeartBertProcessor.from_tokenizer(tiny_tokenizer)


@pytest.fixture(scope="module")
def other_tokenizer(sample_signals):
    """A tokenizer whose quantizer was fitted on another record (118), so its fingerprint differs."""
    return HeartBertTokenizer.train_from_ecg(sample_signals[2:], 360, vocab_size=200, quantizer_method="quantile", show_progress=False)


def as_list(value):
    return value.tolist() if hasattr(value, "tolist") else list(value)


def register_auto_classes():
    # heartbert_hf/__init__.py does this once the lead adds the two lines (see the report); harmless twice
    from transformers import AutoFeatureExtractor, AutoProcessor

    AutoFeatureExtractor.register(HeartBertConfig, HeartBertFeatureExtractor, exist_ok=True)
    AutoProcessor.register(HeartBertConfig, HeartBertProcessor, exist_ok=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"truncation": True, "max_length": 64},
        {"truncation": True, "max_length": 64, "padding": True, "return_tensors": "pt"},
        {"truncation": True, "max_length": 32, "return_overflowing_tokens": False},
        {"truncation": True, "max_length": 64, "return_special_tokens_mask": True},
    ],
)
def test_processor_gives_what_the_tokenizer_gives(processor, tiny_tokenizer, sample_signals, kwargs):
    batch = [sample_signals[0][:, :9000], sample_signals[2][0, :6000]]
    a = processor(ecg=batch, sampling_rate=[360, 500], **kwargs)
    b = tiny_tokenizer(ecg=batch, sampling_rate=[360, 500], **kwargs)
    assert set(a) == set(b) and {"overflow_to_sample_mapping", "lead_index", "window_index"} <= set(a)
    for key in a:
        assert as_list(a[key]) == as_list(b[key]), key
    texts, _ = tiny_tokenizer.ecg_to_text(batch[0], 360)
    assert processor(text=texts[0])["input_ids"] == tiny_tokenizer(texts[0])["input_ids"]


def test_feature_extractor_output(processor, sample_signals):
    x = sample_signals[1][:, :9000]
    features = processor.feature_extractor([x, x[1]], sampling_rate=360)
    assert features["sample_index"] == [0] * 6 + [1] * 3
    assert list(zip(features["lead_index"], features["window_index"]))[:6] == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]
    assert features["level_text"][7] == features["level_text"][3]  # lead 1, window 1 of both items
    assert all(set(t) <= {chr(65 + i) for i in range(100)} for t in features["level_text"])


def test_processor_errors(processor, sample_signals):
    x = sample_signals[0][:, :4000]
    with pytest.raises(ValueError, match=r"^ecg\[1\] .*too short"):
        processor(ecg=[x, x[:, :100]], sampling_rate=360)
    with pytest.raises(TypeError, match="exactly one"):
        processor(ecg=x, text="ABC", sampling_rate=360)
    with pytest.raises(TypeError, match="exactly one"):
        processor()
    with pytest.raises(ValueError, match="sampling_rate is required"):
        processor(ecg=x)
    with pytest.raises(ValueError, match="truncation=False"):
        processor(ecg=x, sampling_rate=360, max_length=64, truncation=False)
    with pytest.raises(ValueError, match="not fitted"):
        HeartBertFeatureExtractor()(x, sampling_rate=360)


def test_fit_matches_train_from_ecg(tiny_tokenizer, sample_signals):
    extractor = HeartBertFeatureExtractor.fit(sample_signals[:2], 360, show_progress=False)
    assert extractor.fingerprint == tiny_tokenizer.quantizer_fingerprint == tiny_tokenizer.feature_extractor.fingerprint
    assert HeartBertProcessor(extractor, tiny_tokenizer).feature_extractor is extractor


def test_mismatched_pair_is_refused(tiny_tokenizer, other_tokenizer, tmp_path):
    with pytest.raises(ValueError, match="fingerprint"):
        HeartBertProcessor(other_tokenizer.feature_extractor, tiny_tokenizer)
    # the same check guards a saved tokenizer whose quantizer.json was swapped
    tiny_tokenizer.save_pretrained(tmp_path)
    other_tokenizer.save_pretrained(tmp_path / "other")
    (tmp_path / "quantizer.json").write_text((tmp_path / "other" / "quantizer.json").read_text())
    with pytest.raises(ValueError, match="not the quantizer this tokenizer's BPE was trained on"):
        HeartBertTokenizer.from_pretrained(tmp_path)


def test_save_and_load_through_auto_classes(processor, tiny_tokenizer, sample_signals, tmp_path):
    from transformers import AutoFeatureExtractor, AutoProcessor

    register_auto_classes()
    processor.save_pretrained(tmp_path / "proc")
    saved = json.loads((tmp_path / "proc" / "processor_config.json").read_text())
    assert saved["feature_extractor"]["quantizer_fingerprint"] == tiny_tokenizer.quantizer_fingerprint
    again = AutoProcessor.from_pretrained(tmp_path / "proc")
    assert isinstance(again, HeartBertProcessor) and isinstance(again.feature_extractor, HeartBertFeatureExtractor)
    x = sample_signals[2][:, :7000]
    kw = {"sampling_rate": 360, "truncation": True, "max_length": 64}
    assert again(ecg=x, **kw)["input_ids"] == processor(ecg=x, **kw)["input_ids"]
    # the feature extractor alone: preprocessor_config.json
    processor.feature_extractor.save_pretrained(tmp_path / "fe")
    assert (tmp_path / "fe" / "preprocessor_config.json").is_file()
    for loader in (AutoFeatureExtractor, HeartBertFeatureExtractor):
        fe = loader.from_pretrained(tmp_path / "fe")
        assert fe.fingerprint == processor.feature_extractor.fingerprint
        assert fe.ecg_to_text(x, 360) == processor.feature_extractor.ecg_to_text(x, 360)


REMOTE = """
import json, sys, numpy as np
sys.modules['heartbert_hf'] = None  # the package is not installed
from transformers import AutoProcessor
folder = sys.argv[1]
proc = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
x = np.load(folder + "/probe.npy")
enc = proc(ecg=x, sampling_rate=500, truncation=True, max_length=64)
print("REPORT" + json.dumps({"class": type(proc).__module__ + "." + type(proc).__name__,
                             "fe": type(proc.feature_extractor).__module__, "ids": enc["input_ids"], "leads": enc["lead_index"]}))
"""


def test_processor_travels_as_remote_code(processor, sample_signals, tmp_path, tiny_model_dir):
    folder = tmp_path / "remote"
    processor.save_pretrained(folder)
    (folder / "config.json").write_text((tiny_model_dir / "config.json").read_text())
    x = sample_signals[2][:, :6000]
    np.save(folder / "probe.npy", x)
    out = run_python(REMOTE.replace("sys.argv[1]", repr(str(folder))), cwd=tmp_path, env_extra={"HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.split("REPORT")[-1])
    assert report["class"].startswith("transformers_modules.") and report["class"].endswith("HeartBertProcessor")
    assert report["fe"].startswith("transformers_modules.")
    ref = processor(ecg=x, sampling_rate=500, truncation=True, max_length=64)
    assert report["ids"] == ref["input_ids"] and report["leads"] == ref["lead_index"]
    for name in ("feature_extraction_heartbert.py", "processing_heartbert.py", "ecg_signal.py", "quantization.py"):
        top_level = [line for line in (folder / name).read_text().splitlines() if line.startswith(("import ", "from "))]
        assert top_level and not any(m in line for line in top_level for m in ("scipy", "wfdb", "heartbert_hf", "torch", "pandas")), name


def test_missing_scipy_is_named_only_when_resampling_is_needed(tmp_path):
    code = (
        "import sys, importlib.util, numpy as np\n"
        "sys.modules['scipy'] = None\n"
        "spec = importlib.util.spec_from_file_location('ecg_signal', sys.argv[1])\n"
        "S = importlib.util.module_from_spec(spec); spec.loader.exec_module(S)\n"
        "S.prepare_windows(np.sin(np.arange(4000) / 9.0), 360)\n"
        "try:\n    S.prepare_windows(np.sin(np.arange(4000) / 9.0), 500)\n"
        "except ImportError as err:\n    print('ERR', err)\n"
    )
    from heartbert_hf import ecg_signal

    out = run_python(code.replace("sys.argv[1]", repr(ecg_signal.__file__)), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "ERR resampling from 500 Hz to 360 Hz needs scipy" in out.stdout
