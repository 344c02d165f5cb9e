"""Per-user activity of one day and variant, packed into bytes for `DailyKpi.user_activity`.

Layout: a little-endian uint64 count n, then n int64 profile ids, n int32 actions (clicks +
conversions), n int32 conversions. numpy reads it back without copying or parsing.
"""

from dataclasses import dataclass

import numpy as np

_HEADER = np.dtype("<u8")
_IDS = np.dtype("<i8")
_COUNTS = np.dtype("<i4")


@dataclass(frozen=True)
class UserActivity:
    profile_ids: np.ndarray
    actions: np.ndarray
    conversions: np.ndarray

    @classmethod
    def empty(cls) -> "UserActivity":
        return cls(np.zeros(0, _IDS), np.zeros(0, _COUNTS), np.zeros(0, _COUNTS))


def pack_user_activity(profile_ids, actions, conversions) -> bytes:
    n = len(profile_ids)
    return b"".join([
        np.asarray([n], _HEADER).tobytes(),
        np.asarray(profile_ids, _IDS).tobytes(),
        np.asarray(actions, _COUNTS).tobytes(),
        np.asarray(conversions, _COUNTS).tobytes(),
    ])


def unpack_user_activity(data: bytes | memoryview) -> UserActivity:
    if not data:
        return UserActivity.empty()
    buffer = memoryview(data)
    n = int(np.frombuffer(buffer, _HEADER, count=1)[0])
    offset = _HEADER.itemsize
    ids = np.frombuffer(buffer, _IDS, count=n, offset=offset)
    offset += n * _IDS.itemsize
    actions = np.frombuffer(buffer, _COUNTS, count=n, offset=offset)
    offset += n * _COUNTS.itemsize
    conversions = np.frombuffer(buffer, _COUNTS, count=n, offset=offset)
    return UserActivity(ids, actions, conversions)


def sum_per_user(days: list[UserActivity]) -> UserActivity:
    """One entry per profile with its totals over the given days."""
    if not days:
        return UserActivity.empty()
    ids = np.concatenate([d.profile_ids for d in days])
    unique, inverse = np.unique(ids, return_inverse=True)
    actions = np.bincount(inverse, weights=np.concatenate([d.actions for d in days]), minlength=unique.size)
    conversions = np.bincount(inverse, weights=np.concatenate([d.conversions for d in days]), minlength=unique.size)
    return UserActivity(unique, actions, conversions)
