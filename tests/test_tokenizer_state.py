"""Tokenizer state (issue 10, kind 4): thread safety, explicit arguments over defaults, max_length bounds."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest


@pytest.fixture(scope="module")
def ecg(sample_signals):
    return sample_signals[0][:, :10800]  # 30 s, 2 leads: 6 windows


def test_one_tokenizer_shared_by_threads_gives_sequential_results(tiny_tokenizer, ecg):
    lengths = [16, 32, 64, 128]
    ref = {n: tiny_tokenizer(ecg=ecg, sampling_rate=360, truncation=True, max_length=n)["input_ids"] for n in lengths}
    texts, _ = tiny_tokenizer.ecg_to_text(ecg, 360)
    ref_text = {n: tiny_tokenizer(texts, truncation=True, max_length=n, stride=n // 4)["input_ids"] for n in lengths}

    def work(n):
        wrong = 0
        for i in range(12):
            if i % 2:
                wrong += tiny_tokenizer(texts, truncation=True, max_length=n, stride=n // 4)["input_ids"] != ref_text[n]
            else:
                wrong += tiny_tokenizer(ecg=ecg, sampling_rate=360, truncation=True, max_length=n)["input_ids"] != ref[n]
        return wrong

    for _ in range(2):
        with ThreadPoolExecutor(len(lengths)) as pool:
            assert list(pool.map(work, lengths)) == [0] * len(lengths)


@pytest.mark.parametrize("extra", [{}, {"return_special_tokens_mask": True}], ids=["fast-route", "generic-route"])
def test_explicit_no_overflow_gives_one_truncated_sequence_per_window(tiny_tokenizer, ecg, extra):
    texts, index = tiny_tokenizer.ecg_to_text(ecg, 360)
    kw = {"truncation": True, "max_length": 64, "return_overflowing_tokens": False}
    by_text = tiny_tokenizer(texts, **kw)
    by_ecg = tiny_tokenizer(ecg=ecg, sampling_rate=360, **extra, **kw)
    assert by_ecg["input_ids"] == by_text["input_ids"] and len(by_ecg["input_ids"]) == len(texts) == 6
    assert list(zip(by_ecg["lead_index"], by_ecg["window_index"])) == index
    assert by_ecg["overflow_to_sample_mapping"] == [0] * 6
    # the default still splits instead of cutting
    assert len(tiny_tokenizer(ecg=ecg, sampling_rate=360, truncation=True, max_length=64, **extra)["input_ids"]) > 6


@pytest.mark.parametrize("max_length, stride", [(8, 0), (8, 5), (16, 7), (64, 0), (64, 31), (130, 100)])
@pytest.mark.parametrize(
    "extra",
    [{}, {"padding": True}, {"padding": "max_length"}, {"return_special_tokens_mask": True}, {"return_overflowing_tokens": False}],
    ids=["plain", "pad-longest", "pad-max", "generic-route", "no-overflow"],
)
def test_no_sequence_exceeds_max_length(tiny_tokenizer, sample_signals, max_length, stride, extra):
    batch = [sample_signals[0][:, :5000], sample_signals[2][0, :4500]]
    enc = tiny_tokenizer(ecg=batch, sampling_rate=[360, 250], truncation=True, max_length=max_length, stride=stride, **extra)
    lengths = {len(ids) for ids in enc["input_ids"]}
    assert max(lengths) <= max_length
    if extra.get("padding") == "max_length":
        assert lengths == {max_length}
    texts = [t for x, fs in zip(batch, (360, 250)) for t in tiny_tokenizer.ecg_to_text(x, fs)[0]]
    assert max(len(ids) for ids in tiny_tokenizer(texts, truncation=True, max_length=max_length, stride=stride, **extra)["input_ids"]) <= max_length


def test_max_length_alone_bounds_ecg_sequences(tiny_tokenizer, ecg):
    plain = tiny_tokenizer(ecg=ecg, sampling_rate=360, max_length=32)  # HF: max_length alone truncates
    assert max(len(ids) for ids in plain["input_ids"]) <= 32 and len(plain["input_ids"]) > 6  # split, not cut
    padded = tiny_tokenizer(ecg=ecg, sampling_rate=360, max_length=32, padding="max_length")
    assert {len(ids) for ids in padded["input_ids"]} == {32}
    with pytest.raises(ValueError, match="truncation=False"):
        tiny_tokenizer(ecg=ecg, sampling_rate=360, max_length=32, truncation=False)


def test_pad_to_multiple_of_that_would_overrun_max_length_is_refused(tiny_tokenizer, ecg):
    with pytest.raises(ValueError, match="multiple of pad_to_multiple_of"):
        tiny_tokenizer(ecg=ecg, sampling_rate=360, truncation=True, max_length=50, padding=True, pad_to_multiple_of=16)


def test_calls_leave_no_truncation_or_padding_on_the_backend(tiny_tokenizer, ecg, tmp_path):
    texts, _ = tiny_tokenizer.ecg_to_text(ecg, 360)
    tiny_tokenizer(texts, truncation=True, max_length=16, padding="max_length")
    tiny_tokenizer(ecg=ecg, sampling_rate=360, truncation=True, max_length=16, return_offsets_mapping=True)
    assert tiny_tokenizer.backend_tokenizer.truncation is None and tiny_tokenizer.backend_tokenizer.padding is None
    tiny_tokenizer.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "tokenizer.json").read_text())
    assert saved["truncation"] is None and saved["padding"] is None


def test_tokenizer_still_pickles_and_hashes(tiny_tokenizer, ecg):
    import pickle

    from datasets.fingerprint import Hasher

    again = pickle.loads(pickle.dumps(tiny_tokenizer))
    assert again(ecg=ecg, sampling_rate=360)["input_ids"] == tiny_tokenizer(ecg=ecg, sampling_rate=360)["input_ids"]
    assert Hasher.hash(tiny_tokenizer) == Hasher.hash(again)
