"""HeartBertTokenizer: alphabet round trip, no <unk> on real ECG, text vs raw paths, overflow, errors, save/load."""

import json

import numpy as np
import pytest

from heartbert_hf import HeartBertTokenizer
from heartbert_hf.quantization import level_alphabet


def test_all_level_characters_round_trip(tiny_tokenizer):
    alphabet = "".join(level_alphabet(100))
    for text in (alphabet, alphabet[::-1], "\x85\xa0\x7f" * 5):  # NEL, NBSP and DEL are levels too
        ids = tiny_tokenizer(text)["input_ids"]
        assert ids[0] == tiny_tokenizer.cls_token_id and ids[-1] == tiny_tokenizer.sep_token_id
        assert tiny_tokenizer.unk_token_id not in ids
        assert tiny_tokenizer.decode(ids, skip_special_tokens=True) == text


def test_no_unk_on_held_out_real_ecg(tiny_tokenizer, sample_signals):
    enc = tiny_tokenizer(ecg=sample_signals[2], sampling_rate=360)  # record 118 was not used to fit
    flat = [i for seq in enc["input_ids"] for i in seq]
    assert len(flat) > 1000 and tiny_tokenizer.unk_token_id not in flat


def test_text_and_signal_paths_give_the_same_ids(tiny_tokenizer, sample_signals):
    ecg = sample_signals[2][:, :9000]
    by_signal = tiny_tokenizer(ecg=ecg, sampling_rate=360, truncation=True, max_length=64)
    texts, index = tiny_tokenizer.ecg_to_text(ecg, 360)
    by_text = tiny_tokenizer(texts, truncation=True, max_length=64)
    assert by_signal["input_ids"] == by_text["input_ids"]
    assert len(index) == 6  # 2 leads x (2 full windows + a 1000-sample tail)


def test_long_windows_overflow_instead_of_truncating(tiny_tokenizer, sample_signals):
    ecg = [sample_signals[0][0, :4000], sample_signals[1][:, :8000]]
    enc = tiny_tokenizer(ecg=ecg, sampling_rate=360, truncation=True, max_length=64, padding=True, return_tensors="pt")
    n = enc["input_ids"].shape[0]
    assert enc["input_ids"].shape[1] == 64 and n > 6  # more sequences than windows: nothing cut
    assert set(enc["overflow_to_sample_mapping"].tolist()) == {0, 1}
    assert set(zip(enc["lead_index"].tolist(), enc["window_index"].tolist())) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    # every level of every window reaches some sequence
    texts, _ = tiny_tokenizer.ecg_to_text(ecg[0], 360)
    chunks = [
        tiny_tokenizer.decode(ids, skip_special_tokens=True) for ids, m in zip(enc["input_ids"].tolist(), enc["overflow_to_sample_mapping"].tolist()) if m == 0
    ]
    assert "".join(chunks) == texts[0]
    fixed = tiny_tokenizer(ecg=ecg[0], sampling_rate=360, truncation=True, max_length=64, padding="max_length")
    assert {len(ids) for ids in fixed["input_ids"]} == {64} and fixed["attention_mask"][-1][-1] == 0
    # options the fast window path does not handle go through the generic route, with the same ids
    offsets = tiny_tokenizer(ecg=ecg[0], sampling_rate=360, truncation=True, max_length=64, return_offsets_mapping=True)
    plain = tiny_tokenizer(ecg=ecg[0], sampling_rate=360, truncation=True, max_length=64)
    assert offsets["input_ids"] == plain["input_ids"] and "offset_mapping" in offsets


def test_decode_signal_reconstructs_the_quantized_window(tiny_tokenizer, sample_signals):
    texts, _ = tiny_tokenizer.ecg_to_text(sample_signals[0][0, :4000], 360)
    ids = tiny_tokenizer(texts[0])["input_ids"]
    values = tiny_tokenizer.decode_signal(ids)
    assert values.shape == (4000,)
    np.testing.assert_array_equal(values, tiny_tokenizer.quantizer.from_text(texts[0]))


def test_batched_ecg_with_one_rate_per_record(tiny_tokenizer, sample_signals):
    from scipy.signal import resample_poly

    at_500 = resample_poly(sample_signals[0][0, :3600], 25, 18)  # the same 10 s at 500 Hz
    enc = tiny_tokenizer(ecg=[sample_signals[0][0, :3600], at_500], sampling_rate=[360, 500])
    assert enc["overflow_to_sample_mapping"] == [0, 1]
    a, b = enc["input_ids"]
    assert abs(len(a) - len(b)) <= 0.1 * len(a)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda t, x: t(ecg=x), ValueError, "sampling_rate is required"),
        (lambda t, x: t(ecg=x, sampling_rate=-1), ValueError, "sampling_rate"),
        (lambda t, x: t(ecg=[x, "ABC"], sampling_rate=360), TypeError, "mix arrays and strings"),
        (lambda t, x: t(["ABC", x]), TypeError, "mix arrays and strings"),
        (lambda t, x: t(x), TypeError, "ecg="),
        (lambda t, x: t(ecg=np.stack([x, x, x])[None], sampling_rate=360), ValueError, "3-D"),
        (lambda t, x: t(ecg=np.stack([x, x]).T, sampling_rate=360), ValueError, "leads"),
        (lambda t, x: t(ecg=np.full(2000, 0.3), sampling_rate=360), ValueError, "flat"),
        (lambda t, x: t(ecg=x[:100], sampling_rate=360), ValueError, "too short"),
        (lambda t, x: t(ecg=np.where(np.arange(2000) == 7, np.nan, x[:2000]), sampling_rate=360), ValueError, "NaN"),
        (lambda t, x: t("AB~~~\u00ff"), ValueError, "outside"),
    ],
)
def test_bad_input_gives_clear_errors(tiny_tokenizer, sample_signals, call, error, match):
    with pytest.raises(error, match=match):
        call(tiny_tokenizer, sample_signals[0][0, :4000])


# the two input routes of every option check: level text, and ECG (its fast window path and, with an option
# only the generic route handles, HF's own encoding)
ROUTES = {
    "text": lambda t, x, **kw: t([t.ecg_to_text(x[:2000], 360)[0][0], "ABCDEFG"], **kw),
    "ecg": lambda t, x, **kw: t(ecg=x[:2000], sampling_rate=360, **kw),
    "ecg-generic": lambda t, x, **kw: t(ecg=x[:2000], sampling_rate=360, return_special_tokens_mask=True, **kw),
}


@pytest.mark.parametrize("route", ROUTES)
def test_pad_to_multiple_of_zero_pads_without_rounding(tiny_tokenizer, sample_signals, route):
    """As transformers' own tokenizers treat 0 (a RoBERTa tokenizer pads to the longest); the ECG path raised ZeroDivisionError."""
    call, x = ROUTES[route], sample_signals[0][0]
    for kw in ({"padding": True}, {"padding": True, "truncation": True, "max_length": 48}):
        zero, plain = call(tiny_tokenizer, x, pad_to_multiple_of=0, **kw), call(tiny_tokenizer, x, **kw)
        assert zero["input_ids"] == plain["input_ids"] and zero["attention_mask"] == plain["attention_mask"]
    longest = len(call(tiny_tokenizer, x, padding=True)["input_ids"][0])
    rounded = call(tiny_tokenizer, x, padding=True, pad_to_multiple_of=64)["input_ids"]
    assert {len(ids) for ids in rounded} == {64 * -(-longest // 64)}  # a positive multiple still rounds up


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "options, match",
    [
        ({"padding": True, "pad_to_multiple_of": -8}, r"^pad_to_multiple_of=-8: pass a positive integer \(e\.g\. 8\), or None / 0"),
        ({"padding": True, "pad_to_multiple_of": 3.5}, r"^pad_to_multiple_of=3\.5: pass a positive integer"),
        ({"truncation": "only_second", "max_length": 48}, r"^truncation='only_second' truncates the second sequence of a text pair.*Pass truncation=True"),
        ({"truncation": "only_second"}, r"^truncation='only_second'"),
        ({"truncation": True, "max_length": 48, "stride": -1}, r"^stride=-1: pass a non-negative integer"),
        (
            {"truncation": "bogus", "max_length": 48},
            r"bogus is not a valid TruncationStrategy, please select one of \['only_first', 'only_second', 'longest_first', 'do_not_truncate'\]",
        ),
    ],
)
def test_options_that_do_not_apply_name_the_allowed_values(tiny_tokenizer, sample_signals, route, options, match):
    """Before: HF's internal errors ('Truncation error: Second sequence not provided', OverflowError, TypeError)."""
    with pytest.raises(ValueError, match=match):
        ROUTES[route](tiny_tokenizer, sample_signals[0][0], **options)


def test_the_strategies_that_apply_to_one_sequence_agree(tiny_tokenizer, sample_signals):
    x = sample_signals[0][0]
    for route in ROUTES.values():
        ids = [route(tiny_tokenizer, x, truncation=t, max_length=48)["input_ids"] for t in (True, "longest_first", "only_first")]
        assert ids[0] == ids[1] == ids[2] and max(len(i) for i in ids[0]) == 48


def test_only_second_still_truncates_a_text_pair(tiny_tokenizer):
    enc = tiny_tokenizer("ABCDEFGH", "ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 4, truncation="only_second", max_length=40)
    first = tiny_tokenizer("ABCDEFGH")["input_ids"]  # <s> … </s>: kept whole in every overflow sequence
    assert len(enc["input_ids"]) > 1 and len(enc["input_ids"][0]) == 40
    assert all(len(ids) <= 40 and ids[: len(first)] == first for ids in enc["input_ids"])


def test_unfitted_quantizer_refuses_ecg():
    tok = HeartBertTokenizer()  # character-level, no quantizer: text only
    assert len(tok("ABC")["input_ids"]) == 5
    with pytest.raises(ValueError, match="not fitted"):
        tok(ecg=np.sin(np.arange(2000)), sampling_rate=360)


def test_save_load_restores_signal_parameters(tiny_tokenizer, tmp_path, sample_signals):
    from transformers import AutoTokenizer

    tiny_tokenizer.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert isinstance(again, HeartBertTokenizer)
    assert again.quantizer.to_dict() == tiny_tokenizer.quantizer.to_dict()
    assert (again.target_rate, again.window_size, again.scaling) == (360, 4000, tiny_tokenizer.scaling)
    x = sample_signals[2][:, :5000]
    assert again(ecg=x, sampling_rate=360)["input_ids"] == tiny_tokenizer(ecg=x, sampling_rate=360)["input_ids"]


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: (p / "quantizer.json").unlink(), "has no quantizer.json"),
        (lambda p: (p / "quantizer.json").write_text("{not json"), "corrupt"),
        (
            lambda p: (p / "quantizer.json").write_text(json.dumps({"method": "lloyd-max", "n_levels": 100, "thresholds": [0.5], "levels": [0.1, 0.9]})),
            "corrupt",
        ),
    ],
)
def test_missing_or_corrupt_quantizer_is_an_error(tiny_tokenizer, tmp_path, damage, match):
    tiny_tokenizer.save_pretrained(tmp_path)
    damage(tmp_path)
    with pytest.raises(ValueError, match=match):
        HeartBertTokenizer.from_pretrained(tmp_path)


def test_drop_flat_skips_lead_off_windows(tiny_tokenizer, sample_signals):
    x = sample_signals[0][:, :8000].copy()
    x[0, 4000:] = 0.0  # lead 0 goes flat in its second window
    with pytest.raises(ValueError, match="flat"):
        tiny_tokenizer(ecg=x, sampling_rate=360)
    enc = tiny_tokenizer(ecg=x, sampling_rate=360, drop_flat=True)
    assert set(zip(enc["lead_index"], enc["window_index"])) == {(0, 0), (1, 0), (1, 1)}
    empty = tiny_tokenizer(ecg=np.zeros(4000), sampling_rate=360, drop_flat=True)
    assert empty["input_ids"] == []


def test_batch_errors_name_the_item_lead_and_window(tiny_tokenizer, sample_signals):
    ok = sample_signals[0][:, :4000]
    flat = sample_signals[1][:, :8000].copy()
    flat[1, 4000:] = 0.7
    nan = sample_signals[1][:, :8000].copy()
    nan[0, 5000] = np.nan
    cases = [
        (ok[:, :100], ValueError, r"^ecg\[1\] .*too short"),
        (flat, ValueError, r"^ecg\[1\] .*lead 1, window 1 .*flat"),
        (nan, ValueError, r"^ecg\[1\] .*lead 0, sample 5000.*window 1"),
        (np.zeros((2, 3, 500)), ValueError, r"^ecg\[1\] .*3-D"),
        (np.ones(4000, dtype=bool), TypeError, r"^ecg\[1\] .*bool"),
    ]
    for bad, error, match in cases:
        with pytest.raises(error, match=match):
            tiny_tokenizer(ecg=[ok, bad], sampling_rate=360)
    with pytest.raises(ValueError, match=r"^ecg\[1\] .*sampling_rate"):
        tiny_tokenizer(ecg=[ok, ok], sampling_rate=[360, 0])
    with pytest.raises(ValueError, match=r"^lead 1, window 1 .*flat"):  # one ECG: no item prefix
        tiny_tokenizer(ecg=flat, sampling_rate=360)


def test_drop_flat_on_the_ecg_call_at_another_rate(tiny_tokenizer, sample_signals):
    x = sample_signals[0][:, :5556].copy()  # two 4000-sample windows once resampled from 250 Hz
    x[1] = 0.25  # a dead lead
    enc = tiny_tokenizer(ecg=[x, sample_signals[1][:, :3000]], sampling_rate=[250, 360], drop_flat=True)
    assert set(zip(enc["overflow_to_sample_mapping"], enc["lead_index"])) == {(0, 0), (1, 0), (1, 1)}


def test_special_tokens_are_accepted_inside_level_text(tiny_tokenizer):
    ids = tiny_tokenizer("ABC<mask>DEF")["input_ids"]
    assert ids.count(tiny_tokenizer.mask_token_id) == 1 and tiny_tokenizer.unk_token_id not in ids
    assert tiny_tokenizer.decode(ids, skip_special_tokens=True) == "ABCDEF"
    assert tiny_tokenizer("<s>AB</s>", add_special_tokens=False)["input_ids"][0] == tiny_tokenizer.bos_token_id
    with pytest.raises(ValueError, match=r"'<' at position 3"):
        tiny_tokenizer("ABC<mas>DEF")  # not a special token: outside the alphabet


def test_fill_mask_pipeline_on_level_text(tiny_tokenizer, tiny_config, sample_signals):
    import torch
    from transformers import pipeline

    from heartbert_hf import HeartBertForMaskedLM

    torch.manual_seed(0)
    model = HeartBertForMaskedLM(tiny_config).eval()
    text = tiny_tokenizer.ecg_to_text(sample_signals[0][0, :1000], 360)[0][0][:80]
    fill = pipeline("fill-mask", model=model, tokenizer=tiny_tokenizer, device="cpu")
    out = fill(text[:40] + tiny_tokenizer.mask_token + text[41:], top_k=3)
    assert len(out) == 3 and all(o["token"] != tiny_tokenizer.mask_token_id for o in out)
    assert all(o["sequence"].startswith(text[:40]) and o["sequence"].endswith(text[41:]) for o in out)
    assert out[0]["score"] >= out[1]["score"] >= out[2]["score"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("stride, max_length, extra", [(62, 64, {}), (63, 64, {}), (510, None, {}), (62, 64, {"add_special_tokens": False})])
def test_a_stride_without_room_is_a_value_error_not_a_rust_panic(tiny_tokenizer, sample_signals, route, stride, max_length, extra):
    """Before: stride == max_length - 2 made the backend panic (pyo3 PanicException, a BaseException) with Rust backtraces."""
    specials = 2  # counted with add_special_tokens=False too, as transformers' own check on level text does
    effective = max_length or tiny_tokenizer.model_max_length
    largest = effective - specials - 1
    with pytest.raises(ValueError, match=rf"^stride={stride} with max_length={effective}:.*the largest allowed stride is {largest}\b"):
        ROUTES[route](tiny_tokenizer, sample_signals[0][0], truncation=True, max_length=max_length, stride=stride, **extra)
    ok = ROUTES[route](tiny_tokenizer, sample_signals[0][0], truncation=True, max_length=max_length, stride=largest, **extra)
    assert max(len(ids) for ids in ok["input_ids"]) == effective


@pytest.mark.parametrize(
    "option",
    [{"is_split_into_words": True}, {"text_target": "ABC"}, {"text_pair_target": "ABC"}],
)
def test_text_only_options_are_refused_with_ecg_input(tiny_tokenizer, sample_signals, option):
    """Before: is_split_into_words=True turned 248 window sequences into 246 all labelled lead 0, window 0."""
    from heartbert_hf import HeartBertProcessor

    x = sample_signals[0][:, :10800]
    name = next(iter(option))
    for call in (tiny_tokenizer, HeartBertProcessor.from_tokenizer(tiny_tokenizer)):
        with pytest.raises(TypeError, match=rf"^{name} applies to level text only, not to ecg="):
            call(ecg=x, sampling_rate=360, **option)
    with pytest.raises(TypeError, match="text_pair applies to level text only"):
        HeartBertProcessor.from_tokenizer(tiny_tokenizer)(ecg=x, sampling_rate=360, text_pair="ABC")
