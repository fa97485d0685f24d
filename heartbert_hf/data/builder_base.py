"""What the PhysioNet builders in ``dataset_scripts/`` share: the config base class, the common
window features, locating records (``data_dir`` or download), and the fingerprint of ``data_dir``
that keeps a prepared (cached) dataset from outliving the files it was built from."""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from .annotation_time import annotation_samples_in_lead
from .record_files import base_url, download_records, list_local_records
from .wfdb_io import annotation_file, check_record_files, read_annotation, read_header

DEFAULT_WINDOW_SECONDS = 4000 / 360
"""One HeartBert window (4000 samples at 360 Hz, ~11.1 s), in seconds at any rate."""


class RecordError(ValueError):
    """A builder's refusal of whole records (they give no usable example); ``heartbert prepare`` skips them.

    Attributes:
        db: the database (``"mitdb"``, ...).
        records: the record names refused.
    """

    def __init__(self, message: str, db: str, records: list[str]):
        super().__init__(message)
        self.db, self.records = db, list(records)

    def __reduce__(self):  # picklable across num_proc workers
        return type(self), (str(self), self.db, self.records)


def source_fingerprint(data_dir: str | os.PathLike, exclude: list[str | os.PathLike | None] | tuple = ()) -> str:
    """A digest of every file under ``data_dir``: relative path, size and modification time (ns).

    Builders add it to their config, so it is part of the ``datasets`` cache directory name: a
    prepared dataset is reused only while no file under ``data_dir`` was added, removed, resized or
    modified; otherwise ``load_physionet`` builds a new one. Only ``os.stat`` is called (no file is
    read): ~10 ms per thousand files (0.44 s for 44,000 on a busy 2-core machine). Hidden files
    and folders (``.name``), and the ``exclude`` folders (e.g. a ``cache_dir`` inside
    ``data_dir``), are left out. A file replaced by one of the same size with its old modification
    time restored (``cp -p``, ``rsync -t``) is not seen: use ``download_mode="force_redownload"``
    after such a copy.

    Args:
        data_dir: the folder the builder reads.
        exclude: folders inside ``data_dir`` to leave out (``None`` entries are ignored).

    Returns:
        16 hex digits (SHA-256 prefix).
    """
    root = os.path.realpath(data_dir)
    skip = {os.path.realpath(e) for e in exclude if e}
    digest = hashlib.sha256()
    seen: set[str] = set()

    def walk(folder: str, rel: str) -> None:
        real = os.path.realpath(folder)
        if real in seen or real in skip:  # a symlink loop, or an excluded folder
            return
        seen.add(real)
        with os.scandir(folder) as it:
            entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        for entry in entries:
            if entry.is_dir():  # follows links
                walk(entry.path, f"{rel}{entry.name}/")
                continue
            try:
                st = entry.stat()
                digest.update(f"{rel}{entry.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            except OSError:  # a dangling link: its name still counts
                digest.update(f"{rel}{entry.name}\0missing\n".encode())

    walk(root, "")
    return digest.hexdigest()[:16]


def builder_code_hash(builder_cls: type) -> str:
    """A digest of the code that decides what a builder yields: its module, this one, and the readers,
    labels, splits and RR features it uses. Passed as the ``datasets`` builder ``hash``, so it is part
    of the cache directory: a prepared dataset is reused only by the code that prepared it.

    Returns:
        16 hex digits (SHA-256 prefix).
    """
    import inspect
    import sys

    here = Path(__file__).resolve().parent
    files = [inspect.getsourcefile(sys.modules[builder_cls.__module__]) or ""]
    files += [
        str(here / f"{name}.py")
        for name in ("builder_base", "annotation_time", "wfdb_io", "record_case", "record_files", "lead_units", "edf_io", "labels", "splits")
    ]
    files += [str(here.parent / "rhythm.py")]
    digest = hashlib.sha256()
    for name in files:
        try:
            digest.update(Path(name).read_bytes())
        except OSError:  # an installed build without sources: the version still separates releases
            digest.update(name.encode())
    return digest.hexdigest()[:16]


def signal_features() -> dict:
    """The columns every builder yields (``signal`` is ``(leads, samples)`` float32, physical units)."""
    return {
        "signal": datasets.List(datasets.List(datasets.Value("float32"))),
        "sampling_rate": datasets.Value("float32"),
        "lead_names": datasets.List(datasets.Value("string")),
        "record_id": datasets.Value("string"),
        "patient_id": datasets.Value("string"),
        "start": datasets.Value("int64"),
    }


@dataclass
class PhysioNetConfig(datasets.BuilderConfig):
    """Options shared by all PhysioNet builders.

    Args:
        records: restrict to these record names (default: all records present / listed upstream).
        leads: leads to keep, in order, by name or signal index (default: all).
        base_url: PhysioNet files root for downloads (default ``$HEARTBERT_PHYSIONET_BASE_URL`` or
            ``https://physionet.org/files``); the database and version are appended.
        window_seconds: length of a continuous window (windows configs).
        seed: seed of the record/subject splits.
        source_fingerprint: set by the builder from ``data_dir`` (:func:`source_fingerprint`): a
            changed file gives a new cache directory, so a stale prepared dataset is never reused.
    """

    records: list[str] | None = None
    leads: list[str] | None = None
    base_url: str | None = None
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    seed: int = 42
    source_fingerprint: str | None = None

    def __post_init__(self):
        super().__post_init__()
        self.validate()

    def validate(self) -> None:
        """Check the option values (also run by the builder: ``datasets`` may set fields after init)."""
        if self.records is not None:
            if isinstance(self.records, str):
                raise TypeError(f"records must be a list of record names, got the string {self.records!r}.")
            self.records = [str(r) for r in self.records]
        if self.leads is not None and isinstance(self.leads, str):
            raise TypeError(f"leads must be a list of lead names or signal indices, got the string {self.leads!r}.")
        if not self.window_seconds > 0:
            raise ValueError(f"window_seconds must be positive, got {self.window_seconds}.")


class PhysioNetBuilder(datasets.GeneratorBasedBuilder):
    """Base of the builders: resolves record files from ``data_dir`` or downloads them.

    With ``data_dir``, the config carries :func:`source_fingerprint` of that folder, so the
    ``datasets`` cache is keyed by the files' names, sizes and modification times as well as by the
    options: changed files are rebuilt, never served from an old cache.
    """

    DB_NAME = ""
    DB_VERSION = ""
    EXTENSIONS = ("hea", "dat")

    def __init__(self, *args, **kwargs):
        if kwargs.get("hash") is None:  # a fixed or changed builder never reuses what an older one prepared
            kwargs["hash"] = builder_code_hash(type(self))
        data_dir = kwargs.get("data_dir")
        if data_dir and kwargs.get("source_fingerprint") is None and Path(data_dir).is_dir():
            kwargs["source_fingerprint"] = source_fingerprint(data_dir, exclude=[kwargs.get("cache_dir")])
        super().__init__(*args, **kwargs)
        self.config.validate()

    @classmethod
    def annotation_extensions(cls, config: PhysioNetConfig) -> tuple[str, ...]:
        """The annotation files (by extension) every record needs under ``config`` (default: none).

        ``resolve_records`` refuses a record without them, and ``heartbert prepare`` skips it.
        """
        return ()

    def example_requirement(self) -> str:
        """What one record needs to give an example under this config (said when a split is empty)."""
        return f"a window needs at least {min(self.config.window_seconds, 1.0):g} s of signal"

    def _prepare_split(self, split_generator, *args, **kwargs):
        # an empty split would otherwise surface later as datasets' "Instruction ... corresponds to no data!"
        super()._prepare_split(split_generator, *args, **kwargs)
        if not split_generator.split_info.num_examples:
            kwargs = split_generator.gen_kwargs
            raise RecordError(self._empty_split_message(split_generator), self.DB_NAME, list(kwargs.get("records") or []))

    def _empty_split_message(self, split_generator) -> str:
        kwargs = split_generator.gen_kwargs
        root = kwargs.get("root") or ""
        records = list(kwargs.get("records") or [row.get(kwargs.get("column"), "?") for row in kwargs.get("rows") or []])
        described = [f"{r} ({record_duration(Path(root) / r)})" for r in records[:10]]
        more = f", ... ({len(records) - 10} more)" if len(records) > 10 else ""
        return (
            f"{self.DB_NAME} {self.config.name}: split '{split_generator.name}' has no examples: none of its {len(records)} "
            f"record(s) in {root} gives one ({self.example_requirement()}): {', '.join(described)}{more}. "
            "Add records that meet this, or leave these out (remove them from data_dir, or pass records=[...] without them)."
        )

    def url_root(self) -> str:
        """``<base_url>/<db>/<version>``."""
        return f"{base_url(self.config.base_url)}/{self.DB_NAME}/{self.DB_VERSION}"

    def _stage_dir(self) -> Path:
        return Path(self._cache_downloaded_dir) / "heartbert_wfdb" / self.DB_NAME / self.DB_VERSION

    def resolve_records(self, dl_manager, records: list[str] | None = None, extensions=None) -> tuple[Path, list[str]]:
        """Find (local) or download the records; return ``(root, record_names)``.

        Args:
            dl_manager: the builder's download manager.
            records: record paths to fetch (default: ``config.records`` or the upstream ``RECORDS``).
            extensions: file extensions per record (default: ``EXTENSIONS``).
        """
        extensions = list(extensions or self.EXTENSIONS)
        wanted = records if records is not None else self.config.records
        if self.config.data_dir:
            root = Path(self.config.data_dir).expanduser()
            if wanted is None:
                wanted = list_local_records(root, edf=False)
                if not wanted:
                    raise FileNotFoundError(f"no WFDB records (*.hea) found in data_dir {root} for {self.DB_NAME}.")
            for rec in wanted:  # fail before generation starts, with the file named
                check_record_files(root / rec)
            self.check_annotation_files(root, wanted)
            return root, list(wanted)
        if wanted is None:
            listing = dl_manager.download(f"{self.url_root()}/RECORDS")
            wanted = [line.strip() for line in Path(listing).read_text().splitlines() if line.strip()]
        root = download_records(dl_manager, self.url_root(), list(wanted), extensions, self._stage_dir())
        for rec in wanted:
            check_record_files(root / rec)
        self.check_annotation_files(root, wanted)
        return root, list(wanted)

    def check_annotation_files(self, root: Path, records: list[str]) -> None:
        """Refuse, before generation, records without the annotation files this config reads.

        Raises:
            FileNotFoundError: naming the records and the missing files.
        """
        extensions = self.annotation_extensions(self.config)
        missing = [f"{rec}.{ext}" for rec in records for ext in extensions if annotation_file(Path(root) / rec, ext) is None]
        if missing:
            raise FileNotFoundError(
                f"{self.DB_NAME} {self.config.name}: annotation file(s) missing in {root}: {', '.join(missing[:10])}"
                + (f", ... ({len(missing) - 10} more)" if len(missing) > 10 else "")
                + f". The {self.config.name} config reads the .{'/.'.join(extensions)} annotations of every record: add them, or leave "
                "those records out (records=[...]; `heartbert prepare` skips them and lists them)."
            )


def window_starts(n_samples: int, size: int, min_size: int) -> list[tuple[int, int]]:
    """Consecutive ``[start, stop)`` windows of ``size``; a tail of at least ``min_size`` is kept."""
    bounds = [(s, s + size) for s in range(0, n_samples - size + 1, size)]
    tail = bounds[-1][1] if bounds else 0
    if n_samples - tail >= min_size:
        bounds.append((tail, n_samples))
    return bounds


def iter_signal_windows(signal: np.ndarray, sampling_rate: float, window_seconds: float):
    """Yield ``(start, window)`` over a ``(leads, samples)`` signal; the tail under 1 s is dropped."""
    size = max(1, int(round(window_seconds * sampling_rate)))
    for start, stop in window_starts(signal.shape[1], size, min(size, int(round(sampling_rate)))):
        yield start, signal[:, start:stop]


def record_duration(path: str | os.PathLike) -> str:
    """A record's length from its header, e.g. ``"0.83 s"`` (``"length unknown"`` if the header does not say)."""
    try:
        header = read_header(path)
        return f"{int(header.sig_len) / float(header.fs):.3g} s"
    except (ValueError, FileNotFoundError, TypeError):
        return "length unknown"


def read_annotations_in_signal(
    path: str | os.PathLike, extension: str, signal_length: int, sampling_rate: float, db: str
) -> tuple[np.ndarray, list[str], list[str]]:
    """A record's annotations as sample indices of its returned leads, those outside the signal dropped.

    WFDB annotation sample numbers count frames of the header's ``fs`` (WFDB ``annot(5)``), unless the
    annotation file gives its own time resolution (``wfdb.wrann(fs=...)``, WFDB's high-resolution
    mode) equal to the leads' rate. In a multi-frequency record the leads run at ``fs x samples per
    frame`` (:class:`~.wfdb_io.WfdbRecord`), so frame numbers are scaled by ``sampling_rate / fs``
    (as ``heartbert classify-beats`` does). Annotations before sample 0 or at or past
    ``signal_length`` (an annotation file kept from a longer version of the record) are dropped with
    a ``UserWarning`` naming the record, the file and how many.

    Args:
        path: the record path without extension.
        extension: the annotator (``"atr"``, ``"st"``).
        signal_length: samples per lead of the record as read.
        sampling_rate: Hz of the leads as read (``WfdbRecord.sampling_rate``).
        db: the database name, for messages.

    Returns:
        ``(samples, symbols, aux_notes)``: ``samples`` is ``(n,)`` int64 in ``[0, signal_length)``.

    Raises:
        FileNotFoundError: the annotation file is missing.
        ValueError: it cannot be read, or its time resolution is neither the header's frame rate
            nor the leads' rate (the annotations of another version of the record).
    """
    path = Path(path)
    ann = read_annotation(path, extension)
    ann_file = path.with_name(f"{path.name}.{ann.extension}")  # the file read: 101.ATR as well as 101.atr
    frame_rate, rate = float(read_header(path).fs), float(sampling_rate)
    try:
        samples = annotation_samples_in_lead(ann.sample, ann.fs, frame_rate, rate, f"{db} record {path.name}: {ann_file}")
    except ValueError as err:
        raise RecordError(str(err), db, [path.name]) from None
    symbols = list(ann.symbol or [""] * len(samples))
    notes = list(ann.aux_note)
    inside = (samples >= 0) & (samples < signal_length)
    outside = int((~inside).sum())
    if outside:
        warnings.warn(
            f"{db} record {path.name}: {outside} of {len(samples)} annotation(s) in {ann_file.name} lie outside the signal "
            f"({signal_length} samples, {signal_length / rate:.1f} s at {rate:g} Hz) and were ignored: is the annotation file "
            "from a longer version of the record?",
            stacklevel=2,
        )
        keep = np.flatnonzero(inside)
        samples, symbols, notes = samples[keep], [symbols[i] for i in keep], [notes[i] for i in keep]
    return samples, symbols, notes
