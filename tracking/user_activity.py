"""Per-user activity of one day and variant, packed into bytes for `DailyKpi.user_activity`.

Layout (before zlib): a little-endian uint64 count n, then n int64 profile-id deltas (ids sorted
ascending, the first delta from 0), n int32 actions (clicks + conversions), n int32 conversions.
Sorted ids make the deltas small, so the compressed column is a fraction of the raw size and a
90-day KPI page reads a few megabytes, not a million rows.
"""

import zlib
from dataclasses import dataclass

import numpy as np

_HEADER = np.dtype("<u8")
_IDS = np.dtype("<i8")
_COUNTS = np.dtype("<i4")
# Above this spread of profile ids, totals are summed by sorting instead of a dense index.
_DENSE_ID_SPAN = 20_000_000


@dataclass(frozen=True)
class UserActivity:
    profile_ids: np.ndarray
    actions: np.ndarray
    conversions: np.ndarray

    @classmethod
    def empty(cls) -> "UserActivity":
        return cls(np.zeros(0, _IDS), np.zeros(0, _COUNTS), np.zeros(0, _COUNTS))


def pack_user_activity(profile_ids, actions, conversions) -> bytes:
    ids = np.asarray(profile_ids, _IDS)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    raw = b"".join([
        np.asarray([ids.size], _HEADER).tobytes(),
        np.diff(ids, prepend=0).astype(_IDS).tobytes(),
        np.asarray(actions, _COUNTS)[order].tobytes(),
        np.asarray(conversions, _COUNTS)[order].tobytes(),
    ])
    return zlib.compress(raw, 1)


def unpack_user_activity(data: bytes | memoryview) -> UserActivity:
    if not data:
        return UserActivity.empty()
    buffer = zlib.decompress(data)
    n = int(np.frombuffer(buffer, _HEADER, count=1)[0])
    offset = _HEADER.itemsize
    ids = np.cumsum(np.frombuffer(buffer, _IDS, count=n, offset=offset))
    offset += n * _IDS.itemsize
    actions = np.frombuffer(buffer, _COUNTS, count=n, offset=offset)
    offset += n * _COUNTS.itemsize
    conversions = np.frombuffer(buffer, _COUNTS, count=n, offset=offset)
    return UserActivity(ids, actions, conversions)


def sum_per_user(days: list[UserActivity]) -> UserActivity:
    """One entry per profile (ascending ids) with its totals over the given days."""
    days = [d for d in days if d.profile_ids.size]
    if not days:
        return UserActivity.empty()
    ids = np.concatenate([d.profile_ids for d in days])
    actions = np.concatenate([d.actions for d in days])
    conversions = np.concatenate([d.conversions for d in days])
    low, high = int(ids.min()), int(ids.max())
    if high - low < _DENSE_ID_SPAN:
        # Profile ids are dense integers: index by id, no sort needed.
        index = ids - low
        size = high - low + 1
        present = np.bincount(index, minlength=size) > 0
        return UserActivity(
            np.flatnonzero(present) + low,
            np.bincount(index, weights=actions, minlength=size)[present],
            np.bincount(index, weights=conversions, minlength=size)[present],
        )
    unique, inverse = np.unique(ids, return_inverse=True)
    return UserActivity(unique, np.bincount(inverse, weights=actions, minlength=unique.size),
                        np.bincount(inverse, weights=conversions, minlength=unique.size))
