"""Local-folder blob store: one directory per key, one immutable file per append.

Layout: ``<root>/<key>/.<offset:020d>``. A part is written to an unnamed file in
the same directory (O_TMPFILE; a named temp file where the file system lacks it),
fsynced, then ``os.link``-ed to its final name (fails if the name exists:
create-only, even between processes) and the directory is fsynced, so after a
crash a part is either fully there or absent. Key segments never start
with ".", so part and temp names cannot collide with sub-keys.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from relay_grpc.store.blobs.base import (
    BlobNotFoundError,
    BlobStoreError,
    BlobStoreFullError,
    BlobStorePermissionError,
    BlobStoreUnavailableError,
)
from relay_grpc.store.blobs.parts import PartBlobStore, parse_part_name, part_name

log = logging.getLogger(__name__)

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}
_TEMP_PREFIX = ".tmp-"
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)


def _translate(exc: OSError, what: str, path: Path) -> BlobStoreError:
    """Map an OSError to the blob store error a caller can act on."""
    if exc.errno in _FULL:
        return BlobStoreFullError(f"no space left to {what} in {path.parent} ({exc.strerror})")
    if exc.errno in _DENIED:
        return BlobStorePermissionError(f"cannot {what} {path}: {exc.strerror} (check owner/mode/mount)")
    return BlobStoreUnavailableError(f"cannot {what} {path}: {exc.strerror or exc}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalPartBackend:
    """``PartBackend`` on a local folder (see module docstring)."""

    # Listing one key's directory (a few entries, metadata in the page cache) runs on
    # the event loop: a thread hop costs more than the listing.
    inline_listing = True

    def __init__(self, root: Path, *, write: Callable[[int, memoryview], int] = os.write) -> None:
        # ``write`` is a seam for fault-injection tests (e.g. raising ENOSPC).
        self.root = Path(root)
        self._write = write
        self._tmpfile = bool(_O_TMPFILE) and Path("/proc/self/fd").is_dir()
        # Directories this process created whose entry in their parent is not yet fsynced.
        self._unsynced: set[str] = set()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _translate(exc, "create blob folder", self.root) from exc

    def _dir(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def list_parts(self, key: str) -> list[tuple[int, int]]:
        directory = self._dir(key)
        parts: list[tuple[int, int]] = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    offset = parse_part_name(entry.name)
                    if offset is not None and entry.is_file(follow_symlinks=False):
                        parts.append((offset, entry.stat(follow_symlinks=False).st_size))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise _translate(exc, "list", directory) from exc
        return parts

    def _make_dirs(self, directory: Path) -> None:
        """Create the key's directory and its missing parents (plain ``os.mkdir``); their
        entries are made durable after the first part (``_sync_parents``)."""
        missing: list[str] = []
        walk, root = str(directory), str(self.root)
        while walk != root:
            try:
                os.mkdir(walk)
            except FileExistsError:
                break
            except FileNotFoundError:
                missing.append(walk)
                walk = os.path.dirname(walk)
                continue
            self._unsynced.add(walk)
            break
        for below in reversed(missing):
            with contextlib.suppress(FileExistsError):  # a concurrent writer made it
                os.mkdir(below)
            self._unsynced.add(below)

    def _sync_parents(self, directory: Path) -> None:
        """Make the entries of new directories on the way to ``directory`` durable:
        fsync each parent of a directory created here and not yet synced."""
        walk = str(directory)
        root = str(self.root)
        while walk != root and walk in self._unsynced:
            parent = os.path.dirname(walk)
            _fsync_dir(Path(parent))
            self._unsynced.discard(walk)
            walk = parent

    def _open_temp(self, dir_fd: int) -> tuple[int, str | None]:
        """An unnamed file in the directory (O_TMPFILE), or a named temp file where the
        file system has no O_TMPFILE; (fd, temp name or None)."""
        if self._tmpfile:
            try:
                return os.open(".", os.O_WRONLY | _O_TMPFILE | os.O_CLOEXEC, 0o600, dir_fd=dir_fd), None
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                    raise
                self._tmpfile = False
        temp = f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
        return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600, dir_fd=dir_fd), temp

    def create_part(self, key: str, offset: int, data: bytes) -> bool:
        # Per part: write, fsync, link under the final name, fsync the directory (the
        # part's name is then on stable storage too), all through one directory fd.
        # The key's directories are made once, when its first part finds them missing,
        # and their own entries are fsynced after that part (one journal commit then
        # covers the directories, the part and its name); the part counts as written
        # only once they are durable too, also for a part that raced into a directory
        # this process made and has not synced yet.
        directory = self._dir(key)
        final = directory / part_name(offset)
        for attempt in range(2):  # a concurrent delete may remove the empty directory
            try:
                try:
                    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                except FileNotFoundError:
                    self._make_dirs(directory)
                    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                temp: str | None = None
                try:
                    fd, temp = self._open_temp(dir_fd)
                    try:
                        view = memoryview(data)
                        while view:
                            view = view[self._write(fd, view) :]
                        os.fsync(fd)
                        source = f"/proc/self/fd/{fd}" if temp is None else temp
                        try:
                            # With dir fds, os.link is linkat(..., AT_SYMLINK_FOLLOW).
                            os.link(source, final.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                        except FileExistsError:
                            return False
                    finally:
                        os.close(fd)
                    os.fsync(dir_fd)
                    if self._unsynced:
                        self._sync_parents(directory)
                    return True
                finally:
                    if temp is not None:
                        try:
                            os.unlink(temp, dir_fd=dir_fd)
                        except FileNotFoundError:
                            pass
                        except OSError as exc:
                            log.warning("could not remove temp file %s: %s", directory / temp, exc.strerror)
                    os.close(dir_fd)
            except FileNotFoundError:
                if attempt:
                    raise BlobStoreUnavailableError(f"blob folder vanished while writing {final}") from None
            except OSError as exc:
                raise _translate(exc, "write", final) from exc
        raise BlobStoreUnavailableError(f"could not write {final}")  # not reached

    def part_equals(self, key: str, offset: int, data: bytes) -> bool:
        try:
            return self.read_part(key, offset, 0, len(data) + 1) == data
        except BlobNotFoundError:
            return False

    def read_part(self, key: str, offset: int, start: int, length: int) -> bytes:
        path = self._dir(key) / part_name(offset)
        try:
            with open(path, "rb", buffering=0) as handle:
                handle.seek(start)
                data = handle.read(length)  # one read, no copy, for regular files
                if len(data) == length or not data:
                    return data
                out = bytearray(data)
                while len(out) < length and (more := handle.read(length - len(out))):
                    out += more
                return bytes(out)
        except FileNotFoundError:
            raise BlobNotFoundError(f"blob {key!r} not found") from None
        except OSError as exc:
            raise _translate(exc, "read", path) from exc

    def delete_key(self, key: str) -> bool:
        directory = self._dir(key)
        removed = False
        try:
            with os.scandir(directory) as entries:
                names = [entry.name for entry in entries if entry.is_file(follow_symlinks=False)]
            for name in names:
                is_part = parse_part_name(name) is not None
                if is_part or name.startswith(_TEMP_PREFIX):
                    try:
                        os.unlink(directory / name)
                        removed = removed or is_part
                    except FileNotFoundError:
                        pass
            if removed:
                _fsync_dir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise _translate(exc, "delete", directory) from exc
        self._prune(directory)
        return removed

    def _prune(self, directory: Path) -> None:
        """Remove now-empty directories up to (not including) the root."""
        while directory != self.root and self.root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            self._unsynced.discard(str(directory))
            directory = directory.parent

    def list_keys(self, prefix: str) -> list[str]:
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self._dir(base) if base else self.root
        keys: list[str] = []

        def fail(exc: OSError) -> None:
            if not isinstance(exc, FileNotFoundError):
                raise _translate(exc, "list", Path(exc.filename or start)) from exc

        for dirpath, _dirnames, filenames in os.walk(start, onerror=fail):
            if any(parse_part_name(name) is not None for name in filenames):
                key = Path(dirpath).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return keys

    def check(self) -> None:
        probe = self.root / f"{_TEMP_PREFIX}check-{uuid.uuid4().hex}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise _translate(exc, "write", probe) from exc

    def close(self) -> None:
        return None


class LocalBlobStore(PartBlobStore):
    """Blob store in a local folder (created if missing).

    Raises:
        BlobStorePermissionError: the folder cannot be created.
    """

    def __init__(self, root: Path, *, max_workers: int = 8, write: Callable[[int, memoryview], int] = os.write) -> None:
        self.root = Path(root)
        super().__init__(LocalPartBackend(self.root, write=write), max_workers=max_workers)
