"""Locating WFDB records: listing a folder's records, and downloading PhysioNet files.

* :func:`list_local_records`: the records of a folder (its ``RECORDS`` file, else every ``*.hea`` in
  any case and every ``*.edf``, segment headers of multi-segment records left out);
* :func:`download_records` / :func:`base_url`: files fetched through ``datasets``' download manager from
  PhysioNet or a mirror (:data:`BASE_URL_ENV`) and staged under their WFDB names.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

PHYSIONET_BASE_URL = "https://physionet.org/files"
BASE_URL_ENV = "HEARTBERT_PHYSIONET_BASE_URL"
"""Environment variable overriding :data:`PHYSIONET_BASE_URL` (e.g. a mirror or a loopback test server)."""


def base_url(override: str | None = None) -> str:
    """The PhysioNet files root: ``override``, else ``$HEARTBERT_PHYSIONET_BASE_URL``, else physionet.org."""
    url = override or os.environ.get(BASE_URL_ENV) or PHYSIONET_BASE_URL
    return url.rstrip("/")


def _segment_names(hea: Path) -> set[str]:
    """The segment records named by a multi-segment master header (empty for a single-segment one)."""
    lines = [line.split() for line in hea.read_text(encoding="ascii", errors="ignore").splitlines()]
    lines = [parts for parts in lines if parts and not parts[0].startswith("#")]
    if not lines or "/" not in lines[0][0]:
        return set()
    return {parts[0] for parts in lines[1:] if parts[0] != "~"}


def _preview(names: list[str], n: int = 5) -> str:
    return ", ".join(names[:n]) + (f", ... ({len(names) - n} more)" if len(names) > n else "")


def _matches(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def _edf_with_signals(path: Path) -> bool:
    """False for an EDF+ file that holds annotations only (Sleep-EDF's ``*-Hypnogram.edf``): not a recording."""
    from .edf_io import read_edf_header

    try:
        header = read_edf_header(path)
    except (OSError, ValueError):  # unreadable: listed, so that reading it reports what is wrong
        return True
    return len(header.annotation_signals) < len(header.labels)


def list_local_records(root: str | os.PathLike, pattern: str = "*.hea", edf: bool = True) -> list[str]:
    """Record names under ``root``: its ``RECORDS`` file when present, else every ``*.hea`` (and ``*.edf``).

    Args:
        root: the folder.
        pattern: the header files to list when there is no ``RECORDS`` (a glob in ``root``, matched
            without case: ``101.HEA`` from FAT media or CD-ROMs is record ``101``).
        edf: also list EDF files (``*.edf`` in any case, and ``RECORDS`` entries naming an existing
            ``.edf`` file), under their file name with its extension (``"patient1.edf"``), as
            :func:`~heartbert_hf.data.wfdb_io.read_record` takes them; EDF+ files holding annotations
            only (no sampled signal, e.g. hypnograms) are not listed. ``False`` lists WFDB records
            only (the database builders).

    Returns:
        Record names, each a path relative to ``root`` without extension (WFDB) or with ``.edf``
        (EDF): in ``RECORDS`` order, else sorted.

    Raises:
        FileNotFoundError: ``root`` is not a folder.

    Segment headers of multi-segment records in ``root`` are not records of their own and are never
    listed. A ``RECORDS`` file that omits records present in ``root``, or lists records whose header
    (or EDF file) is absent, is followed, with a warning naming how many records were skipped (logger
    ``heartbert_hf.data.record_files``); a ``RECORDS`` file none of whose records is present is ignored,
    with a warning.
    """
    from .record_case import find_file, header_file

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data_dir {root} does not exist or is not a directory.")
    files = sorted((p for p in root.glob("*") if p.is_file()), key=lambda p: p.name)
    headers = {p.name[: -len(".hea")]: p for p in files if _matches(p.name, pattern) and p.name.lower().endswith(".hea")}
    segments = {s.lower() for hea in headers.values() for s in _segment_names(hea)}
    found = [h for h in headers if h.lower() not in segments]
    if edf:
        found += [p.name for p in files if p.suffix.lower() == ".edf" and _edf_with_signals(p)]
    found.sort()
    listing = root / "RECORDS"
    if not listing.is_file():
        return found
    names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    present, absent = [], []
    for name in names:
        if edf and name.lower().endswith(".edf"):  # an EDF file, named as the folder spells it
            real = find_file(root / name)
            resolved = None if real is None else Path(name).with_name(real.name).as_posix()
        else:
            resolved = name if header_file(root / name) is not None else None
        (present if resolved else absent).append(resolved or name)
    if not present:
        if names:
            logger.warning("RECORDS in %s lists %d record(s), none of them present: reading every record there (%d) instead.", root, len(names), len(found))
        return found
    if absent:
        logger.warning(
            "RECORDS in %s lists %d record(s) whose header or EDF file is absent: %d record(s) skipped (%s).",
            root,
            len(names),
            len(absent),
            _preview(absent),
        )
    unlisted = sorted(set(found) - set(names) - set(present))
    if unlisted:
        logger.warning(
            "RECORDS in %s omits %d record(s) whose %s is in the folder: %d record(s) skipped (%s). Add them to RECORDS, "
            "delete RECORDS to read every record, or pass records=[...].",
            root,
            len(unlisted),
            ".hea or .edf file" if edf else ".hea",
            len(unlisted),
            _preview(unlisted),
        )
    return present


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

    Raises:
        FileNotFoundError: a file could not be downloaded (offline, wrong mirror); the message says
            to pass ``data_dir`` or set :data:`BASE_URL_ENV`.
    """
    urls = {f"{rec}.{ext}": f"{url_root}/{rec}.{ext}" for rec in records for ext in extensions}
    try:
        local = dl_manager.download(urls)
    except Exception as err:  # offline, a wrong mirror, a missing file: datasets raises assorted errors
        raise FileNotFoundError(
            f"could not download the {len(urls)} files of {len(records)} record(s) from {url_root} "
            f"({type(err).__name__}: {err}). Without network access, pass --data_dir (data_dir=) with a local copy "
            f"of the database, or point ${BASE_URL_ENV} at a reachable mirror."
        ) from err
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
