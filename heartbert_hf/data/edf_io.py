"""Reading an EDF or EDF+ file (European Data Format) as a :class:`~heartbert_hf.data.wfdb_io.WfdbRecord`.

:func:`heartbert_hf.data.wfdb_io.read_record` hands ``*.edf`` paths (any case) here, so every reader
of the package (``heartbert embed``, ``heartbert plot``, ``heartbert classify-beats`` through
``read_record``) takes EDF files.

* **Plain EDF** (no annotation signal) is read by ``wfdb``'s EDF reader,
  ``wfdb.io.convert.edf.read_edf``, as before. Signals sampled faster than the file's lowest rate are
  refused (see :func:`read_edf_record`).
* **EDF+** files carry an ``EDF Annotations`` signal (text, not samples: the EDF+ specification
  requires one in every EDF+ file). ``wfdb``'s reader counts it as a sampled signal when it works out
  the frame rate and layout, and fails or misreads the file. Such files are read here from the
  header and data records (:func:`read_edf_header`, numpy): the annotation signals are left out, every
  other signal keeps its own rate, ``samples per data record / record duration``, and its values
  follow the EDF specification, ``physical = (digital - digital_min) * (physical_max - physical_min) /
  (digital_max - digital_min) + physical_min``. The annotations themselves are not read.
  EDF+D files (interrupted recordings) are refused: their data records are not contiguous in time.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ANNOTATIONS_LABEL = "EDF Annotations"
"""The label of an EDF+ annotation signal (EDF+ specification, section 2.2)."""

_SIGNAL_FIELDS = (("label", 16), ("transducer", 80), ("dimension", 8), ("physical_min", 8), ("physical_max", 8))
_SIGNAL_FIELDS += (("digital_min", 8), ("digital_max", 8), ("prefiltering", 80), ("samples_per_record", 8), ("reserved", 32))
_LIMITS = ("physical_min", "physical_max", "digital_min", "digital_max")


@dataclass
class EdfHeader:
    """The parts of an EDF header this reader uses (one entry per signal in the per-signal lists).

    Attributes:
        header_bytes: bytes before the first data record (``256 x (signals + 1)``).
        variant: the first field of the reserved area: ``"EDF+C"``, ``"EDF+D"``, or ``""`` for plain EDF.
        n_records: data records in the file as the header gives it (``-1``: unknown, as while recording).
        record_seconds: duration of a data record, s.
        labels, dimensions: each signal's label and physical dimension (unit), stripped.
        physical_min, physical_max, digital_min, digital_max: float64 ``(signals,)``.
        samples_per_record: each signal's samples (int16 values) per data record.
    """

    header_bytes: int
    variant: str
    n_records: int
    record_seconds: float
    labels: list[str]
    dimensions: list[str]
    physical_min: np.ndarray
    physical_max: np.ndarray
    digital_min: np.ndarray
    digital_max: np.ndarray
    samples_per_record: list[int]

    @property
    def annotation_signals(self) -> list[int]:
        """Indices of the ``EDF Annotations`` signals (EDF+)."""
        return [i for i, label in enumerate(self.labels) if label == ANNOTATIONS_LABEL]


def read_edf_header(path: str | os.PathLike) -> EdfHeader:
    """Parse the header of an EDF / EDF+ file (256 bytes, then 256 bytes per signal, ASCII fields).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not an EDF header (e.g. a BDF file), or a field that is not the number it must be;
            the message names the file and the field.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"EDF file not found: {path}")
    with open(path, "rb") as f:
        head = f.read(256)
        if len(head) < 256 or head[:8].decode("latin-1").strip() != "0":
            raise ValueError(f"{path} is not an EDF file: it does not start with EDF's 256-byte header (version '0').")
        text = head.decode("latin-1")

        def number(field: str, raw: str) -> float:
            try:
                return float(raw)
            except ValueError:
                raise ValueError(f"EDF file {path}: header field '{field}' is {raw.strip()!r}, not a number.") from None

        n_sig = int(number("number of signals", text[252:256]))
        signal_text = f.read(256 * n_sig).decode("latin-1") if n_sig > 0 else ""
    if n_sig < 1 or len(signal_text) < 256 * n_sig:
        raise ValueError(f"EDF file {path}: its header declares {n_sig} signals, and holds the fields of {len(signal_text) // 256}.")
    header_bytes = int(number("number of bytes in header", text[184:192]))
    if header_bytes != 256 * (n_sig + 1):
        raise ValueError(f"EDF file {path}: the header declares {header_bytes} header bytes; {n_sig} signals take {256 * (n_sig + 1)}.")
    fields, offset = {}, 0
    for name, width in _SIGNAL_FIELDS:
        fields[name] = [signal_text[offset + i * width : offset + (i + 1) * width].strip() for i in range(n_sig)]
        offset += width * n_sig
    limits = {k: np.array([number(f"{k.replace('_', ' ')} of signal {i}", v) for i, v in enumerate(fields[k])]) for k in _LIMITS}
    return EdfHeader(
        header_bytes=header_bytes,
        variant=text[192:236].strip().split(" ")[0] if text[192:236].strip().startswith("EDF+") else "",
        n_records=int(number("number of data records", text[236:244])),
        record_seconds=number("duration of a data record", text[244:252]),
        labels=fields["label"],
        dimensions=fields["dimension"],
        samples_per_record=[int(number(f"samples per data record of signal {i}", v)) for i, v in enumerate(fields["samples_per_record"])],
        **limits,
    )


def edf_signals(path: str | os.PathLike) -> tuple[list[str], list[str]]:
    """``(names, units)`` of the signals :func:`read_edf_record` reads from ``path`` with ``leads=None``
    (an EDF+ file's annotation signals left out), from the header alone.

    Raises:
        FileNotFoundError, ValueError: as :func:`read_edf_header`.
    """
    from .lead_units import signal_names

    header = read_edf_header(path)
    waves = [i for i in range(len(header.labels)) if i not in header.annotation_signals]
    return signal_names([header.labels[i] or None for i in waves]), [_units(header.dimensions[i], header.labels[i]) for i in waves]


def _units(dimension: str, label: str) -> str:
    """A signal's unit as ``wfdb``'s EDF reader gives it (``µV`` → ``uV``, blank → ``mV``, ``n/a`` from the label)."""
    if dimension == "n/a":
        from wfdb.io.record import SIG_UNITS

        return SIG_UNITS.get((label.lower().split() or [""])[0], "n/a")
    return dimension.replace("µ", "u") or "mV"


def _read_edf_plus(path: Path, header: EdfHeader) -> tuple[list[int], list[np.ndarray], list[float]]:
    """The waveform signals of an EDF+ file: ``(signal indices in the file, float64 physical values, rates in Hz)``."""
    if header.variant == "EDF+D":
        raise ValueError(
            f"EDF file {path} is EDF+D (an interrupted recording: its data records are not contiguous in time), which "
            "HeartBert does not read; export the recording as EDF+C (continuous) or as one file per continuous part."
        )
    waves = [i for i in range(len(header.labels)) if i not in header.annotation_signals]
    if not waves:
        raise ValueError(f"EDF file {path} holds only EDF+ annotations ({ANNOTATIONS_LABEL!r}), no sampled signal.")
    if not header.record_seconds > 0:
        raise ValueError(f"EDF file {path}: data record duration {header.record_seconds:g} s; a file with signals needs a positive one.")
    per_record = int(sum(header.samples_per_record))
    available = (path.stat().st_size - header.header_bytes) // 2
    n_records = available // per_record if header.n_records == -1 else header.n_records
    if available != n_records * per_record:
        problem = "truncated" if available < n_records * per_record else "header/sample mismatch for"
        raise ValueError(
            f"{problem} EDF file {path}: the header declares {n_records} data records of {per_record} samples "
            f"({2 * n_records * per_record} bytes after the {header.header_bytes}-byte header), the file holds {2 * available} bytes."
        )
    data = np.fromfile(path, dtype="<i2", count=n_records * per_record, offset=header.header_bytes).reshape(n_records, per_record)
    starts = np.concatenate([[0], np.cumsum(header.samples_per_record)])
    signals, rates = [], []
    for i in waves:
        dmin, dmax, pmin, pmax = header.digital_min[i], header.digital_max[i], header.physical_min[i], header.physical_max[i]
        if dmax == dmin or pmax == pmin:
            raise ValueError(
                f"EDF file {path}: signal {i} ({header.labels[i]!r}) has digital range {dmin:g}..{dmax:g} and physical range "
                f"{pmin:g}..{pmax:g}; neither may be empty."
            )
        digital = data[:, starts[i] : starts[i + 1]].reshape(-1).astype(np.float64)
        signals.append((digital - dmin) * ((pmax - pmin) / (dmax - dmin)) + pmin)
        rates.append(header.samples_per_record[i] / header.record_seconds)
    return waves, signals, rates


def read_edf_record(path: str | os.PathLike, leads: list[str] | None, lead_indices):
    """Read an EDF or EDF+ file: a ``WfdbRecord`` in physical units (see the module doc).

    Args:
        path: the ``.edf`` file.
        leads: signals to keep, in this order, by name or signal index (``None``: all); a name several
            signals share is refused. In an EDF+ file the ``EDF Annotations`` signals are left out
            first: indices count the other signals.
        lead_indices: ``(record_name, names, leads) -> indices``, the WFDB reader's lead selection
            (same errors for an unknown or repeated lead).

    Returns:
        :class:`~heartbert_hf.data.wfdb_io.WfdbRecord`: ``signal`` float32 ``(leads, samples)``.
        Plain EDF: equal to ``read_edf(path).p_signal.T`` (cast to float32), ``sampling_rate`` the
        file's ``fs``. EDF+: the EDF-specified physical values, ``sampling_rate`` the leads' own rate
        (samples per data record / record duration, Hz).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file cannot be read (not EDF, a malformed header, a file shorter or longer than
            its header declares, an EDF+D file, an EDF+ file with annotations only); plain EDF: a
            selected signal sampled faster than the file's lowest rate (``wfdb.io.convert.edf.read_edf``,
            wfdb 4.3, averages such a signal to the lowest rate without its gain and offset, so its values
            would be wrong); EDF+: selected signals at different rates (the leads of each rate are named).
    """
    from .lead_units import signal_names
    from .wfdb_io import WfdbRecord

    path = Path(path)
    header = read_edf_header(path)
    if not header.annotation_signals:
        return _read_plain_edf(path, leads, lead_indices)
    waves, values, rates = _read_edf_plus(path, header)
    names = signal_names([header.labels[i] or None for i in waves])
    keep = lead_indices(path.name, names, leads)
    by_rate: dict[float, list[str]] = {}
    for k in keep:
        by_rate.setdefault(rates[k], []).append(names[k])
    if len(by_rate) > 1:
        listing = "; ".join(f"{rate:g} Hz: {lead_list}" for rate, lead_list in sorted(by_rate.items()))
        raise ValueError(
            f"EDF file {path}: the selected signals have different sampling rates ({listing}). HeartBert takes one rate per ECG: "
            f"pass leads=[...] (--leads / --lead on the command line) with signals of one rate (e.g. leads={by_rate[max(by_rate)]})."
        )
    return WfdbRecord(
        record_id=path.stem,
        signal=np.ascontiguousarray(np.stack([values[k] for k in keep]), dtype=np.float32),
        sampling_rate=float(rates[keep[0]]),
        lead_names=[names[k] for k in keep],
        units=[_units(header.dimensions[waves[k]], header.labels[waves[k]]) for k in keep],
        comments=[],
    )


def _read_plain_edf(path: Path, leads: list[str] | None, lead_indices):
    """A plain EDF file (no annotation signal) through ``wfdb.io.convert.edf.read_edf``: see :func:`read_edf_record`."""
    from wfdb.io.convert.edf import read_edf

    from .lead_units import signal_names
    from .wfdb_io import WfdbRecord

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # wfdb prints notes on stdout
            rec = read_edf(str(path))
    except Exception as err:  # wfdb raises assorted errors on a malformed file
        raise ValueError(f"wfdb cannot read EDF file {path}: {type(err).__name__}: {err}") from err
    names = signal_names(rec.sig_name or [None] * rec.n_sig)
    keep = lead_indices(path.name, names, leads)
    fast = [names[i] for i in keep if int(rec.samps_per_frame[i] or 1) > 1]
    if fast:  # wfdb 4.3's read_edf averages them to fs without the gain: their values would be wrong
        raise ValueError(
            f"EDF file {path}: signal(s) {fast} are sampled faster than the file's lowest rate ({float(rec.fs):g} Hz), and wfdb's EDF "
            "reader returns them averaged to that rate in unscaled units. Pass leads=[...] (--leads / --lead) of the "
            "lowest-rate signals, or convert the file to WFDB with another EDF reader (e.g. mne.io.read_raw_edf, then wfdb.wrsamp)."
        )
    signal = np.asarray(rec.p_signal, dtype=np.float64).T[keep]
    units = list(rec.units or [""] * len(names))
    return WfdbRecord(
        record_id=path.stem,
        signal=np.ascontiguousarray(signal, dtype=np.float32),
        sampling_rate=float(rec.fs),
        lead_names=[names[i] for i in keep],
        units=[units[i] or "" for i in keep],
        comments=list(rec.comments or []),
    )
