"""Reading WFDB records with validation, and locating PhysioNet files (local copy or download).

Every reader in :mod:`heartbert_hf.data` goes through :func:`read_record`, which checks the header
against the ``.dat`` file before trusting it:

* a missing header or ``.dat`` raises ``FileNotFoundError`` naming the file;
* a ``.dat`` shorter than the header's ``sig_len`` raises ``ValueError`` ("truncated");
* a ``.dat`` longer than the header declares, or samples whose checksum differs from the header's,
  raises ``ValueError`` ("header/sample mismatch").
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PHYSIONET_BASE_URL = "https://physionet.org/files"
BASE_URL_ENV = "HEARTBERT_PHYSIONET_BASE_URL"
"""Environment variable overriding :data:`PHYSIONET_BASE_URL` (e.g. a mirror or a loopback test server)."""

# bytes per sample of the WFDB storage formats we accept (212 packs two 12-bit samples in 3 bytes)
_BYTES_PER_SAMPLE = {"8": 1.0, "16": 2.0, "61": 2.0, "80": 1.0, "160": 2.0, "212": 1.5, "24": 3.0, "32": 4.0}


@dataclass
class WfdbRecord:
    """One validated WFDB record.

    Attributes:
        record_id: the record name (e.g. ``"101"``).
        signal: physical units, float32, ``(leads, samples)``.
        sampling_rate: Hz.
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


def base_url(override: str | None = None) -> str:
    """The PhysioNet files root: ``override``, else ``$HEARTBERT_PHYSIONET_BASE_URL``, else physionet.org."""
    url = override or os.environ.get(BASE_URL_ENV) or PHYSIONET_BASE_URL
    return url.rstrip("/")


def _expected_bytes(fmt: str, n_samples: int, n_sig_in_file: int) -> int:
    if fmt not in _BYTES_PER_SAMPLE:
        raise ValueError(f"unsupported WFDB storage format {fmt!r}; supported: {sorted(_BYTES_PER_SAMPLE)}.")
    return int(np.ceil(_BYTES_PER_SAMPLE[fmt] * n_samples * n_sig_in_file))


def check_record_files(path: str | os.PathLike):
    """Validate a record's header and ``.dat`` sizes without reading samples; return the header.

    Args:
        path: the record path without extension (e.g. ``data/mitdb/101``).

    Raises:
        FileNotFoundError: the ``.hea`` or a ``.dat`` file is missing.
        ValueError: a ``.dat`` is shorter (truncated) or longer (header/sample mismatch) than the header says.
    """
    import wfdb

    path = Path(path)
    hea = path.with_name(path.name + ".hea")
    if not hea.is_file():
        raise FileNotFoundError(f"WFDB header not found: {hea}")
    try:
        header = wfdb.rdheader(str(path))
    except Exception as err:  # wfdb raises assorted errors on a malformed header
        raise ValueError(f"cannot parse WFDB header {hea}: {err}") from err
    if not header.sig_len:
        raise ValueError(f"WFDB header {hea} declares no samples (sig_len={header.sig_len}).")
    by_file: dict[str, list[int]] = {}
    for i, name in enumerate(header.file_name):
        by_file.setdefault(name, []).append(i)
    for name, channels in by_file.items():
        dat = path.parent / name
        if not dat.is_file():
            raise FileNotFoundError(f"signal file {dat} of record {path.name} is missing (named in {hea}).")
        fmt = str(header.fmt[channels[0]])
        offset = int(header.byte_offset[channels[0]] or 0)
        expected = _expected_bytes(fmt, header.sig_len, len(channels)) + offset
        actual = dat.stat().st_size
        if actual < expected:
            have = int((actual - offset) / (_BYTES_PER_SAMPLE[fmt] * len(channels)))
            raise ValueError(
                f"truncated signal file {dat}: {actual} bytes, but header {hea.name} declares {header.sig_len} samples "
                f"x {len(channels)} signals in format {fmt} = {expected} bytes (the file holds ~{have} samples). "
                "Re-download the record."
            )
        # format 212 pads an odd sample count to a whole byte triple
        if actual > expected + 2:
            have = int((actual - offset) / (_BYTES_PER_SAMPLE[fmt] * len(channels)))
            raise ValueError(
                f"header/sample mismatch for {dat}: it holds ~{have} samples per signal but header {hea.name} "
                f"declares sig_len={header.sig_len} ({expected} bytes expected, {actual} found)."
            )
    return header


def read_record(
    path: str | os.PathLike,
    leads: list[str] | None = None,
    verify_checksum: bool = True,
) -> WfdbRecord:
    """Read and validate one WFDB record.

    Args:
        path: the record path without extension.
        leads: lead (signal) names to keep, in this order; ``None`` keeps all.
        verify_checksum: compare each signal's sample sum with the header checksum.

    Returns:
        A :class:`WfdbRecord` with the physical signal as float32 ``(leads, samples)``.

    Raises:
        FileNotFoundError, ValueError: see :func:`check_record_files`; also an unknown lead name
            or a checksum mismatch (corrupt samples).
    """
    import wfdb

    path = Path(path)
    header = check_record_files(path)
    names = list(header.sig_name)
    if leads is not None:
        missing = [lead for lead in leads if lead not in names]
        if missing:
            raise ValueError(f"record {path.name} has no lead(s) {missing}; its leads are {names}.")
        channels = [names.index(lead) for lead in leads]
    else:
        channels = list(range(len(names)))
    try:
        rec = wfdb.rdrecord(str(path), channels=channels, physical=False, return_res=32)
    except Exception as err:
        raise ValueError(f"cannot read WFDB record {path}: {err}") from err
    digital = np.asarray(rec.d_signal, dtype=np.int64)
    if digital.shape[0] != header.sig_len:
        raise ValueError(
            f"header/sample mismatch for record {path.name}: header declares {header.sig_len} samples, read {digital.shape[0]}."
        )
    if verify_checksum and header.checksum is not None:
        sums = digital.sum(axis=0) % 65536
        for col, ch in enumerate(channels):
            want = header.checksum[ch]
            if want is not None and int(sums[col]) != int(want) % 65536:
                raise ValueError(
                    f"header/sample mismatch for record {path.name}, signal {names[ch]!r}: sample checksum "
                    f"{int(sums[col])} != header checksum {int(want) % 65536} (corrupt or altered .dat)."
                )
    gain = np.asarray([header.adc_gain[ch] for ch in channels], dtype=np.float64)
    baseline = np.asarray([header.baseline[ch] for ch in channels], dtype=np.float64)
    gain[gain == 0] = 200.0  # WFDB's default gain when the header leaves it out
    signal = ((digital - baseline) / gain).T.astype(np.float32)
    return WfdbRecord(
        record_id=path.name,
        signal=np.ascontiguousarray(signal),
        sampling_rate=float(header.fs),
        lead_names=[names[ch] for ch in channels],
        units=[header.units[ch] for ch in channels],
        comments=list(header.comments or []),
    )


def read_annotation(path: str | os.PathLike, extension: str = "atr"):
    """Read a WFDB annotation file with a clear error when it is missing.

    Args:
        path: the record path without extension.
        extension: the annotator (``"atr"``, ``"st"``, ...).
    """
    import wfdb

    path = Path(path)
    ann_file = path.with_name(f"{path.name}.{extension}")
    if not ann_file.is_file():
        raise FileNotFoundError(f"annotation file {ann_file} is missing.")
    try:
        ann = wfdb.rdann(str(path), extension)
    except Exception as err:
        raise ValueError(f"cannot read annotation file {ann_file}: {err}") from err
    ann.aux_note = [note.rstrip("\x00").strip() for note in (ann.aux_note or [""] * len(ann.sample))]
    return ann


def list_local_records(root: str | os.PathLike, pattern: str = "*.hea") -> list[str]:
    """Record names under ``root`` (from its ``RECORDS`` file when present, else from ``*.hea``)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data_dir {root} does not exist or is not a directory.")
    listing = root / "RECORDS"
    if listing.is_file():
        names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
        present = [n for n in names if (root / f"{n}.hea").is_file()]
        if present:
            return present
    return sorted(p.name[: -len(".hea")] for p in root.glob(pattern))


def download_records(dl_manager, url_root: str, records: list[str], extensions: list[str], stage_dir: str | os.PathLike) -> Path:
    """Download ``records`` x ``extensions`` through ``dl_manager`` and stage them under their WFDB names.

    ``dl_manager`` caches files under hashed names; wfdb finds a record's ``.dat`` by the name in
    its header, so the cached files are linked (or copied) into ``stage_dir`` as ``<record>.<ext>``.

    Args:
        dl_manager: the builder's ``datasets.DownloadManager``.
        url_root: e.g. ``https://physionet.org/files/mitdb/1.0.0``.
        records: record paths relative to ``url_root`` (e.g. ``"101"`` or ``"records500/00000/00001_hr"``).
        extensions: e.g. ``["hea", "dat", "atr"]``.
        stage_dir: where the named links go.

    Returns:
        ``stage_dir`` as a ``Path``.
    """
    urls = {f"{rec}.{ext}": f"{url_root}/{rec}.{ext}" for rec in records for ext in extensions}
    local = dl_manager.download(urls)
    stage = Path(stage_dir)
    for rel, cached in local.items():
        target = stage / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            if target.resolve() == Path(cached).resolve():
                continue
            target.unlink()
        try:
            os.symlink(os.path.abspath(cached), target)
        except OSError:
            shutil.copyfile(cached, target)
    return stage
