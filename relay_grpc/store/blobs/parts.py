"""Part-file blob store core shared by the local and GCS implementations.

Each append is stored as its own immutable part named after its start offset
(``<key>/.<offset:020d>``), created with create-only semantics (``os.link`` /
GCS ``if_generation_match=0``). A part is written atomically, so a crash never
exposes half an append. The committed size is the end of the contiguous chain of
parts starting at offset 0. Because a writer only creates the part at the offset
it saw as the chain's end, and the chain only grows, two writers racing for the
same offset cannot both succeed: the loser sees its create fail and gets
``OffsetMismatchError`` with the new committed size. This works across processes
and replicas with no lock and no session state, so an upload resumes anywhere.

Caveat: a process caches each key's chain to keep an append at one request. If
another replica deletes the key, an append from this process at the old end can
still create a part; it sits after a gap, so ``size()`` ignores it and delete /
delete_prefix remove it. Keys are not reused after deletion (job ids are new).

Backends implement the small synchronous ``PartBackend`` protocol; this module
runs their calls on a private thread pool so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from relay_grpc.store.blobs.base import (
    BlobNotFoundError,
    BlobStoreError,
    OffsetMismatchError,
    validate_key,
    validate_prefix,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Largest part written in one create. GCS uploads up to 8 MiB go as a single
# multipart request (atomic, precondition honoured everywhere); larger appends
# are split, so they become durable piece by piece (a prefix may survive a crash).
MAX_PART_SIZE = 8 * 1024 * 1024
PART_NAME = re.compile(r"^\.(\d{20})$")
_CACHE_KEYS = 4096


def part_name(offset: int) -> str:
    """File/object name of the part that starts at ``offset``."""
    return f".{offset:020d}"


def parse_part_name(name: str) -> int | None:
    """Offset encoded in a part name, or None if ``name`` is not a part."""
    match = PART_NAME.match(name)
    return int(match.group(1)) if match else None


class PartBackend(Protocol):
    """Synchronous storage primitives; every method runs in a worker thread.

    Methods raise the ``BlobStoreError`` subclasses of ``base`` for backend failures.
    """

    def list_parts(self, key: str) -> list[tuple[int, int]]:
        """(offset, size) of every part of ``key``, in any order; [] if none."""
        ...

    def create_part(self, key: str, offset: int, data: bytes) -> bool:
        """Durably create the part at ``offset``; False if it already exists."""
        ...

    def part_equals(self, key: str, offset: int, data: bytes) -> bool:
        """True if the existing part at ``offset`` holds exactly ``data``."""
        ...

    def read_part(self, key: str, offset: int, start: int, length: int) -> bytes:
        """``length`` bytes from ``start`` inside the part at ``offset``.

        Raises BlobNotFoundError if the part is gone."""
        ...

    def delete_key(self, key: str) -> bool:
        """Remove every part of ``key``; True if anything was removed."""
        ...

    def list_keys(self, prefix: str) -> list[str]:
        """Keys with at least one part that start with ``prefix``."""
        ...

    def check(self) -> None:
        """Cheap round trip; raises BlobStoreUnavailableError/BlobStorePermissionError."""
        ...

    def close(self) -> None:
        """Release clients."""
        ...


@dataclass
class Chain:
    """The contiguous parts of one key from offset 0: starts[i] .. starts[i] + sizes[i]."""

    starts: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.starts[-1] + self.sizes[-1] if self.starts else 0

    @classmethod
    def from_parts(cls, parts: list[tuple[int, int]]) -> Chain:
        """Keep the parts contiguous from 0; anything after a gap is not committed."""
        by_offset = {offset: size for offset, size in parts if size > 0}
        chain = cls()
        while chain.end in by_offset:
            chain.append(chain.end, by_offset[chain.end])
        return chain

    def append(self, offset: int, size: int) -> None:
        self.starts.append(offset)
        self.sizes.append(size)

    def copy(self) -> Chain:
        return Chain(list(self.starts), list(self.sizes))

    def pieces(self, offset: int, length: int) -> list[tuple[int, int, int]]:
        """(part offset, start inside part, length) covering [offset, offset + length) ∩ chain."""
        stop = min(offset + length, self.end)
        out: list[tuple[int, int, int]] = []
        index = bisect.bisect_right(self.starts, offset) - 1
        position = offset
        while position < stop and 0 <= index < len(self.starts):
            start, size = self.starts[index], self.sizes[index]
            take = min(start + size, stop) - position
            out.append((start, position - start, take))
            position += take
            index += 1
        return out


def _check_range(offset: int, length: int | None = None) -> None:
    if offset < 0 or (length is not None and length < 0):
        raise ValueError("offset and length must be >= 0")


class PartBlobStore:
    """``BlobStore`` over a ``PartBackend``; see the module docstring for the design."""

    def __init__(self, backend: PartBackend, *, max_workers: int = 8) -> None:
        self._backend = backend
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="blobstore")
        # Chains this process has seen. Parts are immutable, so a cached chain is
        # a correct prefix of the truth (unless the key is deleted elsewhere);
        # it lets an append skip the listing when the caller's offset matches.
        self._chains: OrderedDict[str, Chain] = OrderedDict()
        self._closed = False
        self._inline_listing = bool(getattr(backend, "inline_listing", False))

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        if self._closed:
            raise BlobStoreError("blob store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def _remember(self, key: str, chain: Chain) -> None:
        self._chains[key] = chain
        self._chains.move_to_end(key)
        while len(self._chains) > _CACHE_KEYS:
            self._chains.popitem(last=False)

    async def _refresh(self, key: str) -> Chain:
        if self._inline_listing:  # a local directory listing: cheaper than a thread hop
            parts = self._backend.list_parts(key)
        else:
            parts = await self._run(self._backend.list_parts, key)
        chain = Chain.from_parts(parts)
        self._remember(key, chain)
        return chain

    async def append(self, key: str, offset: int, data: bytes) -> int:
        validate_key(key)
        _check_range(offset)
        chain = self._chains.get(key)
        if chain is None or chain.end != offset:
            chain = await self._refresh(key)
        if chain.end != offset:
            raise OffsetMismatchError(key, offset, chain.end)
        chain = chain.copy()
        view = memoryview(data)
        position = offset
        for begin in range(0, len(view), MAX_PART_SIZE):
            # One part (the usual case) is the caller's bytes as they are: no copy.
            piece = data if len(view) <= MAX_PART_SIZE else bytes(view[begin : begin + MAX_PART_SIZE])
            if not await self._run(self._backend.create_part, key, position, piece):
                # Lost a race, or our own earlier attempt landed (a retried request):
                # identical bytes already at this offset count as success.
                fresh = await self._refresh(key)
                index = bisect.bisect_left(fresh.starts, position)
                same_slot = index < len(fresh.starts) and fresh.starts[index] == position
                if not (
                    same_slot
                    and fresh.sizes[index] == len(piece)
                    and await self._run(self._backend.part_equals, key, position, piece)
                ):
                    raise OffsetMismatchError(key, position, fresh.end)
                chain = fresh.copy()
                position += len(piece)
                continue
            chain.append(position, len(piece))
            position += len(piece)
        self._remember(key, chain)
        return position

    async def size(self, key: str) -> int:
        validate_key(key)
        return (await self._refresh(key)).end

    async def _chain_covering(self, key: str, stop: int) -> Chain:
        chain = self._chains.get(key)
        if chain is None or chain.end < stop:
            chain = await self._refresh(key)
        if not chain.starts:
            raise BlobNotFoundError(f"blob {key!r} not found")
        return chain

    async def read(self, key: str, offset: int, length: int) -> bytes:
        validate_key(key)
        _check_range(offset, length)
        chain = await self._chain_covering(key, offset + length)
        out = bytearray()
        try:
            for part, start, take in chain.pieces(offset, length):
                out += await self._run(self._backend.read_part, key, part, start, take)
        except BlobNotFoundError:
            self._chains.pop(key, None)
            raise
        return bytes(out)

    def iter_chunks(self, key: str, offset: int = 0, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        validate_key(key)
        _check_range(offset)
        if chunk_size <= 0:
            raise ValueError("chunk_size must be > 0")
        return self._iter_chunks(key, offset, chunk_size)

    async def _iter_chunks(self, key: str, offset: int, chunk_size: int) -> AsyncIterator[bytes]:
        chain = await self._refresh(key)  # snapshot of what is committed now
        if not chain.starts:
            raise BlobNotFoundError(f"blob {key!r} not found")
        position = offset
        while position < chain.end:
            pieces = chain.pieces(position, chunk_size)
            if len(pieces) == 1:  # the common case: no stitching copy
                chunk = await self._run(self._backend.read_part, key, *pieces[0])
            else:
                buffer = bytearray()
                for part, start, take in pieces:
                    buffer += await self._run(self._backend.read_part, key, part, start, take)
                chunk = bytes(buffer)
                del buffer
            position += len(chunk)
            yield chunk
            del chunk

    async def delete(self, key: str) -> None:
        validate_key(key)
        self._chains.pop(key, None)
        await self._run(self._backend.delete_key, key)

    async def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        removed = 0
        for key in await self._run(self._backend.list_keys, prefix):
            self._chains.pop(key, None)
            if await self._run(self._backend.delete_key, key):
                removed += 1
        log.info("deleted %d blob keys under prefix %r", removed, prefix)
        return removed

    async def list_keys(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        return sorted(await self._run(self._backend.list_keys, prefix))

    async def check(self) -> None:
        await self._run(self._backend.check)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._chains.clear()
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._executor.shutdown(wait=True)
        self._backend.close()
