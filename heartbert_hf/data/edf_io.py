"""Reading an EDF file (European Data Format) as a :class:`~heartbert_hf.data.wfdb_io.WfdbRecord`.

``wfdb.rdrecord`` reads WFDB records only; ``wfdb``'s EDF reader, ``wfdb.io.convert.edf.read_edf``,
returns the same ``wfdb.Record`` (physical ``p_signal``, ``fs``, signal names and units) from an
``.edf`` file. :func:`heartbert_hf.data.wfdb_io.read_record` hands ``*.edf`` paths here, so every
reader of the package (``heartbert embed``, ``heartbert plot``, ``heartbert classify-beats`` through
``read_record``) takes EDF files. EDF+ annotations are not read. Signals sampled faster than the
file's lowest rate are refused (see :func:`read_edf_record`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def read_edf_record(path: str | os.PathLike, leads: list[str] | None, lead_indices):
    """Read an EDF file with ``wfdb.io.convert.edf.read_edf``: a ``WfdbRecord`` in physical units.

    Args:
        path: the ``.edf`` file.
        leads: signals to keep, in this order, by name or signal index (``None``: all); a name several signals share is refused.
        lead_indices: ``(record_name, names, leads) -> indices``, the WFDB reader's lead selection
            (same errors for an unknown or repeated lead).

    Returns:
        :class:`~heartbert_hf.data.wfdb_io.WfdbRecord`: ``signal`` float32 ``(leads, samples)``, equal
        to ``read_edf(path).p_signal.T`` (cast to float32); ``sampling_rate`` the file's ``fs``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: ``wfdb`` cannot read it, or a selected signal is sampled faster than the file's
            lowest rate (``wfdb.io.convert.edf.read_edf``, wfdb 4.3, averages such a signal to the
            lowest rate without its gain and offset, so its values would be wrong).
    """
    from wfdb.io.convert.edf import read_edf

    from .lead_units import signal_names
    from .wfdb_io import WfdbRecord

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"EDF file not found: {path}")
    try:
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
