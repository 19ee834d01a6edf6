"""Times for Swedish readers: stored in UTC, shown in Europe/Stockholm (the dashboard, the report, the CLI)."""

from __future__ import annotations

import pandas as pd

LOCAL_TZ = "Europe/Stockholm"


def local_stamp(ts: object) -> pd.Timestamp:
    """A stored time (UTC when it carries no zone) in Europe/Stockholm."""
    stamp = pd.Timestamp(ts)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).tz_convert(LOCAL_TZ)


def local_iso(ts: object) -> str:
    """A stored time as data: ISO 8601 in Europe/Stockholm with its offset, to the second (the CLI's JSON, the
    Excel report).

    >>> local_iso("2023-10-02T12:05:00.250")
    '2023-10-02T14:05:00+02:00'
    >>> local_iso("2023-01-15T08:00:00+00:00")
    '2023-01-15T09:00:00+01:00'
    """
    return local_stamp(ts).isoformat(timespec="seconds")


def local_time(ts: object) -> str:
    """A stored time (UTC when it carries no zone) as Swedish local time: ``2023-10-02 14:05``.

    >>> local_time("2023-10-02T12:05:00")
    '2023-10-02 14:05'
    """
    return local_stamp(ts).strftime("%Y-%m-%d %H:%M")
