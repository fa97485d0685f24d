"""Finding a record's files whatever the case of their names, and letting ``wfdb`` read them.

Records copied from FAT-formatted recorder cards or old CD-ROMs often arrive with upper-case names
(``101.HEA``, ``101.DAT``, ``101.ATR``) while the header still names ``101.dat``. ``wfdb`` opens
``<record>.hea`` and the signal files its header names exactly as written, so on a case-sensitive file
system it finds none of them. :func:`find_file` matches a name without case (an exact match first);
:func:`wfdb_names` gives ``wfdb`` a folder where every file has the name it expects: the record's own
folder when the names already match, else a temporary folder of symbolic links, deleted afterwards.
Messages keep naming the real files (the callers hold them).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_file(path: str | os.PathLike) -> Path | None:
    """``path`` if it is a file, else the one file of its folder whose name equals ``path``'s but for case.

    Args:
        path: the file as a reader expects it, e.g. ``data/101.hea``.

    Returns:
        The existing file (``data/101.HEA``), or ``None`` when there is none, or several that differ
        from each other in case only (``101.Hea`` and ``101.HEA``: which one is meant is unknown).
    """
    path = Path(path)
    if path.is_file():
        return path
    folder = path.parent
    if not folder.is_dir():
        return None
    wanted = path.name.lower()
    same = [f for f in folder.iterdir() if f.name.lower() == wanted and f.is_file()]
    return same[0] if len(same) == 1 else None


def header_file(path: str | os.PathLike) -> Path | None:
    """The header of record ``path`` (no extension): ``<path>.hea`` in any case (:func:`find_file`); ``None`` if absent."""
    path = Path(path)
    return find_file(path.with_name(path.name + ".hea"))


@contextmanager
def wfdb_names(folder: str | os.PathLike, files: dict[str, Path]) -> Iterator[Path]:
    """A folder in which each file of ``files`` has the name ``wfdb`` will open it by.

    Args:
        folder: the record's folder.
        files: ``{name wfdb opens, relative to folder: the real file}``, e.g.
            ``{"101.hea": folder / "101.HEA", "101.dat": folder / "101.DAT"}``.

    Yields:
        ``folder`` itself when every real file already has its expected name (nothing is created);
        else a new temporary folder holding a symbolic link (a copy where links cannot be made)
        under each expected name, removed with its contents when the ``with`` block ends.
    """
    folder = Path(folder)
    if all(folder / name == real for name, real in files.items()):
        yield folder
        return
    staged = Path(tempfile.mkdtemp(prefix="heartbert_names_"))
    try:
        for name, real in files.items():
            link = staged / name
            link.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.symlink(Path(real).resolve(), link)
            except OSError:  # no symlinks here (some Windows setups): copy
                shutil.copyfile(real, link)
        yield staged
    finally:
        shutil.rmtree(staged, ignore_errors=True)
