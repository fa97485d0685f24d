"""EDF+ files (the ``EDF Annotations`` signal every EDF+ file carries) read as their ECG: the annotation
signal is left out, each lead keeps its own rate, and values follow the EDF specification. Also folders
Every file is written here, in tmp_path, by a small EDF writer."""

from __future__ import annotations

import numpy as np
import pytest
from conftest_data import edf_leads, write_edf

from heartbert_hf.data.wfdb_io import read_record

ANN = "EDF Annotations"


@pytest.mark.parametrize("ann_spr", [30, 50])
@pytest.mark.parametrize("ann_at", [2, 1])
def test_an_edf_plus_file_reads_its_leads_at_their_rate_without_the_annotation_signal(tmp_path, capsys, ann_spr, ann_at):
    """Before: wfdb's EDF reader took the annotation signal as a sampled one (gcd rate, frame layout): "could not
    broadcast input array", or the ECG refused as "sampled faster than the file's lowest rate"; and it printed
    "*** This may be an EDF+ Annotation file ..." on stdout."""
    mlii, v1 = edf_leads(4)
    signals = [mlii, v1]
    signals.insert(ann_at, dict(label=ANN, spr=ann_spr))
    rec = read_record(write_edf(tmp_path / "holter.edf", signals, 4))
    assert rec.record_id == "holter" and rec.lead_names == ["ECG MLII", "ECG V1"] and rec.units == ["mV", "mV"]
    assert rec.sampling_rate == 250.0 and rec.signal.shape == (2, 1000) and rec.signal.dtype == np.float32
    np.testing.assert_allclose(rec.signal[0], mlii["digital"] / 200, atol=1e-6)
    np.testing.assert_allclose(rec.signal[1], v1["digital"] * 0.002 - 1, atol=1e-6)
    by_name = read_record(tmp_path / "holter.edf", leads=["ECG V1"])
    by_index = read_record(tmp_path / "holter.edf", leads=[1])  # indices count the waveform signals
    assert np.array_equal(by_name.signal, rec.signal[1:]) and np.array_equal(by_index.signal, rec.signal[1:])
    assert capsys.readouterr().out == ""


def test_edf_plus_values_match_the_same_file_without_the_annotation_signal(tmp_path):
    """The plain-EDF copy is read by wfdb's EDF reader, whose baseline is int(dmax - pmax x gain + 1): within one ADC step."""
    mlii, v1 = edf_leads(3)
    plus = read_record(write_edf(tmp_path / "plus.edf", [mlii, v1, dict(label=ANN, spr=30)], 3))
    plain = read_record(write_edf(tmp_path / "plain.edf", [mlii, v1], 3, variant=""))
    assert plus.lead_names == plain.lead_names and plus.units == plain.units and plus.sampling_rate == plain.sampling_rate
    assert np.abs(plus.signal[0] - plain.signal[0]).max() <= 1 / 200 + 1e-6 and np.abs(plus.signal[1] - plain.signal[1]).max() <= 0.002 + 1e-6


def test_edf_plus_signals_at_different_rates_are_read_one_rate_at_a_time(tmp_path):
    mlii, _ = edf_leads(2)
    resp = dict(label="Resp chest", unit="V", spr=25, dmin=-100, dmax=100, pmin=-1, pmax=1, digital=np.arange(50) - 25)
    path = write_edf(tmp_path / "psg.edf", [mlii, resp, dict(label=ANN, spr=60)], 2, seconds=2.0)
    with pytest.raises(ValueError, match=r"different sampling rates \(12.5 Hz: \['Resp chest'\]; 125 Hz: \['ECG MLII'\]\)"):
        read_record(path)
    ecg = read_record(path, leads=["ECG MLII"])
    assert ecg.sampling_rate == 125.0 and np.allclose(ecg.signal[0], mlii["digital"][:500] / 200, atol=1e-6)
    got = read_record(path, leads=["Resp chest"])
    assert got.sampling_rate == 12.5 and got.units == ["V"] and np.allclose(got.signal[0], (np.arange(50) - 25) / 100, atol=1e-6)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(variant="EDF+D"), "EDF\\+D \\(an interrupted recording"),
        (dict(only_annotations=True), "holds only EDF\\+ annotations"),
        (dict(declared=5), "truncated EDF file .* declares 5 data records"),
        (dict(declared=1), "header/sample mismatch for EDF file .* declares 1 data records"),
    ],
)
def test_unreadable_edf_plus_files_are_refused_with_the_reason(tmp_path, change, match):
    mlii, _ = edf_leads(2)
    signals = [dict(label=ANN, spr=30)] if change.pop("only_annotations", False) else [mlii, dict(label=ANN, spr=30)]
    path = write_edf(tmp_path / "bad.edf", signals, 2, **change)
    with pytest.raises(ValueError, match=match):
        read_record(path)


def test_an_edf_plus_file_of_unknown_length_is_read_to_its_end(tmp_path):
    """``-1`` data records (a file closed before its header was updated): the length comes from the file size."""
    mlii, _ = edf_leads(3)
    rec = read_record(write_edf(tmp_path / "live.edf", [mlii, dict(label=ANN, spr=30)], 3, declared=-1))
    assert rec.signal.shape == (1, 750) and np.allclose(rec.signal[0], mlii["digital"] / 200, atol=1e-6)
