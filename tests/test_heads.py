"""Every HeartBert class and head: save → reload (Auto classes, and remote code in a process without
the package) gives identical outputs; pipelines; freezing; rhythm features; the position limit; ids
outside the embedding tables."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from conftest import run_python
from transformers import AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification, pipeline

from heartbert_hf import HEADS, HeartBertConfig, HeartBertForMaskedLM, HeartBertForSequenceClassification, HeartBertModel
from heartbert_hf.modeling_heartbert import IdsOutOfRangeError

RHYTHM = {"rhythm_feature_names": ["rr_prev", "rr_next", "rr_local"], "rhythm_feature_mean": [0.8, 0.8, 0.8], "rhythm_feature_std": [0.2, 0.25, 0.0]}
LABELS = ["N", "S", "V", "F"]
MULTI = "multi_label_classification"
SINGLE = "single_label_classification"


def clf_config(tiny_config, head: str, problem_type: str = SINGLE, rhythm: bool = False, **extra) -> HeartBertConfig:
    return HeartBertConfig(
        **{
            **tiny_config.to_dict(),
            "num_labels": len(LABELS),
            "id2label": dict(enumerate(LABELS)),
            "label2id": {n: i for i, n in enumerate(LABELS)},
            "problem_type": problem_type,
            "classifier_head": head,
            "lstm_hidden_size": 8,
            **(RHYTHM if rhythm else {}),
            **extra,
        }
    )


CASES = [("encoder", None, None, False), ("mlm", None, None, False)] + [
    (f"{head}-{'multi' if pt == MULTI else 'single'}{'-rhythm' if rhythm else ''}", head, pt, rhythm)
    for head in HEADS
    for pt in (SINGLE, MULTI)
    for rhythm in (False, True)
]
"""(name, head, problem_type, rhythm): the encoder, the MLM and every head × single/multi-label × rhythm."""


def build(case, tiny_config):
    name, head, problem_type, rhythm = case
    torch.manual_seed(len(name))
    if name == "encoder":
        return HeartBertModel(tiny_config)
    if name == "mlm":
        return HeartBertForMaskedLM(tiny_config)
    model = HeartBertForSequenceClassification(clf_config(tiny_config, head, problem_type, rhythm))
    with torch.no_grad():  # default head init has zero biases and tiny weights: make the logits distinctive
        for p in model.classifier.parameters():
            p.normal_(0, 0.5)
    return model


def outputs_of(model, ids, mask, rhythm) -> dict[str, np.ndarray]:
    with torch.no_grad():
        if isinstance(model, HeartBertModel) or type(model).__name__ == "HeartBertModel":
            out = model(input_ids=ids, attention_mask=mask)
            return {"last_hidden_state": out.last_hidden_state.numpy(), "pooler_output": out.pooler_output.numpy()}
        extra = {"rhythm_features": rhythm} if getattr(model.config, "rhythm_feature_names", None) else {}
        return {"logits": model(input_ids=ids, attention_mask=mask, **extra).logits.numpy()}


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory, tiny_tokenizer, tiny_config, sample_signals):
    """Every case saved (with the tokenizer) to its own folder, with its outputs on fixed inputs."""
    root = tmp_path_factory.mktemp("heads")
    enc = tiny_tokenizer(ecg=sample_signals[2][:, :3000], sampling_rate=360, truncation=True, max_length=48, padding=True, return_tensors="pt")
    lengths = enc["attention_mask"].sum(1)
    rows = [0, 1] + [int(i) for i in torch.argsort(lengths)[:3]]  # full sequences and the shortest (padded) ones
    ids, mask = enc["input_ids"][rows], enc["attention_mask"][rows]
    assert (mask == 0).any(), "the probe batch should contain padding"
    rhythm = torch.tensor([[0.8, 0.9, 0.85], [0.5, 1.2, 0.8], [1.1, 0.6, 0.9], [0.8, 0.8, 0.8], [0.3, 1.5, 0.7]])
    np.save(root / "ids.npy", ids.numpy())
    np.save(root / "mask.npy", mask.numpy())
    np.save(root / "rhythm.npy", rhythm.numpy())
    reference = {}
    for case in CASES:
        model = build(case, tiny_config).eval()
        model.save_pretrained(root / case[0])
        tiny_tokenizer.save_pretrained(root / case[0])
        reference[case[0]] = outputs_of(model, ids, mask, rhythm)
    return root, ids, mask, rhythm, reference


AUTO = {"encoder": AutoModel, "mlm": AutoModelForMaskedLM}


def test_every_class_reloads_through_the_auto_classes_with_identical_outputs(saved_models):
    root, ids, mask, rhythm, reference = saved_models
    for name, head, problem_type, with_rhythm in CASES:
        model = AUTO.get(name, AutoModelForSequenceClassification).from_pretrained(root / name).eval()
        if head:
            assert type(model) is HeartBertForSequenceClassification
            assert (model.config.classifier_head, model.config.problem_type) == (head, problem_type)
            assert (model.config.rhythm_feature_names is not None) == with_rhythm
        got = outputs_of(model, ids, mask, rhythm)
        for key, value in reference[name].items():
            np.testing.assert_array_equal(got[key], value, err_msg=f"{name}: {key}")


REMOTE = """
import json, sys, numpy as np, torch
sys.modules["heartbert_hf"] = None  # as on a machine without the package
torch.set_num_threads({threads})
from transformers import AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification, pipeline
root = {root!r}
ids, mask = torch.from_numpy(np.load(root + "/ids.npy")), torch.from_numpy(np.load(root + "/mask.npy"))
rhythm = torch.from_numpy(np.load(root + "/rhythm.npy"))
report = {{}}
for name in {names!r}:
    auto = {{"encoder": AutoModel, "mlm": AutoModelForMaskedLM}}.get(name, AutoModelForSequenceClassification)
    model = auto.from_pretrained(root + "/" + name, trust_remote_code=True).eval()
    kw = {{"rhythm_features": rhythm}} if getattr(model.config, "rhythm_feature_names", None) else {{}}
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, **kw)
    values = {{"last_hidden_state": out.last_hidden_state, "pooler_output": out.pooler_output}} if name == "encoder" else {{"logits": out.logits}}
    report[name] = {{"class": type(model).__module__ + "." + type(model).__name__, **{{k: v.tolist() for k, v in values.items()}}}}
try:  # a fine-tuned classifier has no lm_head: the remote copy refuses the masked-LM load too
    AutoModelForMaskedLM.from_pretrained(root + "/sequence-single", trust_remote_code=True)
    report["mlm_of_classifier"] = "loaded"
except ValueError as err:
    report["mlm_of_classifier"] = str(err)
clf = pipeline("text-classification", model=root + "/sequence-single", trust_remote_code=True, top_k=None)
report["pipeline"] = clf([{text!r}])[0]
print("\\nREPORT" + json.dumps(report))
"""


def test_every_class_loads_as_remote_code_without_the_package(saved_models, tiny_tokenizer, tmp_path):
    root, ids, _, _, reference = saved_models
    text = tiny_tokenizer.decode(ids[0], skip_special_tokens=True)
    code = REMOTE.format(threads=torch.get_num_threads(), root=str(root), names=[c[0] for c in CASES], text=text)
    # remote-code modules are copied to HF_MODULES_CACHE: keep them in the test's tmp dir
    proc = run_python(code, cwd=tmp_path, env_extra={"HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(next(row for row in proc.stdout.splitlines() if "REPORT{" in row).split("REPORT", 1)[1])
    for name, *_ in CASES:
        assert report[name]["class"].startswith("transformers_modules."), report[name]["class"]
        for key, value in reference[name].items():
            np.testing.assert_array_equal(np.array(report[name][key], dtype=np.float32), value, err_msg=f"{name}: {key}")
    assert "is a fine-tuned classifier" in report["mlm_of_classifier"] and "from_encoder" in report["mlm_of_classifier"], report["mlm_of_classifier"]
    probs = torch.softmax(torch.from_numpy(reference["sequence-single"]["logits"][0]), -1)
    scores = {d["label"]: d["score"] for d in report["pipeline"]}
    assert sorted(scores) == sorted(LABELS)
    np.testing.assert_allclose([scores[n] for n in LABELS], probs.numpy(), rtol=1e-5)
    assert (tmp_path / "modules").is_dir()  # the copies went where we pointed them


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("problem_type", [SINGLE, MULTI])
def test_pipeline_on_level_text(saved_models, tiny_tokenizer, head, problem_type):
    root, ids, _, _, reference = saved_models
    name = f"{head}-{'multi' if problem_type == MULTI else 'single'}"
    clf = pipeline("text-classification", model=str(root / name), top_k=None)
    texts = [tiny_tokenizer.decode(ids[i], skip_special_tokens=True) for i in (0, 1)]
    results = clf(texts)
    for i, result in enumerate(results):
        logits = torch.from_numpy(reference[name]["logits"][i])
        expected = torch.sigmoid(logits) if problem_type == MULTI else torch.softmax(logits, -1)
        scores = {d["label"]: d["score"] for d in result}
        np.testing.assert_allclose([scores[n] for n in LABELS], expected.numpy(), rtol=1e-4, atol=1e-6)


def test_pipeline_on_a_rhythm_model_names_the_missing_features(saved_models, tiny_tokenizer):
    root, ids, *_ = saved_models
    clf = pipeline("text-classification", model=str(root / "bilstm-single-rhythm"))
    with pytest.raises(ValueError, match=r"rhythm features \['rr_prev', 'rr_next', 'rr_local'\].*call the model directly"):
        clf(tiny_tokenizer.decode(ids[0], skip_special_tokens=True))


def test_saved_config_declares_the_head_and_rhythm_spec(saved_models):
    root, *_ = saved_models
    saved = json.loads((root / "linear-probe-multi-rhythm" / "config.json").read_text())
    assert saved["classifier_head"] == "linear-probe" and saved["problem_type"] == MULTI
    assert {k: saved[k] for k in RHYTHM} == RHYTHM
    assert saved["auto_map"]["AutoModelForSequenceClassification"] == "modeling_heartbert.HeartBertForSequenceClassification"
    for name in ("configuration_heartbert.py", "modeling_heartbert.py"):
        top_level = [row for row in (root / "bilstm-single" / name).read_text().splitlines() if row.startswith(("import ", "from "))]
        assert not [row for row in top_level if "heartbert_hf" in row or "scipy" in row or "wfdb" in row], top_level


# ------------------------------------------------------------------------------------------ freezing
def trainable(model) -> set[str]:
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_freezing_per_head_survives_from_pretrained(tiny_config, tiny_model_dir):
    for head in HEADS:
        model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, classifier_head=head, num_labels=3)
        names = trainable(model)
        assert any(n.startswith("classifier.") for n in names)
        if head == "sequence":
            assert names == {n for n, _ in model.named_parameters()}
        elif head == "bilstm":
            assert not any(n.startswith(("roberta.embeddings.", "roberta.encoder.layer.0.")) for n in names)
            assert any(n.startswith("roberta.encoder.layer.1.") for n in names) and any(n.startswith("lstm.") for n in names)
        else:
            assert not any(n.startswith("roberta.") for n in names)
            model.train()
            assert model.training and not model.roberta.training  # frozen features: no dropout
        # the pretrained encoder is what was loaded
        mlm = HeartBertForMaskedLM.from_pretrained(tiny_model_dir)
        torch.testing.assert_close(model.roberta.encoder.layer[1].output.dense.weight, mlm.roberta.encoder.layer[1].output.dense.weight, rtol=0, atol=0)


def test_linear_probe_trains_only_its_layer(tiny_config):
    torch.manual_seed(0)
    model = HeartBertForSequenceClassification(clf_config(tiny_config, "linear-probe"))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    ids = torch.randint(5, tiny_config.vocab_size, (4, 20))
    model.train()
    model(input_ids=ids, labels=torch.tensor([0, 1, 2, 3])).loss.backward()
    opt.step()
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {"classifier.weight", "classifier.bias"}


# ------------------------------------------------------------------------------------------ rhythm
def test_rhythm_features_are_normalised_inside_the_model(tiny_config):
    torch.manual_seed(0)
    model = HeartBertForSequenceClassification(clf_config(tiny_config, "linear-probe", rhythm=True)).eval()
    x = torch.tensor([[1.0, 0.55, 0.9], [0.6, 1.3, 0.8]])
    expected = (x - torch.tensor([0.8, 0.8, 0.8])) / torch.tensor([0.2, 0.25, 1.0])  # std 0 counts as 1
    torch.testing.assert_close(model.normalise_rhythm(x, 2, x.device), expected)
    ids = torch.randint(5, tiny_config.vocab_size, (2, 16))
    with torch.no_grad():
        pooled = model.roberta(input_ids=ids).pooler_output
        direct = model.classifier(torch.cat([pooled, expected], -1))
        logits = model(input_ids=ids, rhythm_features=x).logits
        moved = model(input_ids=ids, rhythm_features=x + 0.3).logits
    torch.testing.assert_close(logits, direct)
    assert not torch.allclose(logits, moved)  # the features reach the logits


@pytest.mark.parametrize(
    "rhythm, message",
    [
        (None, r"takes 3 rhythm features \['rr_prev', 'rr_next', 'rr_local'\]: pass rhythm_features.*\(batch, 3\)"),
        (torch.ones(2, 2), r"shape \(2, 2\); expected \(batch=2, 3\)"),
        (torch.tensor([[1.0, 1.0, 1.0], [1.0, float("nan"), 1.0]]), r"item 1 of the batch, feature 'rr_next' is nan"),
    ],
)
def test_bad_rhythm_features_are_refused(tiny_config, rhythm, message):
    model = HeartBertForSequenceClassification(clf_config(tiny_config, "sequence", rhythm=True))
    with pytest.raises(ValueError, match=message):
        model(input_ids=torch.randint(5, 50, (2, 10)), rhythm_features=rhythm)


def test_rhythm_features_for_a_model_without_them_are_refused(tiny_config):
    model = HeartBertForSequenceClassification(clf_config(tiny_config, "bilstm"))
    with pytest.raises(ValueError, match="no rhythm inputs"):
        model(input_ids=torch.randint(5, 50, (2, 10)), rhythm_features=torch.ones(2, 3))


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"classifier_head": "cnn"}, r"unknown classifier_head 'cnn'; choose one of \['sequence', 'bilstm', 'linear-probe'\]"),
        ({"rhythm_feature_names": ["a", "b"], "rhythm_feature_mean": [0.0]}, "rhythm_feature_mean has 1 values for 2 rhythm features"),
        ({"rhythm_feature_names": ["a"], "rhythm_feature_std": [1.0, 2.0]}, "rhythm_feature_std has 2 values for 1 rhythm features"),
        ({"rhythm_feature_std": [1.0]}, "rhythm_feature_names is not"),
        ({"problem_type": "regression"}, "regression' is not supported"),
    ],
)
def test_config_validation(fields, message):
    with pytest.raises(ValueError, match=message):
        HeartBertConfig(**fields)


def test_head_set_after_construction_is_checked_by_the_model(tiny_config):
    config = clf_config(tiny_config, "sequence")
    config.classifier_head = "lstm"
    with pytest.raises(ValueError, match="unknown classifier_head 'lstm'"):
        HeartBertForSequenceClassification(config)


# ------------------------------------------------------------------------------------------ bilstm padding
def test_bilstm_result_does_not_depend_on_batch_padding(tiny_config):
    torch.manual_seed(0)
    model = HeartBertForSequenceClassification(clf_config(tiny_config, "bilstm")).eval()
    short = torch.randint(5, tiny_config.vocab_size, (1, 12))
    padded = torch.cat([short, torch.full((1, 20), tiny_config.pad_token_id)], 1)
    mask = torch.cat([torch.ones(1, 12, dtype=torch.long), torch.zeros(1, 20, dtype=torch.long)], 1)
    with torch.no_grad():
        alone = model(input_ids=short).logits
        in_batch = model(input_ids=padded, attention_mask=mask).logits
        with pytest.raises(ValueError, match="right-padded"):
            model(input_ids=padded.flip(1), attention_mask=mask.flip(1))
    torch.testing.assert_close(alone, in_batch, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------ position limit
@pytest.mark.parametrize("cls", [HeartBertModel, HeartBertForMaskedLM, HeartBertForSequenceClassification])
def test_sequences_longer_than_the_positions_are_refused_clearly(tiny_config, cls):
    model = cls(tiny_config).eval()
    limit = tiny_config.max_position_embeddings - tiny_config.pad_token_id - 1  # 128 for 130 positions
    with torch.no_grad():
        model(input_ids=torch.randint(5, 50, (1, limit)))  # exactly the limit works
        # padding past the limit is fine: only real tokens take positions
        padded = torch.cat([torch.randint(5, 50, (1, limit)), torch.full((1, 7), tiny_config.pad_token_id)], 1)
        model(input_ids=padded, attention_mask=(padded != tiny_config.pad_token_id).long())
        with pytest.raises(
            ValueError, match=rf"sequences of {limit + 1} tokens, but this HeartBert has {limit} token positions.*truncation=True, max_length={limit}"
        ):
            model(input_ids=torch.randint(5, 50, (1, limit + 1)))
        # in a padded batch the error names the longest row
        long_row = torch.randint(5, 50, (1, limit + 3))
        short_row = torch.cat([torch.randint(5, 50, (1, 10)), torch.full((1, limit - 7), tiny_config.pad_token_id)], 1)
        with pytest.raises(ValueError, match=rf"sequences of {limit + 3} tokens \(the longest is batch row 1\), but this HeartBert has {limit}"):
            model(input_ids=torch.cat([short_row, long_row]))


def test_untruncated_ecg_input_gets_the_clear_error(tiny_tokenizer, tiny_config, sample_signals):
    enc = tiny_tokenizer(ecg=sample_signals[0][:1, :4000], sampling_rate=360, return_tensors="pt")
    assert enc["input_ids"].shape[1] > 128
    with pytest.raises(ValueError, match="truncation=True"):
        HeartBertModel(tiny_config)(**{k: enc[k] for k in ("input_ids", "attention_mask")})


# ------------------------------------------------------------------------------------------ ids outside the tables
CLASSES = [HeartBertModel, HeartBertForMaskedLM, HeartBertForSequenceClassification]


def good_ids(tiny_config, rows=3, length=12):
    torch.manual_seed(1)
    return torch.randint(5, tiny_config.vocab_size, (rows, length))


@pytest.mark.parametrize("cls", CLASSES)
def test_token_ids_from_another_tokenizer_are_named(tiny_config, cls):
    """Before: torch's bare IndexError('index out of range in self') from the embedding lookup."""
    model = cls(tiny_config).eval()
    vocab = tiny_config.vocab_size
    ids = good_ids(tiny_config)
    with torch.no_grad():
        model(input_ids=ids)  # in range: fine
        bad = ids.clone()
        bad[1, 4], bad[1, 7] = 50264, vocab  # RoBERTa's <mask> id; the first id past this vocabulary
        with pytest.raises(
            IdsOutOfRangeError,
            match=rf"outside this model's vocabulary 0\.\.{vocab - 1} \(vocab_size {vocab}\): row 1: {vocab}, 50264 \(first at position 4\)\..*this model's own tokenizer",
        ) as caught:
            model(input_ids=bad)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, IndexError)  # old `except IndexError` still works
    assert isinstance(caught.value.__cause__, IndexError) and "index out of range" in str(caught.value.__cause__)


@pytest.mark.parametrize("cls", CLASSES)
def test_negative_token_ids_are_named(tiny_config, cls):
    model = cls(tiny_config).eval()
    ids = good_ids(tiny_config)
    ids[0, 2], ids[2, 0] = -100, -1  # label padding fed as input
    with (
        torch.no_grad(),
        pytest.raises(ValueError, match=r"row 0: -100 \(first at position 2\); row 2: -1 \(first at position 0\)\..*-100 marks ignored labels"),
    ):
        model(input_ids=ids, attention_mask=torch.ones_like(ids))


def test_ids_error_names_the_saved_tokenizer(tiny_model_dir):
    model = AutoModel.from_pretrained(tiny_model_dir)
    ids = torch.tensor([[0, 5, 2], [0, model.config.vocab_size + 10, 2]])
    with pytest.raises(ValueError, match=rf"row 1: {model.config.vocab_size + 10} .*" + re.escape(f"AutoTokenizer.from_pretrained('{tiny_model_dir}')")):
        model(input_ids=ids)


@pytest.mark.parametrize("cls", CLASSES)
def test_a_second_token_type_is_named(tiny_config, cls):
    """A BERT-style tokenizer's segment ids: HeartBert has type_vocab_size 1."""
    model = cls(tiny_config).eval()
    ids = good_ids(tiny_config)
    types = torch.zeros_like(ids)
    with torch.no_grad():
        model(input_ids=ids, token_type_ids=types)
        types[2, 6:] = 1
        with pytest.raises(
            IdsOutOfRangeError,
            match=r"token_type_ids hold types outside 0\.\.0 \(type_vocab_size 1\): row 2: 1 \(first at position 6\)\. Leave token_type_ids out",
        ):
            model(input_ids=ids, token_type_ids=types)


@pytest.mark.parametrize("cls", CLASSES)
def test_explicit_positions_past_the_table_are_named(tiny_config, cls):
    """Before: a RuntimeError from gathering the token-type buffer ('index 130 is out of bounds for dimension 1')."""
    model = cls(tiny_config).eval()
    ids = good_ids(tiny_config, rows=2)
    n = tiny_config.max_position_embeddings
    with torch.no_grad():
        model(input_ids=ids, position_ids=torch.arange(n - 12, n).expand(2, -1))  # the last 12 positions: fine
        with pytest.raises(
            IdsOutOfRangeError,
            match=rf"position_ids hold positions outside 0\.\.{n - 1} \(max_position_embeddings {n}\): row 0: {n}, {n + 1} \(first at position 10\).*at most {n - 2} tokens",
        ):
            model(input_ids=ids, position_ids=torch.arange(n - 10, n + 2).expand(2, -1))
        with pytest.raises(IdsOutOfRangeError, match=r"row 0: -1 \(first at position 0\); row 1: -1"):
            model(input_ids=ids, position_ids=torch.full_like(ids, -1))


def test_other_index_errors_pass_unchanged(tiny_config, monkeypatch):
    """Only a diagnosed bad id becomes the clear error; anything else keeps its own message and type."""
    model = HeartBertModel(tiny_config).eval()

    def broken(*args, **kwargs):
        raise IndexError("something else")

    monkeypatch.setattr(model.encoder, "forward", broken)
    with pytest.raises(IndexError, match="^something else$") as caught:
        model(input_ids=good_ids(tiny_config))
    assert type(caught.value) is IndexError
