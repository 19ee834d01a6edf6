"""Times for Swedish readers: stored in UTC, shown in Europe/Stockholm (the dashboard, the report, the CLI)."""

from __future__ import annotations

import pandas as pd

LOCAL_TZ = "Europe/Stockholm"


def local_time(ts: object) -> str:
    """A stored time (UTC when it carries no zone) as Swedish local time: ``2023-10-02 14:05``.

    >>> local_time("2023-10-02T12:05:00")
    '2023-10-02 14:05'
    """
    stamp = pd.Timestamp(ts)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
