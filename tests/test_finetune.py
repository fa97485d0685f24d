"""heartbert finetune / evaluate / embed end to end on real records with a tiny model (CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

COMMON = ["--num_train_epochs", "1", "--per_device_train_batch_size", "16", "--torch_threads", "1", "--max_eval_examples", "60"]


def _aami_args(model, data_dir, cache_dir, out, *extra) -> list[str]:
    """`heartbert finetune` arguments: mitdb-aami on the sample, 118 held out, 30 beats per class, tiny budget."""
    return [
        "--task",
        "mitdb-aami",
        "--model",
        str(model),
        "--data_dir",
        str(data_dir),
        "--output_dir",
        str(out),
        "--cache_dir",
        cache_dir,
        "--validation_records",
        "118",
        "--max_train_per_class",
        "30",
        *extra,
        *COMMON,
    ]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("hf-datasets"))


@pytest.fixture(scope="session")
def mitdb_finetuned(tmp_path_factory, tiny_model_dir, sample_dir, cache_dir) -> Path:
    """`heartbert finetune --task mitdb-aami` on the shipped sample: train 101+208, validate on 118."""
    from heartbert_hf.finetune import main

    out = tmp_path_factory.mktemp("ft-mitdb")
    argv = _aami_args(tiny_model_dir, sample_dir, cache_dir, out, "--max_train_per_class", "40")  # the last value wins
    assert main(argv) == 0
    return out


def test_mitdb_aami_end_to_end(mitdb_finetuned, tiny_model_dir):
    report = json.loads((mitdb_finetuned / "results.json").read_text())
    assert report["splits"] == {"train": ["101", "208"], "validation": ["118"]}  # record-wise, disjoint
    assert report["labels"] == ["N", "S", "V", "F"]
    assert report["arms_run"] == [  # the scorecard's seven arms (the record-context ones because --data_dir is local)
        "features",
        "random",
        "pretrained",
        "pretrained+rhythm",
        "random+rhythm",
        "pretrained+context",
        "random+context",
    ]
    for arm in report["arms_run"]:  # every arm scores the same 60 validation beats
        val = report["arms"][arm]["validation"]
        assert 0.0 <= val["macro_f1"] <= 1.0 and np.isfinite(val["cohen_kappa"]) and np.isfinite(val["j_index"])
        assert set(val["per_class"]) == {"N", "S", "V", "F"}
        assert sum(map(sum, val["confusion_matrix"])) == val["n"] == 60
        assert "test" not in report["arms"][arm]  # DS2 is absent: no test numbers are claimed
        assert "F" in val["absent_classes"] and "F" not in val["macro_f1_classes"]  # 118 has no F beat in the sample
        assert all(val["per_class"][c]["support"] == 0 for c in val["absent_classes"])
    assert report["arms"]["random"]["init"] == "random" and report["arms"]["pretrained"]["init"] == "pretrained"
    assert (
        report["arms"]["random+rhythm"]["init"] == "random"
        and report["arms"]["random+rhythm"]["rhythm_features"] == report["arms"]["pretrained+rhythm"]["rhythm_features"]
    )
    assert report["scored_split"] == "validation" and "no test split" in report["notes"][0]
    card = report["scorecard"]
    assert set(card["arms"]) == set(report["arms_run"]) and card["records"] == ["118"]
    assert [c["arms"] for c in card["comparisons"]] == [
        ["pretrained", "random"],
        ["pretrained+rhythm", "features"],
        ["pretrained+rhythm", "pretrained"],
        ["pretrained+rhythm", "random+rhythm"],
        ["pretrained+context", "random+context"],
        ["pretrained+context", "features"],
        ["pretrained+context", "pretrained+rhythm"],
    ]
    for c in card["comparisons"]:  # one record: the CI is a point, or an arm is degenerate; either way a reason is given
        assert c["claim"].startswith(("no gain claimed", c["arms"][0]))
    assert report["saved_arm"] == "pretrained+context" and (mitdb_finetuned / "arm-pretrained" / "config.json").is_file()
    assert json.loads((mitdb_finetuned / "arm-random+rhythm" / "config.json").read_text())["rhythm_feature_names"]  # the control saved with its RR spec
    saved = json.loads((mitdb_finetuned / "config.json").read_text())
    assert saved["beat_context_spans"] and saved["beat_context_centring"] == "record-median" and saved["classifier_head"] == "linear-probe"
    assert report["arms"]["pretrained+context"]["init"] == "pretrained" and report["arms"]["random+context"]["init"] == "random"
    assert json.loads((mitdb_finetuned / "arm-random+context" / "config.json").read_text())["beat_context_spans"] == saved["beat_context_spans"]
    # the tokenizer travels unchanged: never refitted on task data
    assert (mitdb_finetuned / "quantizer.json").read_bytes() == (tiny_model_dir / "quantizer.json").read_bytes()
    saved, original = (json.loads((d / "tokenizer.json").read_text()) for d in (mitdb_finetuned, tiny_model_dir))
    assert saved["model"] == original["model"] and saved["truncation"] is None
    # ... with its processor: AutoProcessor loads the folder, feature extractor and quantizer included
    from transformers import AutoProcessor

    from heartbert_hf import HeartBertProcessor, HeartBertTokenizer

    processor = AutoProcessor.from_pretrained(mitdb_finetuned)
    assert isinstance(processor, HeartBertProcessor) and (mitdb_finetuned / "processor_config.json").is_file()
    assert processor.feature_extractor.fingerprint == HeartBertTokenizer.from_pretrained(tiny_model_dir).quantizer_fingerprint
    config = json.loads((mitdb_finetuned / "arm-pretrained+rhythm" / "config.json").read_text())
    assert config["heartbert_finetune"]["task"] == "mitdb-aami"
    assert config["id2label"] == {"0": "N", "1": "S", "2": "V", "3": "F"}
    from heartbert_hf.rhythm import RR_FEATURE_NAMES

    assert config["rhythm_feature_names"] == list(RR_FEATURE_NAMES)
    assert 0.3 < config["rhythm_feature_mean"][0] < 1.5 and all(s > 0 for s in config["rhythm_feature_std"])  # seconds, from train beats
    card = (mitdb_finetuned / "README.md").read_text()  # the model card of the saved arm
    assert "license: odc-by" in card and "pipeline_tag: other" in card and "A HeartBert beat classifier" in card
    assert (
        "in its record's context" in card
        and "beat_spans" in card
        and "fitted to convergence by class-weighted (square root of inverse class frequency)" in card
    )
    assert "--num_train_epochs 1 --per_device_train_batch_size 16" in card  # the command that made it
    assert "## Results" in card and "Split `validation` (60 examples; records/patients 118)" in card
    assert "(d) pretrained encoder + rhythm" in card and "(f) pretrained encoder, record context + rhythm" in card


def test_rhythm_normalisation_is_fitted_on_training_beats(mitdb_finetuned, sample_dir, cache_dir):
    from heartbert_hf.tasks import get_task, load_task_data, subsample_per_class

    config = json.loads((mitdb_finetuned / "arm-pretrained+rhythm" / "config.json").read_text())
    data = load_task_data(get_task("mitdb-aami"), str(sample_dir), cache_dir, validation_records=["118"])
    train = subsample_per_class(data["train"], 40, 42)
    rr = np.asarray(train["rr_features"], dtype=np.float64)
    np.testing.assert_allclose(config["rhythm_feature_mean"], rr.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(config["rhythm_feature_std"], rr.std(axis=0), rtol=1e-5)
    val = np.asarray(data["validation"]["rr_features"], dtype=np.float64)
    assert not np.allclose(config["rhythm_feature_mean"], val.mean(axis=0), rtol=1e-3)


def test_rhythm_classifier_reloads_with_identical_logits(mitdb_finetuned, sample_dir):
    import wfdb
    from transformers import AutoModelForSequenceClassification

    from heartbert_hf import HeartBertTokenizer
    from heartbert_hf.modeling_heartbert import HeartBertForSequenceClassification
    from heartbert_hf.rhythm import beat_segments, detect_r_peaks, rr_features

    rec = wfdb.rdrecord(str(sample_dir / "118"), channel_names=["MLII"])
    peaks = detect_r_peaks(rec.p_signal[:, 0], rec.fs)[5:9]
    rr = torch.tensor(rr_features(detect_r_peaks(rec.p_signal[:, 0], rec.fs), rec.fs)[5:9])
    segs = beat_segments(rec.p_signal.T, rec.fs, peaks, 0.8)
    folder = str(mitdb_finetuned / "arm-pretrained+rhythm")
    tok = HeartBertTokenizer.from_pretrained(folder)
    enc = tok(ecg=[s for s in segs], sampling_rate=rec.fs, max_length=128, truncation=True, padding=True, return_tensors="pt")
    rr = rr[enc["overflow_to_sample_mapping"]]  # each sequence carries its beat's features
    a = HeartBertForSequenceClassification.from_pretrained(folder).eval()
    b = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    with torch.no_grad():
        la = a(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], rhythm_features=rr).logits
        lb = b(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], rhythm_features=rr).logits
    assert la.shape == (len(rr), 4) and len(rr) >= 4 and torch.equal(la, lb)
    with pytest.raises(ValueError, match="rhythm features"):
        a(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])


def test_evaluate_writes_json_png_and_card(mitdb_finetuned, sample_dir, cache_dir, tmp_path, capsys):
    from heartbert_hf.evaluate import main

    assert (
        main(
            [
                "--model",
                str(mitdb_finetuned),
                "--data_dir",
                str(sample_dir),
                "--cache_dir",
                cache_dir,
                "--split",
                "validation",
                "--max_eval_examples",
                "50",
                "--output_dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    results = json.loads((tmp_path / "eval_mitdb-aami_validation.json").read_text())
    assert results["records"] == ["118"] and results["n"] == 50 and np.isfinite(results["macro_f1"])
    assert (tmp_path / "confusion_mitdb-aami_validation.png").stat().st_size > 1000
    card = (mitdb_finetuned / "README.md").read_text()
    assert "model-index" in card and "mitdb-aami" in card and "macro_f1" in card
    # DS2 (test) is absent from the sample: a clear error, not a silent fallback
    assert main(["--model", str(mitdb_finetuned), "--data_dir", str(sample_dir), "--cache_dir", cache_dir]) == 2
    assert "DS2" in capsys.readouterr().err


def test_embed_one_vector_per_window(tiny_model_dir, sample_dir, tmp_path, tiny_tokenizer):
    import pandas as pd

    from heartbert_hf.embed import main

    out = tmp_path / "emb.parquet"
    assert main(["--model", str(tiny_model_dir), "--input", str(sample_dir / "118"), "--output", str(out), "--leads", "MLII"]) == 0
    frame = pd.read_parquet(out)
    import wfdb

    n_samples = wfdb.rdheader(str(sample_dir / "118")).sig_len  # 360 Hz: no resampling
    full, tail = divmod(n_samples, tiny_tokenizer.window_size)
    n_windows = full + (tail >= tiny_tokenizer.min_window)
    assert len(frame) == n_windows and set(frame["record_id"]) == {"118"} and set(frame["lead_name"]) == {"MLII"}
    assert list(frame["window"]) == list(range(n_windows))
    assert (frame["n_sequences"] > 1).all()  # windows overflowed 128 tokens and were averaged
    emb = np.stack(frame["embedding"].to_numpy())
    assert emb.shape == (n_windows, 32) and np.isfinite(emb).all()


def test_linear_probe_leaves_encoder_unchanged(tiny_model_dir, sample_dir, cache_dir, tmp_path):
    from safetensors.torch import load_file

    from heartbert_hf.finetune import main

    out = tmp_path / "probe"
    assert main(_aami_args(tiny_model_dir, sample_dir, cache_dir, out, "--linear_probe", "--arms", "pretrained", "--learning_rate", "1e-2")) == 0
    before, after = load_file(tiny_model_dir / "model.safetensors"), load_file(out / "model.safetensors")
    encoder = [k for k in after if k.startswith("roberta.")]
    assert len(encoder) > 10
    for key in encoder:
        assert torch.equal(before[key], after[key]), key
    report = json.loads((out / "results.json").read_text())
    assert report["arms"]["pretrained"]["trainable_parameters"] == 32 * 4 + 4  # the linear head only
    assert list(report["arms"]) == ["pretrained"]


def test_bilstm_head_freezes_lower_half(tiny_model_dir, sample_dir, cache_dir, tmp_path):
    from safetensors.torch import load_file

    from heartbert_hf.finetune import main
    from heartbert_hf.modeling_heartbert import HeartBertForSequenceClassification

    out = tmp_path / "bilstm"
    assert (
        main(
            _aami_args(
                tiny_model_dir, sample_dir, cache_dir, out, "--head", "bilstm", "--lstm_hidden_size", "16", "--arms", "pretrained", "--learning_rate", "1e-3"
            )
        )
        == 0
    )
    before, after = load_file(tiny_model_dir / "model.safetensors"), load_file(out / "model.safetensors")
    lower = [k for k in after if k.startswith(("roberta.embeddings.", "roberta.encoder.layer.0."))]
    upper = [k for k in after if k.startswith("roberta.encoder.layer.1.") and k.endswith("weight")]
    assert lower and upper
    assert all(torch.equal(before[k], after[k]) for k in lower)
    assert any(not torch.equal(before[k], after[k]) for k in upper)
    model = HeartBertForSequenceClassification.from_pretrained(str(out))
    assert model.config.classifier_head == "bilstm" and model.lstm.hidden_size == 16


def test_push_to_hub_uploads_the_saved_arm_with_its_card_once(tiny_model_dir, sample_dir, cache_dir, tmp_path, monkeypatch):
    """STAND-IN Hub API (never the internet): `--push_to_hub` uploads the output folder once, at the end."""
    import huggingface_hub

    from heartbert_hf.finetune import main

    calls = []

    class StandIn:
        def __init__(self, endpoint=None, token=None):
            calls.append(("init", endpoint, token))

        def create_repo(self, repo_id, **kw):
            calls.append(("create_repo", repo_id, kw["repo_type"]))

        def upload_folder(self, folder_path, repo_id, **kw):
            calls.append(("upload_folder", repo_id, sorted(p.name for p in Path(folder_path).iterdir()), kw["ignore_patterns"], kw["commit_message"]))
            return "https://hub.example/commit"

    monkeypatch.setattr(huggingface_hub, "HfApi", StandIn)
    out = tmp_path / "pushed"
    argv = _aami_args(tiny_model_dir, sample_dir, cache_dir, out, "--linear_probe", "--arms", "random,pretrained", "--push_to_hub", "--hub_model_id", "me/ft")
    assert main(argv) == 0
    assert [c[0] for c in calls] == ["init", "create_repo", "upload_folder"] and calls[1][1:] == ("me/ft", "model")
    files, ignore, message = calls[2][2:]
    assert {"README.md", "model.safetensors", "config.json", "tokenizer.json", "quantizer.json", "results.json"} <= set(files)
    assert "arm-random" in files and "arm-*/**" in ignore  # the other arm stays local
    assert message == "HeartBert fine-tuned on mitdb-aami: arm pretrained"
    assert not list(out.glob("checkpoint-*")) and not list(out.glob("arm-random/checkpoint-*"))  # Trainer pushed nothing itself


def test_finetune_parses_training_arguments_with_its_defaults(capsys):
    from heartbert_hf.finetune import TRAINING_DEFAULTS, parse_args

    args, t = parse_args(["--task", "mitdb-aami", "--model", "m"])
    assert args.training is t and args.seed == 42 and args.output_dir == "heartbert-runs/finetuned"
    assert (t.num_train_epochs, t.per_device_train_batch_size, t.per_device_eval_batch_size, t.learning_rate) == (3.0, 32, 64, 5e-5)
    assert (t.warmup_steps, t.weight_decay, t.report_to, t.save_total_limit) == (0.1, 0.01, [], 1)
    assert TRAINING_DEFAULTS["num_train_epochs"] == 3.0
    given = ["--num_train_epochs", "2", "--per_device_train_batch_size", "8", "--learning_rate", "1e-3", "--seed", "5", "--output_dir", "o"]
    args, t = parse_args(["--task", "mitdb-aami", "--model", "m", *given, "--report_to", "tensorboard", "--per_device_eval_batch_size", "3"])
    assert (t.num_train_epochs, t.per_device_train_batch_size, t.per_device_eval_batch_size, t.learning_rate) == (2.0, 8, 3, 1e-3)
    assert (args.seed, args.output_dir, t.report_to) == (5, "o", ["tensorboard"])
    for spelling in (["--per-device-eval-batch-size", "3"], ["--per_device_eval_batch_size=3"]):  # both spellings HfArgumentParser takes
        assert parse_args(["--task", "mitdb-aami", "--model", "m", *spelling])[1].per_device_eval_batch_size == 3
    with pytest.raises(SystemExit) as stop:
        parse_args(["--task", "mitdb-aami", "--model", "m", "--epochs", "3"])  # the old spelling names the new one
    assert stop.value.code == 2 and "--epochs: did you mean --num_train_epochs?" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="cross-validation saves no model"):
        parse_args(["--task", "mitdb-aami", "--model", "m", "--cv", "5", "--push_to_hub", "--hub_model_id", "me/x"])


def test_make_trainer_keeps_the_users_options_and_sets_the_selection(tiny_config, tiny_tokenizer, tmp_path):
    import datasets

    from heartbert_hf.arms import make_trainer
    from heartbert_hf.finetune import parse_args
    from heartbert_hf.modeling_heartbert import HeartBertForSequenceClassification
    from heartbert_hf.tasks import get_task

    args, _ = parse_args(
        ["--task", "mitdb-aami", "--model", "m", "--weight_decay", "0.2", "--lr_scheduler_type", "cosine", "--push_to_hub", "--hub_model_id", "me/x"]
    )
    rows = {"input_ids": [[0, 5, 2]] * 4, "attention_mask": [[1, 1, 1]] * 4, "labels": [0, 1, 2, 3], "example_id": [0, 1, 2, 3]}
    ds = datasets.Dataset.from_dict(rows)
    model = HeartBertForSequenceClassification(tiny_config.__class__(**(tiny_config.to_dict() | {"num_labels": 4})))
    task = get_task("mitdb-aami")
    trainer = make_trainer(model, args, str(tmp_path / "arm"), ds, ds, tiny_tokenizer, None, task, ["N", "S", "V", "F"], select=True)
    t = trainer.args
    assert (t.weight_decay, str(t.lr_scheduler_type.value), t.output_dir) == (0.2, "cosine", str(tmp_path / "arm"))
    assert t.eval_strategy == "epoch" and t.load_best_model_at_end and t.metric_for_best_model == task.primary_metric
    assert not t.push_to_hub  # the command pushes the saved folder once, not every arm's checkpoints
    assert args.training.output_dir == "heartbert-runs/finetuned"  # the parsed arguments are not modified
    no_select = make_trainer(model, args, str(tmp_path / "cv"), ds, ds, tiny_tokenizer, None, task, ["N", "S", "V", "F"], select=False)
    assert no_select.args.eval_strategy == "no" and not no_select.args.load_best_model_at_end


def test_bad_task_name_is_clear(tiny_model_dir, capsys):
    from heartbert_hf.finetune import FinetuneArguments, finetune, main

    with pytest.raises(ValueError, match="unknown task 'mitdb-beats'.*mitdb-aami"):
        finetune(FinetuneArguments(task="mitdb-beats", model=str(tiny_model_dir)))
    assert main(["--task", "nope", "--model", str(tiny_model_dir)]) == 2
    assert "unknown task 'nope'" in capsys.readouterr().err


def test_model_without_heartbert_tokenizer_is_clear(tiny_config, tmp_path):
    from heartbert_hf import HeartBertForMaskedLM
    from heartbert_hf.finetune import FinetuneArguments, finetune

    HeartBertForMaskedLM(tiny_config).save_pretrained(tmp_path)  # weights, no tokenizer
    with pytest.raises(ValueError, match="has no HeartBert tokenizer"):
        finetune(FinetuneArguments(task="mitdb-aami", model=str(tmp_path)))


def test_mismatched_label_space_is_clear(mitdb_finetuned, tmp_path):
    from heartbert_hf.evaluate import EvaluateArguments, evaluate
    from heartbert_hf.finetune import FinetuneArguments, finetune

    with pytest.raises(ValueError, match=r"mismatched label space.*\['N', 'S', 'V', 'F'\].*\['W', 'NREM', 'R'\]"):
        evaluate(EvaluateArguments(model=str(mitdb_finetuned), task="slpdb-3", data_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="mismatched label space"):
        finetune(FinetuneArguments(task="slpdb-5", model=str(mitdb_finetuned), data_dir=str(tmp_path)))


@pytest.mark.parametrize("command", ["finetune", "evaluate", "embed"])
def test_help_lists_options(command, capsys):
    import importlib

    module = importlib.import_module(f"heartbert_hf.{command}")
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--model" in out and ("--task" in out or command == "embed")


def test_embed_saved_dataset_rows(tiny_model_dir, sample_signals, tmp_path):
    import datasets
    import pandas as pd

    from heartbert_hf.embed import main

    beats = [sample_signals[0][:, 1000:1577], sample_signals[2][:, 5000:5577]]  # two 2-lead ±0.8 s segments
    datasets.Dataset.from_dict({"signal": [b.tolist() for b in beats], "sampling_rate": [360.0, 360.0], "record_id": ["101", "118"]}).save_to_disk(
        tmp_path / "ds"
    )
    out = tmp_path / "rows.parquet"
    assert main(["--model", str(tiny_model_dir), "--input", str(tmp_path / "ds"), "--output", str(out)]) == 0
    frame = pd.read_parquet(out)
    assert list(zip(frame["record_id"], frame["example"], frame["lead"])) == [("101", 0, 0), ("101", 0, 1), ("118", 1, 0), ("118", 1, 1)]
    assert (frame["window"] == 0).all() and (frame["start_sample"] == 0).all()
    assert main(["--model", str(tiny_model_dir), "--input", str(tmp_path / "nothing-here"), "--output", str(out)]) == 2


def test_shipped_aami_classifier_is_complete_and_reloads_identically(tmp_path, sample_dir):
    """The shipped record-context classifier: complete, card generated from its run, and the same
    logits after save/reload through the Auto class and through trust_remote_code's saved copy."""
    import wfdb
    from transformers import AutoModelForSequenceClassification

    import heartbert_hf
    from heartbert_hf.beat_context import beat_token_spans, record_stream
    from heartbert_hf.context_arms import CONTEXT_RHYTHM
    from heartbert_hf.rhythm import RR_FEATURE_NAMES, detect_r_peaks, rr_features
    from heartbert_hf.runtime import load_heartbert_processor

    folder = Path(heartbert_hf.__file__).parent / "models" / "heartbert-aami-ds1"
    if not folder.is_dir():
        pytest.skip("the shipped classifier is not in this checkout")
    assert sum(f.stat().st_size for f in folder.iterdir()) < 25e6
    card = (folder / "README.md").read_text()
    assert "ODC-By" in card and "license: odc-by" in card and "TRANSDUCTIVE" in card and "inductive for DS2" in card
    assert "model_name: heartbert-aami-ds1" in card and "(f) pretrained encoder, record context + rhythm" in card
    config = json.loads((folder / "config.json").read_text())
    assert config["id2label"] == {"0": "N", "1": "S", "2": "V", "3": "F"} and config["rhythm_feature_names"] == list(CONTEXT_RHYTHM)
    assert config["beat_context_spans"] and config["beat_context_centring"] == "record-median"
    assert len(config["heartbert_finetune"]["splits"]["train"]) == 22
    rec = wfdb.rdrecord(str(sample_dir / "118"), channel_names=["MLII"], sampto=108000)  # 300 s: past the length where labels settle
    peaks = detect_r_peaks(rec.p_signal[:, 0], rec.fs)[1:-1]
    rr = torch.tensor(rr_features(peaks, rec.fs)[:, [RR_FEATURE_NAMES.index(n) for n in CONTEXT_RHYTHM]], dtype=torch.float32)
    stream = record_stream(load_heartbert_processor(folder), rec.p_signal[:, 0], rec.fs, 256)
    spans = torch.as_tensor(beat_token_spans(stream, peaks, rec.fs, config["beat_context_spans"]))
    width = max(map(len, stream.sequences))
    ids = torch.ones((len(stream.sequences), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, seq in enumerate(stream.sequences):
        ids[i, : len(seq)], mask[i, : len(seq)] = torch.tensor(seq), 1
    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    model.save_pretrained(tmp_path / "again")
    again = AutoModelForSequenceClassification.from_pretrained(str(tmp_path / "again")).eval()
    with torch.no_grad():
        a = model(input_ids=ids, attention_mask=mask, beat_spans=spans, rhythm_features=rr).logits
        b = again(input_ids=ids, attention_mask=mask, beat_spans=spans, rhythm_features=rr).logits
    assert a.shape == (len(peaks), 4) and len(peaks) >= 300 and torch.equal(a, b)
    assert (a.argmax(dim=1) == 0).float().mean() > 0.8  # 118's first 5 min: mostly right bundle branch block beats, AAMI N


def test_model_card_update_is_quiet_and_keeps_the_text(tmp_path, caplog):
    """A card without a metadata block gets one: no 'metadata block was not found' warning, text kept."""
    import logging

    from heartbert_hf.evaluate import update_model_card

    (tmp_path / "README.md").write_text("# my run\n\nNotes kept.\n")
    with caplog.at_level(logging.WARNING):
        path = update_model_card(str(tmp_path), "mitdb-aami", "test", {"accuracy": 0.5, "macro_f1": 0.25}, "mitdb")
    assert not [r for r in caplog.records if "metadata block" in r.getMessage()]
    text = path.read_text()
    assert text.startswith("---") and "model-index" in text and "Notes kept." in text


def test_building_a_head_prints_no_load_report_table(tiny_model_dir, caplog):
    """The expected fresh head is one INFO line, not transformers' LOAD REPORT table for every arm."""
    import logging

    from heartbert_hf.arms import build_model

    with caplog.at_level(logging.INFO):
        net = build_model(str(tiny_model_dir), "bilstm", ["N", "S", "V", "F"], "single_label_classification", False, 0, lstm_hidden_size=8)
    messages = [r.getMessage() for r in caplog.records]
    assert net.config.classifier_head == "bilstm"
    assert not [m for m in messages if "LOAD REPORT" in m]
    assert [m for m in messages if "encoder loaded; the bilstm head's" in m]


def test_evaluate_predictions_equal_one_sequence_at_a_time(mitdb_finetuned):
    """evaluate's batched path (inference.predict_proba) = each sequence alone, averaged per example."""
    import datasets
    import torch

    from heartbert_hf.evaluate import predict_examples
    from heartbert_hf.modeling_heartbert import HeartBertForSequenceClassification

    model = HeartBertForSequenceClassification.from_pretrained(str(mitdb_finetuned / "arm-pretrained+rhythm")).eval()
    rng = np.random.default_rng(0)
    n_rr = len(model.config.rhythm_feature_names or [])
    rows = {"input_ids": [], "attention_mask": [], "example_id": [], "labels": [], "rr_features": []}
    for i, length in enumerate([12, 40, 7, 25, 25, 60]):
        ids = [0, *rng.integers(5, 100, length).tolist(), 2]
        rows["input_ids"].append(ids)
        rows["attention_mask"].append([1] * len(ids))
        rows["example_id"].append(i // 2)  # three examples of two sequences each
        rows["labels"].append(i // 2 % 4)
        rows["rr_features"].append(rng.normal(1.0, 0.2, n_rr).astype(np.float32).tolist())
    ds = datasets.Dataset.from_dict(rows)
    uniq, probs, labels = predict_examples(model, ds, batch_size=4)
    expected = []
    with torch.no_grad():
        for ids, rr in zip(rows["input_ids"], rows["rr_features"]):
            extra = {"rhythm_features": torch.tensor([rr])} if n_rr else {}
            expected.append(torch.softmax(model(input_ids=torch.tensor([ids]), **extra).logits.double(), -1)[0].numpy())
    expected = np.asarray(expected).reshape(3, 2, -1).mean(axis=1)
    assert list(uniq) == [0, 1, 2] and labels == [0, 1, 2]
    np.testing.assert_allclose(probs, expected, atol=1e-5)
