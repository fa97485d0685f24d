"""Input types (issue 10, kind 3): numpy of any dtype, torch tensors, pandas, nested lists give the ids of
the equivalent numpy array, or a clear TypeError/ValueError."""

import numpy as np
import pytest

from heartbert_hf import ecg_signal as S

KEYS = ("input_ids", "lead_index", "window_index", "overflow_to_sample_mapping")


def same_encoding(a, b):
    return all(list(a[k]) == list(b[k]) for k in KEYS)


@pytest.fixture(scope="module")
def ecg(sample_signals):
    return sample_signals[0][:, :10800].copy()  # 30 s, 2 leads, mV


def call(tok, x, **kw):
    return tok(ecg=x, sampling_rate=360, truncation=True, max_length=64, **kw)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint16", "uint32", "float16", "float32", "float64", "longdouble"])
def test_every_numeric_dtype_gives_the_float64_ids(tiny_tokenizer, ecg, dtype):
    counts = np.round(ecg * 50) + (60 if dtype.startswith("u") else 0)  # fits int8 and unsigned types
    x = counts.astype(dtype)
    assert same_encoding(call(tiny_tokenizer, x), call(tiny_tokenizer, x.astype(np.float64)))


@pytest.mark.parametrize(
    "x, match",
    [
        (np.ones((2, 1000), dtype=bool), "bool"),
        (np.ones((2, 1000), dtype=complex), "numeric"),
        (np.full(1000, "1.5"), "numeric"),
        (np.arange(1000).astype("datetime64[s]"), "numeric"),
    ],
)
def test_non_numeric_dtypes_are_refused(tiny_tokenizer, x, match):
    with pytest.raises(TypeError, match=match):
        tiny_tokenizer(ecg=x, sampling_rate=360)


def test_torch_tensors_read_as_the_numpy_array(tiny_tokenizer, ecg):
    torch = pytest.importorskip("torch")
    ref = call(tiny_tokenizer, ecg)
    two_d = call(tiny_tokenizer, torch.tensor(ecg))  # one 2-lead ECG, not a batch of two
    assert same_encoding(two_d, ref) and set(two_d["lead_index"]) == {0, 1} and set(two_d["overflow_to_sample_mapping"]) == {0}
    assert same_encoding(call(tiny_tokenizer, torch.tensor(ecg[0])), call(tiny_tokenizer, ecg[0]))
    f32 = torch.tensor(ecg, dtype=torch.float32, requires_grad=True)
    assert same_encoding(call(tiny_tokenizer, f32), call(tiny_tokenizer, ecg.astype(np.float32)))
    bf16 = torch.tensor(ecg).to(torch.bfloat16)
    assert same_encoding(call(tiny_tokenizer, bf16), call(tiny_tokenizer, bf16.float().numpy()))
    batch = call(tiny_tokenizer, [torch.tensor(ecg), torch.tensor(ecg[1])])
    assert same_encoding(batch, call(tiny_tokenizer, [ecg, ecg[1]]))
    with pytest.raises(TypeError, match="bool"):
        tiny_tokenizer(ecg=torch.ones(2, 1000, dtype=torch.bool), sampling_rate=360)
    with pytest.raises(ValueError, match="3-D"):
        tiny_tokenizer(ecg=torch.tensor(ecg)[None], sampling_rate=360)


@pytest.mark.gpu
def test_cuda_tensor_reads_as_the_numpy_array(tiny_tokenizer, ecg):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    assert same_encoding(call(tiny_tokenizer, torch.tensor(ecg, device="cuda")), call(tiny_tokenizer, ecg))


def test_dataframe_columns_are_leads(tiny_tokenizer, ecg):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(ecg.T, columns=["MLII", "V1"])  # as read from a CSV: rows are samples
    assert same_encoding(call(tiny_tokenizer, df), call(tiny_tokenizer, ecg))
    assert same_encoding(call(tiny_tokenizer, df["V1"]), call(tiny_tokenizer, ecg[1]))
    assert same_encoding(call(tiny_tokenizer, [df, df["MLII"]]), call(tiny_tokenizer, [ecg, ecg[0]]))
    as_int = pd.DataFrame(np.round(ecg.T * 200).astype("int16"), columns=["MLII", "V1"])
    assert same_encoding(call(tiny_tokenizer, as_int), call(tiny_tokenizer, np.round(ecg * 200)))


def test_transposed_or_non_numeric_dataframe_is_refused_with_its_shape(tiny_tokenizer, ecg):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(ecg.T, columns=["MLII", "V1"])
    with pytest.raises(ValueError, match=r"DataFrame of shape \(2, 10800\).*one column per lead"):
        tiny_tokenizer(ecg=df.T, sampling_rate=360)
    labelled = df.assign(label=["N"] * len(df))
    with pytest.raises(TypeError, match="column 'label'"):
        tiny_tokenizer(ecg=labelled, sampling_rate=360)
    with_gap = df.astype("Float64")
    with_gap.iloc[7, 1] = pd.NA
    with pytest.raises(ValueError, match="NaN"):
        tiny_tokenizer(ecg=with_gap, sampling_rate=360)


def test_nested_lists_read_as_np_asarray(tiny_tokenizer, ecg):
    assert same_encoding(call(tiny_tokenizer, ecg.tolist()), call(tiny_tokenizer, ecg))  # one 2-lead ECG
    assert same_encoding(call(tiny_tokenizer, ecg[0].tolist()), call(tiny_tokenizer, ecg[0]))
    assert same_encoding(call(tiny_tokenizer, [ecg.tolist(), ecg[1:].tolist()]), call(tiny_tokenizer, [ecg, ecg[1:]]))
    ints = np.round(ecg * 200).astype(int)
    assert same_encoding(call(tiny_tokenizer, ints.tolist()), call(tiny_tokenizer, ints.astype(float)))
    with pytest.raises(ValueError, match="different lengths"):
        tiny_tokenizer(ecg=[ecg[0].tolist(), ecg[1, :5000].tolist()], sampling_rate=360)
    with pytest.raises(TypeError, match="bool"):
        tiny_tokenizer(ecg=[True, False] * 500, sampling_rate=360)


def test_signal_module_converts_without_importing_torch_or_pandas():
    import subprocess
    import sys

    code = (  # the module file alone, as it travels with remote code (the package __init__ imports torch)
        "import importlib.util, sys, numpy as np; "
        "spec = importlib.util.spec_from_file_location('ecg_signal', sys.argv[1]); "
        "S = importlib.util.module_from_spec(spec); spec.loader.exec_module(S); "
        "S.prepare_windows(np.sin(np.arange(2000) / 9.0), 500); "
        "print(sorted(m for m in ('torch', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code, S.__file__], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_to_array_reports_what_it_refuses():
    with pytest.raises(TypeError, match="numeric"):
        S.to_array("ABC")
    with pytest.raises(TypeError, match="numeric"):
        S.to_array([{"a": 1}, {"b": 2}])
    assert S.to_array(np.array([1, 2, 3], dtype=object)).dtype == np.float64


# ---------------------------------------------------------------------------------------------- probe findings


def test_masked_samples_of_a_masked_array_are_refused_as_missing(tiny_tokenizer, ecg):
    """Before: np.asarray dropped the mask and the fill value (-163.84 mV) was tokenized as signal."""
    mask = np.zeros(ecg.shape, dtype=bool)
    mask[0, 3600:3960] = True
    masked = np.ma.masked_array(np.where(mask, -163.84, ecg), mask=mask)
    with pytest.raises(ValueError, match=r"NaN or inf \(first at lead 0, sample 3600, 10.000 s, in window 0\).*masked"):
        call(tiny_tokenizer, masked)
    # the streaming reader (inference.embed_ecg) used to pass ndarray subclasses through unconverted
    from heartbert_hf.window_tokens import iter_window_tokens

    with pytest.raises(ValueError, match=r"lead 0, sample 3600"):
        list(iter_window_tokens(tiny_tokenizer, masked, 360))
    unmasked = np.ma.masked_array(ecg, mask=np.zeros(ecg.shape, dtype=bool))  # nothing masked: the data itself
    assert same_encoding(call(tiny_tokenizer, unmasked), call(tiny_tokenizer, ecg))


def test_torch_masked_tensor_masked_samples_are_missing(tiny_tokenizer, ecg):
    torch = pytest.importorskip("torch")
    masked_tensor = pytest.importorskip("torch.masked").masked_tensor
    valid = torch.ones(ecg.shape, dtype=torch.bool)
    valid[1, 100] = False
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MaskedTensor is a prototype and says so
        x = masked_tensor(torch.tensor(ecg), valid)
    with pytest.raises(ValueError, match=r"first at lead 1, sample 100\b"):
        call(tiny_tokenizer, x)


def test_zero_d_and_one_d_tensor_sampling_rates_work_like_numpy(tiny_tokenizer, ecg):
    """A torch-formatted dataset gives the rate as tensor(360.) per row and tensor([360., 360.]) per slice."""
    torch = pytest.importorskip("torch")
    ref = call(tiny_tokenizer, ecg)
    assert same_encoding(tiny_tokenizer(ecg=ecg, sampling_rate=torch.tensor(360.0), truncation=True, max_length=64), ref)
    batch = tiny_tokenizer(ecg=[ecg, ecg[:, :5000]], sampling_rate=torch.tensor([360.0, 360.0]), truncation=True, max_length=64)
    ref_batch = tiny_tokenizer(ecg=[ecg, ecg[:, :5000]], sampling_rate=[360.0, 360.0], truncation=True, max_length=64)
    assert same_encoding(batch, ref_batch)
    assert S.check_sampling_rate(torch.tensor(500)) == 500.0
    with pytest.raises(TypeError, match="must be a number"):
        S.check_sampling_rate(torch.tensor(True))
    with pytest.raises(ValueError, match="got 3 sampling rates for 2 ECGs"):
        tiny_tokenizer(ecg=[ecg, ecg], sampling_rate=torch.tensor([360.0, 360.0, 360.0]))


def test_datasets_column_is_a_batch_for_ecg_and_sampling_rate(tiny_tokenizer, ecg):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"signal": [ecg.astype(np.float32), ecg[:, :5000].astype(np.float32)], "sampling_rate": [360.0, 360.0]})
    ref = tiny_tokenizer(ecg=[np.asarray(x) for x in ds["signal"]], sampling_rate=[360.0, 360.0], truncation=True, max_length=64)
    assert max(ref["overflow_to_sample_mapping"]) == 1
    assert same_encoding(tiny_tokenizer(ecg=ds["signal"], sampling_rate=ds["sampling_rate"], truncation=True, max_length=64), ref)
    one_lead = datasets.Dataset.from_dict({"signal": [ecg[0], ecg[1]], "sampling_rate": [360, 360]})  # rows are 1-D lists
    enc = tiny_tokenizer(ecg=one_lead["signal"], sampling_rate=one_lead["sampling_rate"], truncation=True, max_length=64)
    assert sorted(set(enc["overflow_to_sample_mapping"])) == [0, 1] and set(enc["lead_index"]) == {0}


def test_numpy_object_array_of_ecgs_is_a_batch(tiny_tokenizer, ecg):
    """datasets' numpy format gives ECGs of different lengths as a 1-D object array of arrays."""
    batch = np.empty(2, dtype=object)
    batch[0], batch[1] = ecg, ecg[:, :5000]
    ref = tiny_tokenizer(ecg=[ecg, ecg[:, :5000]], sampling_rate=360, truncation=True, max_length=64)
    assert same_encoding(tiny_tokenizer(ecg=batch, sampling_rate=np.array([360.0, 360.0], dtype=np.float32), truncation=True, max_length=64), ref)
    assert same_encoding(tiny_tokenizer(ecg=batch, sampling_rate=360, truncation=True, max_length=64), ref)
    pd = pytest.importorskip("pandas")  # df["signal"] of a table holding one array per row: the same batch
    assert same_encoding(tiny_tokenizer(ecg=pd.Series(list(batch)), sampling_rate=pd.Series([360, 360]), truncation=True, max_length=64), ref)
    from heartbert_hf.window_tokens import iter_window_tokens

    with pytest.raises(TypeError, match="list of 2 ECGs|2 ECGs"):
        list(iter_window_tokens(tiny_tokenizer, batch, 360))
