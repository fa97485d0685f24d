"""Reading an EDF file (European Data Format) as a :class:`~heartbert_hf.data.wfdb_io.WfdbRecord`.

``wfdb.rdrecord`` reads WFDB records only; ``wfdb``'s EDF reader, ``wfdb.io.convert.edf.read_edf``,
returns the same ``wfdb.Record`` (physical ``p_signal``, ``fs``, signal names and units) from an
``.edf`` file. :func:`heartbert_hf.data.wfdb_io.read_record` hands ``*.edf`` paths here, so every
reader of the package (``heartbert embed``, ``heartbert plot``, ``heartbert classify-beats`` through
``read_record``) takes EDF files. EDF+ annotations are not read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def read_edf_record(path: str | os.PathLike, leads: list[str] | None, lead_indices):
    """Read an EDF file with ``wfdb.io.convert.edf.read_edf``: a ``WfdbRecord`` in physical units.

    Args:
        path: the ``.edf`` file.
        leads: signal names to keep, in this order (``None``: all).
        lead_indices: ``(record_name, names, leads) -> indices``, the WFDB reader's lead selection
            (same errors for an unknown or repeated lead).

    Returns:
        :class:`~heartbert_hf.data.wfdb_io.WfdbRecord`: ``signal`` float32 ``(leads, samples)``, equal
        to ``read_edf(path).p_signal.T`` (cast to float32); ``sampling_rate`` the selected signals'
        rate (``fs x samples per frame``).

    Raises:
        FileNotFoundError: no such file.
        ValueError: ``wfdb`` cannot read it, or the selected signals have different sampling rates.
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
    per_frame = [int(rec.samps_per_frame[i] or 1) for i in keep]
    if len(set(per_frame)) > 1:
        rates = ", ".join(f"{names[i]}: {float(rec.fs) * spf:g} Hz" for i, spf in zip(keep, per_frame))
        raise ValueError(f"EDF file {path}: the selected signals have different sampling rates ({rates}); pass leads=[...] (--leads) of one rate.")
    if rec.p_signal is not None:
        signal = np.asarray(rec.p_signal, dtype=np.float64).T[keep]
    else:  # signals at several rates: one array per signal
        signal = np.stack([np.asarray(rec.e_p_signal[i], dtype=np.float64) for i in keep])
    units = list(rec.units or [""] * len(names))
    return WfdbRecord(
        record_id=path.stem,
        signal=np.ascontiguousarray(signal, dtype=np.float32),
        sampling_rate=float(rec.fs) * per_frame[0],
        lead_names=[names[i] for i in keep],
        units=[units[i] or "" for i in keep],
        comments=list(rec.comments or []),
    )
