"""Reading WFDB records through ``wfdb``, with checks on top (listing and downloading records:
:mod:`heartbert_hf.data.record_files`).

Every reader in :mod:`heartbert_hf.data` (the builders, ``heartbert embed``) goes through
:func:`read_record`. It returns what ``wfdb.rdrecord`` reads, in physical units, or refuses with a
``ValueError`` / ``FileNotFoundError`` that names the record, the file or signal, and what is wrong:

* **Checks before reading** (:func:`check_record_files`, also run by the builders before generating):
  a missing ``.hea``, ``.dat`` or segment header → ``FileNotFoundError`` naming the file; a signal
  file shorter than the header's sample count → ``ValueError("truncated ...")``; longer →
  ``ValueError("header/sample mismatch ...")``. Sizes are computed per storage format (8, 16, 24,
  32, 61, 80, 160: whole bytes; 212: 2 samples in 3 bytes; 310 / 311: 3 samples in 4 bytes),
  with every signal's samples per frame, the byte offset and the skew. FLAC files (508 / 516 / 524,
  read by ``wfdb`` through ``soundfile``) have no predictable size: their decoded sample count is
  checked instead.
* **Reading**: ``wfdb.rdrecord(..., smooth_frames=False)``, i.e. every sample of every signal in
  physical units, as ``wfdb`` computes them: the invalid-sample code of each format (-32768 in
  format 16, -2048 in 212, ...) is NaN. Then each signal's sample count and its checksum (the
  header's 16-bit sum of the digital samples, recovered exactly from the values) are checked.
  The tokenizer refuses NaN with an error naming the lead and sample, so invalid samples are never
  turned into voltages.
* **Multi-segment records** (a master header listing segment records, fixed or variable layout) are
  read whole: every segment is checked as above and ``wfdb`` joins them (NaN where a variable-layout
  segment lacks a signal, and over null ``~`` segments).
* **Multi-frequency records** (signals with more than one sample per frame): each signal's rate is
  ``fs x samples per frame``. The selected leads are returned at their own rate, sample for sample,
  when they share one; leads at different rates are refused (the tokenizer takes one rate per ECG),
  with the leads of each rate named so that ``leads=[...]`` picks one rate.
* **Headers without a sample count**: the length is inferred from the signal file size, as ``wfdb``
  does; every signal file of the record must then hold the same number of frames.
* **File names in another case** (``101.HEA``, ``101.DAT`` from FAT media or CD-ROMs): the header, the
  signal files it names, segment headers and annotation files are found without case
  (:mod:`heartbert_hf.data.record_case`); ``wfdb`` reads them through links under the names it
  expects, and messages name the real files.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .record_case import find_file, header_file, wfdb_names

_BYTES_PER_SAMPLE = {"8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2}
"""Storage formats with whole bytes per sample (WFDB signal(5))."""

_PACKED = {"212": (2, 3), "310": (3, 4), "311": (3, 4)}
"""Bit-packed formats: (samples, bytes) per block (WFDB signal(5))."""

FLAC_FORMATS = ("508", "516", "524")
"""FLAC-compressed formats (WFDB 10.7): read by ``wfdb`` through ``soundfile``."""

_INVALID_SAMPLE = {
    "80": -(2**7),
    "508": -(2**7),
    "310": -(2**9),
    "311": -(2**9),
    "212": -(2**11),
    "16": -(2**15),
    "61": -(2**15),
    "160": -(2**15),
    "516": -(2**15),
    "24": -(2**23),
    "524": -(2**23),
    "32": -(2**31),
}
"""The invalid-sample code of each format (WFDB signal(5); format 8 has none): ``wfdb`` reads it as NaN."""


@dataclass
class WfdbRecord:
    """One validated WFDB record.

    Attributes:
        record_id: the record name (e.g. ``"101"``).
        signal: physical units, float32, ``(leads, samples)``; NaN where the file holds the
            invalid-sample code (as ``wfdb.rdrecord``), or where a segment lacks the signal.
        sampling_rate: Hz, of the returned leads (``fs x samples per frame``). In a multi-frequency
            record this is a multiple of the header's frame rate ``fs``, in which WFDB annotation
            sample numbers usually count: scale them by ``sampling_rate / fs``.
        lead_names: one name per row of ``signal``.
        units: physical unit per lead.
        comments: the header's comment lines.
    """

    record_id: str
    signal: np.ndarray
    sampling_rate: float
    lead_names: list[str]
    units: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------- file checks
def _byte_range(fmt: str, n_samples: int) -> tuple[int, int]:
    """Fewest and most bytes a file of ``n_samples`` samples in ``fmt`` may hold (padding of the last block)."""
    if fmt in _BYTES_PER_SAMPLE:
        size = n_samples * _BYTES_PER_SAMPLE[fmt]
        return size, size
    per_block, block_bytes = _PACKED[fmt]
    whole = block_bytes * math.ceil(n_samples / per_block)
    if fmt == "310" and n_samples % 3 == 2:
        return whole, whole  # wfdb reads the whole last block
    return math.ceil(n_samples * block_bytes / per_block), whole


def _bytes_per_sample(fmt: str) -> float:
    if fmt in _BYTES_PER_SAMPLE:
        return float(_BYTES_PER_SAMPLE[fmt])
    per_block, block_bytes = _PACKED[fmt]
    return block_bytes / per_block


def record_path(path: str | os.PathLike) -> Path:
    """The record path without extension: ``data/101.hea`` or ``data/101.dat`` → ``data/101``, as the
    command-line tools take it (unless ``data/101.dat.hea`` exists: WFDB record names hold no dot).
    The extension is matched without case: ``data/101.HEA`` → ``data/101``."""
    path = Path(path)
    if path.suffix.lower() in (".hea", ".dat") and header_file(path) is None:
        return path.with_suffix("")
    return path


def read_header(path: str | os.PathLike):
    """Parse a record's header with ``wfdb.rdheader``: a ``wfdb.Record``, or a ``wfdb.MultiRecord``.

    ``path`` is the record path (an extension ``.hea`` / ``.dat`` is dropped); its header is
    ``<path>.hea`` in any case (``101.HEA``).

    Raises:
        FileNotFoundError: no ``<path>.hea`` in any case.
        ValueError: the header cannot be parsed, or declares no signals.
    """
    import wfdb

    path = record_path(path)
    hea = header_file(path)
    if hea is None:
        raise FileNotFoundError(f"WFDB header not found: {path.with_name(path.name + '.hea')}")
    try:
        with wfdb_names(path.parent, {path.name + ".hea": hea}) as folder:
            header = wfdb.rdheader(str(folder / path.name))
    except Exception as err:  # wfdb raises assorted errors on a malformed header
        raise ValueError(f"cannot parse WFDB header {hea}: {type(err).__name__}: {err}") from err
    if not header.n_sig:
        raise ValueError(f"WFDB header {hea} declares no signals.")
    _check_header_numbers(hea, header)
    return header


def _number(field: str) -> float | None:
    """The leading number of a header field such as ``360/1000(0)`` or ``200(-9517)/mV``; ``None`` if it is no number."""
    head = re.split(r"[/(]", field, maxsplit=1)[0]
    try:
        return float(head)
    except ValueError:
        return None


def _check_header_numbers(hea: Path, header) -> None:
    """Refuse a sampling frequency or ADC gain that ``wfdb.rdheader`` silently read as something else.

    ``wfdb``'s header grammar falls back to the WFDB defaults when a field does not match it: a
    sampling frequency of ``-360`` becomes 250 Hz, ``1e9`` becomes 1 Hz, a gain of ``nan`` becomes 200.
    The text of each field is compared with what was parsed (a gain of 0 is WFDB's "uncalibrated",
    read as 200 by the standard, and is accepted).
    """
    lines = [ln for ln in hea.read_text(errors="replace").splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    record = lines[0].split()
    if len(record) >= 3:
        written = _number(record[2])
        if written is None or not math.isfinite(written) or written <= 0 or not math.isclose(written, float(header.fs), rel_tol=1e-9):
            raise ValueError(
                f"WFDB header {hea}: the sampling frequency field {record[2]!r} is not a positive number wfdb can read "
                f"(wfdb reads it as {float(header.fs):g} Hz). Write it as a plain decimal number of Hz, e.g. 360 or 128.5."
            )
    if _is_multi_segment(header):
        return
    for i, line in enumerate(lines[1 : 1 + int(header.n_sig)]):
        fields = line.split()
        if len(fields) < 3:
            continue
        written = _number(fields[2])
        parsed = float(header.adc_gain[i])
        if written is None or not math.isfinite(written) or (written != 0 and not math.isclose(written, parsed, rel_tol=1e-9)):
            raise ValueError(
                f"WFDB header {hea}: signal {i} ({header.sig_name[i]!r}) has ADC gain field {fields[2]!r}, which is not a finite "
                f"number wfdb can read (wfdb reads it as {parsed:g}). Write the gain in ADC units per physical unit, e.g. 200/mV."
            )


def _is_multi_segment(header) -> bool:
    return getattr(header, "seg_name", None) is not None


def _check_signal_files(path: Path, header, files: dict[str, Path]) -> int | None:
    """Check a single-segment record's signal files against its header; return its sample count
    (frames), inferred from the file sizes when the header gives none (``None`` for FLAC files).
    Adds ``{name in the header: real file}`` of each signal file (found in any case) to ``files``."""
    hea = header_file(path) or path.with_name(path.name + ".hea")
    if header.sig_len == 0:
        raise ValueError(f"WFDB header {hea} declares 0 samples (sig_len=0).")
    by_file: dict[str, list[int]] = {}
    for ch, name in enumerate(header.file_name):
        by_file.setdefault(name, []).append(ch)
    max_skew = max([int(s or 0) for s in (header.skew or [])] + [0])
    inferred: dict[str, int] = {}
    for name, channels in by_file.items():
        dat = find_file(path.parent / name)
        if dat is None:
            raise FileNotFoundError(f"signal file {path.parent / name} of record {path.name} is missing (named in {hea}).")
        files[name] = dat
        formats = {str(header.fmt[ch]) for ch in channels}
        if len(formats) > 1:
            raise ValueError(f"signal file {dat} of record {path.name} mixes storage formats {sorted(formats)} ({hea}).")
        fmt = formats.pop()
        if fmt in FLAC_FORMATS:
            if header.sig_len is None:
                raise ValueError(
                    f"record {path.name}: FLAC signal file {dat.name} (format {fmt}) and no sample count in {hea.name}: "
                    "wfdb cannot infer the length of a compressed file; add the sample count to the header's record line."
                )
            continue  # compressed: the decoded sample count is checked after reading
        if fmt not in _BYTES_PER_SAMPLE and fmt not in _PACKED:
            supported = sorted([*_BYTES_PER_SAMPLE, *_PACKED, *FLAC_FORMATS], key=int)
            raise ValueError(f"record {path.name}: unsupported WFDB storage format {fmt!r} of {dat.name}; supported: {supported}.")
        samples_per_frame = sum(int(header.samps_per_frame[ch] or 1) for ch in channels)
        offset = int(header.byte_offset[channels[0]] or 0)
        size = dat.stat().st_size
        if header.sig_len is None:  # wfdb infers the length from the first file: whole frames
            inferred[name] = int((size - offset) / (_bytes_per_sample(fmt) * samples_per_frame))
            continue
        low, _ = _byte_range(fmt, header.sig_len * samples_per_frame)
        _, high = _byte_range(fmt, (header.sig_len + max_skew) * samples_per_frame)
        low, high = low + offset, high + offset
        frame_bytes = _bytes_per_sample(fmt) * samples_per_frame
        if size < low:
            raise ValueError(
                f"truncated signal file {dat}: {size} bytes, but header {hea.name} declares {header.sig_len} samples "
                f"x {len(channels)} signal(s) in format {fmt} = {low} bytes (the file holds ~{int((size - offset) / frame_bytes)} "
                "samples). Re-download the record."
            )
        if size > high:
            raise ValueError(
                f"header/sample mismatch for {dat}: it holds ~{int((size - offset) / frame_bytes)} samples per signal but "
                f"header {hea.name} declares sig_len={header.sig_len} ({high} bytes expected, {size} found)."
            )
    if header.sig_len is not None:
        return header.sig_len
    if len(set(inferred.values())) > 1:
        raise ValueError(
            f"header/sample mismatch for record {path.name}: {hea.name} gives no sample count and its signal files hold "
            f"different numbers of samples: {inferred}."
        )
    length = next(iter(inferred.values()))
    if length == 0:
        raise ValueError(f"record {path.name}: {hea.name} gives no sample count and its signal files hold no whole sample.")
    return length


def _check_segments(path: Path, header, files: dict[str, Path]) -> None:
    """Check every segment of a multi-segment record (headers, lengths, signal files); add each
    segment's header and signal files to ``files`` (see :func:`_check_signal_files`)."""
    hea = header_file(path) or path.with_name(path.name + ".hea")
    total = sum(int(n) for n in header.seg_len)
    if header.sig_len is None:
        raise ValueError(
            f"multi-segment header {hea} gives no total sample count (wfdb cannot read such a record); "
            f"add it to its record line (its segments hold {total} samples)."
        )
    if total != header.sig_len:
        raise ValueError(
            f"header/sample mismatch for multi-segment record {path.name}: its segments hold {total} samples, "
            f"the record line of {hea.name} declares {header.sig_len}."
        )
    for i, (name, length) in enumerate(zip(header.seg_name, header.seg_len)):
        if name == "~":
            if header.layout == "fixed":
                raise ValueError(
                    f"multi-segment record {path.name}: null segment '~' (segment {i}) in a fixed-layout record is not "
                    "supported (wfdb cannot read it); a variable layout (a layout header as segment 0) allows gaps."
                )
            continue
        seg_path = path.parent / name
        seg_hea = header_file(seg_path)
        if seg_hea is None:
            raise FileNotFoundError(f"segment header {seg_path}.hea of multi-segment record {path.name} is missing (named in {hea}).")
        seg = read_header(seg_path)
        files[name + ".hea"] = seg_hea
        if _is_multi_segment(seg):
            raise ValueError(f"segment {name} of record {path.name} is itself a multi-segment record: not a valid WFDB record.")
        if i == 0 and header.layout == "variable":
            continue  # the layout header: signal names only, no samples
        seg_len = _check_signal_files(seg_path, seg, files)
        if seg_len is not None and seg_len != int(length):
            raise ValueError(f"header/sample mismatch for segment {name} of record {path.name}: it holds {seg_len} samples, {hea.name} lists {int(length)}.")


def check_record_files(path: str | os.PathLike):
    """Validate a record's header(s) and signal file sizes without reading samples; return the header.

    Args:
        path: the record path without extension (e.g. ``data/mitdb/101``); a multi-segment record's
            master header checks each segment.

    Returns:
        The ``wfdb.Record`` (or ``wfdb.MultiRecord``) header.

    Raises:
        FileNotFoundError: the ``.hea``, a signal file or a segment header is missing.
        ValueError: an unparsable header, a signal file shorter (``truncated``) or longer
            (``header/sample mismatch``) than declared, an unsupported storage format, or a
            record layout ``wfdb`` cannot read.
    """
    return _check_files(record_path(path))[0]


def _check_files(path: Path) -> tuple[object, dict[str, Path]]:
    """:func:`check_record_files` of ``path`` (no extension): ``(header, files)``, ``files`` mapping each
    file name ``wfdb`` opens (relative to the record's folder) to the real file (found in any case)."""
    header = read_header(path)
    files = {path.name + ".hea": header_file(path)}
    if _is_multi_segment(header):
        _check_segments(path, header, files)
    else:
        _check_signal_files(path, header, files)
    return header, files


# ---------------------------------------------------------------------------------------- reading
def _verify_samples(where: str, rec, n_frames: int, verify_checksum: bool) -> None:
    """Check what wfdb read (``rec.e_p_signal``, one array per signal) against the header: each
    signal's sample count, and its checksum over the digital samples (recovered exactly as
    ``round(value x gain + baseline)``, the invalid-sample code where the value is NaN)."""
    checksums = rec.checksum or [None] * rec.n_sig
    for k, values in enumerate(rec.e_p_signal):
        name = rec.sig_name[k]
        want = n_frames * int(rec.samps_per_frame[k] or 1)
        if len(values) < want:
            raise ValueError(f"truncated record {where}: signal {name!r} holds {len(values)} samples, the header declares {want}.")
        if len(values) > want:
            raise ValueError(f"header/sample mismatch for record {where}, signal {name!r}: {len(values)} samples read, {want} declared.")
        if not verify_checksum or checksums[k] is None:
            continue
        digital = np.round(values * float(rec.adc_gain[k]) + float(rec.baseline[k]))
        invalid = np.isnan(digital)
        if invalid.any():
            digital[invalid] = _INVALID_SAMPLE.get(str(rec.fmt[k]), 0)
        got = int(digital.astype(np.int64).sum()) % 65536
        if got != int(checksums[k]) % 65536:
            raise ValueError(
                f"header/sample mismatch for record {where}, signal {name!r}: sample checksum {got} != header "
                f"checksum {int(checksums[k]) % 65536} (corrupt or altered signal file)."
            )


def _rdrecord(path: Path, where: str | os.PathLike | None = None, **kwargs):
    """``wfdb.rdrecord`` of ``path`` in physical units, every sample of every signal (``e_p_signal``),
    float64. Errors name ``where`` (the real record, when ``path`` is a link to it), else ``path``."""
    import wfdb

    try:
        return wfdb.rdrecord(str(path), physical=True, smooth_frames=False, return_res=64, **kwargs)
    except Exception as err:  # wfdb/soundfile raise assorted errors on damaged files
        raise ValueError(f"wfdb cannot read record {where or path}: {type(err).__name__}: {err} (truncated or corrupt signal file?)") from err


def _check_read(where: str, path: Path, rec, n_frames: int, verify_checksum: bool, channels: list[int] | None = None) -> None:
    """:func:`_verify_samples` on what wfdb read from ``path``. A skewed signal's checksum covers its samples
    as stored, before the skew shifts them: those are read again with ``ignore_skew=True``."""
    skewed = any(int(s or 0) for s in (rec.skew or []))
    _verify_samples(where, rec, n_frames, verify_checksum and not skewed)
    if verify_checksum and skewed:
        _verify_samples(where, _rdrecord(path, where, channels=channels, ignore_skew=True), n_frames, True)


def _read_single_segment(path: Path, wfdb_path: Path, header, channels: list[int], verify_checksum: bool):
    """Read ``channels`` of single-segment record ``path`` (``wfdb`` opens ``wfdb_path``, the same files
    under the names it expects): a ``wfdb.Record`` with ``e_p_signal``."""
    rec = _rdrecord(wfdb_path, path, channels=channels)
    n_frames = int(rec.sig_len if header.sig_len is None else header.sig_len)
    _check_read(str(path), wfdb_path, rec, n_frames, verify_checksum, channels)
    return rec


def _read_multi_segment(path: Path, wfdb_path: Path, verify_checksum: bool):
    """Read a whole multi-segment record: a ``wfdb.Record`` with ``e_p_signal``, joined as ``wfdb.rdrecord``
    does (``wfdb`` opens ``wfdb_path``: see :func:`_read_single_segment`)."""
    multi = _rdrecord(wfdb_path, path, m2s=False)
    for seg, name, length in zip(multi.segments, multi.seg_name, multi.seg_len):
        if seg is not None and int(length) > 0:  # not a null segment nor the layout header
            _check_read(f"{path} (segment {name})", wfdb_path.parent / name, seg, int(length), verify_checksum)
    try:
        return multi.multi_to_single(physical=True, expanded=True, return_res=64)
    except Exception as err:
        raise ValueError(f"wfdb cannot join the segments of record {path}: {type(err).__name__}: {err}") from err


def _lead_indices(record_name: str, names: list[str], leads: list[str | int] | None) -> list[int]:
    """The signal indices ``leads`` selects (see :func:`read_record`)."""
    if leads is None:
        return list(range(len(names)))
    if isinstance(leads, (str, int)):
        raise TypeError(f"leads must be a list of lead names or signal indices, got {leads!r}.")
    if not leads:
        raise ValueError(f"leads=[] selects no lead of record {record_name}; its leads are {names} (leads=None keeps all).")
    indices, missing = [], []
    for lead in leads:
        if isinstance(lead, (int, np.integer)) and not isinstance(lead, bool):
            (indices if 0 <= lead < len(names) else missing).append(int(lead))
            continue
        matches = [i for i, name in enumerate(names) if name == lead]
        if len(matches) > 1:
            raise ValueError(
                f"record {record_name} names {len(matches)} signals {lead!r} (signals {', '.join(map(str, matches))}): select one by its index, "
                f"e.g. leads=[{matches[1]}] (--lead {matches[1]} / --leads {matches[1]} on the command line)."
            )
        if matches:
            indices.append(matches[0])
        elif isinstance(lead, str) and lead.isdigit() and int(lead) < len(names):  # an index given as text ("--leads 1")
            indices.append(int(lead))
        else:
            missing.append(lead)
    if missing:
        raise ValueError(f"record {record_name} has no lead(s) {missing}; its leads are {names} (a name, or a signal index from 0).")
    repeated = sorted({names[i] if names.count(names[i]) == 1 else i for i in indices if indices.count(i) > 1}, key=str)
    if repeated:
        raise ValueError(f"leads={list(leads)} names lead(s) {repeated} of record {record_name} more than once; name each lead once.")
    return indices


def read_record(
    path: str | os.PathLike,
    leads: list[str] | None = None,
    verify_checksum: bool = True,
) -> WfdbRecord:
    """Read and validate one WFDB record (see the module doc for what is checked and supported).

    Args:
        path: the record path, without extension or ending in ``.hea`` / ``.dat`` (a single-segment
            record or a multi-segment master; its files are found in any case, ``101.HEA``); or an
            EDF / EDF+ file ``*.edf`` (:mod:`heartbert_hf.data.edf_io`).
        leads: leads (signals) to keep, in this order, each once; ``None`` keeps all. Each is a signal
            name, or a signal index from 0 (an ``int``, or digits that name no signal: ``"1"``). A
            signal the header leaves unnamed is named by its index, ``"0"``, ``"1"``, ...
            (:func:`heartbert_hf.data.lead_units.signal_names`). A name that several signals share
            (Holter records that name every signal ``ECG``) is refused: select those by index.
        verify_checksum: compare each signal's 16-bit sample sum with the header checksum.

    Returns:
        A :class:`WfdbRecord`: ``signal`` float32 ``(leads, samples)`` in physical units, equal to
        ``wfdb.rdrecord(path, smooth_frames=False).e_p_signal`` (cast to float32), NaN at invalid
        samples; ``sampling_rate`` = ``fs x samples per frame`` of the leads.

    Raises:
        FileNotFoundError: a header, signal file or segment header is missing.
        ValueError: see :func:`check_record_files`; also an unknown or repeated lead, a name several signals share, a sample count or
            checksum that differs from the header (``truncated`` / ``header/sample mismatch``),
            a file ``wfdb`` cannot decode, or selected leads at different sampling rates.
        TypeError: ``leads`` is a string.
    """
    from .lead_units import signal_names

    if Path(path).suffix.lower() == ".edf":
        from .edf_io import read_edf_record

        return read_edf_record(path, leads, _lead_indices)
    path = record_path(path)
    header, files = _check_files(path)
    if _is_multi_segment(header):
        with wfdb_names(path.parent, files) as folder:
            rec = _read_multi_segment(path, folder / path.name, verify_checksum)
        keep = _lead_indices(path.name, signal_names(rec.sig_name), leads)
        names = [signal_names(rec.sig_name)[i] for i in keep]
    else:
        channels = _lead_indices(path.name, signal_names(header.sig_name), leads)
        with wfdb_names(path.parent, files) as folder:
            rec = _read_single_segment(path, folder / path.name, header, channels, verify_checksum)
        keep = list(range(len(channels)))
        names = [signal_names(header.sig_name)[c] for c in channels]  # an unnamed signal keeps its index in the header
    per_frame = [int(rec.samps_per_frame[i] or 1) for i in keep]
    if len(set(per_frame)) > 1:
        by_rate: dict[float, list[str]] = {}
        for name, spf in zip(names, per_frame):
            by_rate.setdefault(float(rec.fs) * spf, []).append(name)
        rates = "; ".join(f"{rate:g} Hz: {lead_list}" for rate, lead_list in sorted(by_rate.items()))
        raise ValueError(
            f"record {path.name} is multi-frequency and the selected leads have different sampling rates ({rates}). "
            "HeartBert takes one rate per ECG: pass leads=[...] (--leads on the command line) with leads of one rate "
            f"(e.g. leads={by_rate[max(by_rate)]})."
        )
    signal = np.stack([np.asarray(rec.e_p_signal[i], dtype=np.float32) for i in keep])
    units = list(rec.units) if getattr(rec, "units", None) else [""] * len(rec.sig_name)
    return WfdbRecord(
        record_id=path.name,
        signal=np.ascontiguousarray(signal),
        sampling_rate=float(rec.fs) * per_frame[0],
        lead_names=names,
        units=[units[i] or "" for i in keep],
        comments=list(header.comments or []),
    )


def annotation_file(path: str | os.PathLike, extension: str) -> Path | None:
    """The annotation file of record ``path`` (no extension) for annotator ``extension``, found in any case
    (``101.ATR``, as copied from FAT media or CD-ROMs); ``None`` when there is none (or several differing in case only)."""
    path = Path(path)
    return find_file(path.with_name(f"{path.name}.{extension}"))


def read_annotation(path: str | os.PathLike, extension: str = "atr"):
    """Read a WFDB annotation file (``wfdb.rdann``) with a clear error when it is missing.

    ``path`` is the record path without extension; ``extension`` the annotator (``"atr"``, ...), found in
    any case (``101.ATR``, as copied from FAT media or CD-ROMs: the returned ``extension`` says which).
    """
    import wfdb

    path = Path(path)
    ann_file = annotation_file(path, extension)
    if ann_file is None:
        raise FileNotFoundError(f"annotation file {path.with_name(f'{path.name}.{extension}')} is missing.")
    extension = ann_file.name[len(path.name) + 1 :]
    try:  # the record part of the name as the file spells it (REC.ATR for record path rec)
        ann = wfdb.rdann(str(ann_file.with_name(ann_file.name[: len(path.name)])), extension)
    except Exception as err:
        raise ValueError(f"cannot read annotation file {ann_file}: {err}") from err
    ann.aux_note = [note.rstrip("\x00").strip() for note in (ann.aux_note or [""] * len(ann.sample))]
    return ann
