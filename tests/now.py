"""The instant the e2e and adapter tests take for "now": fixed, never the real time.

`CAPDESK_NOW` moves it, as it moves capdesk's own clock: `.ci/run` runs those suites once more
at each of four instants chosen to catch date bugs. Commands get it as `--at` or CAPDESK_NOW,
always with its UTC offset, so it names the same instant in any organisation's timezone.
"""

from __future__ import annotations

import os
from zoneinfo import ZoneInfo

from workflows.clock import in_zone, parse_instant

# A Monday morning in Berlin, mid-month: business hours, and usage to date in the sandbox.
DEFAULT = "2026-11-23T10:00"
# The sandbox org's timezone, and that of the tests' policies: where a bare CAPDESK_NOW is read.
ZONE = ZoneInfo("Europe/Berlin")

NOW = in_zone(parse_instant(os.environ.get("CAPDESK_NOW") or DEFAULT), ZONE)
AT = NOW.isoformat(timespec="minutes")
"""NOW as `--at` and CAPDESK_NOW write it: `2026-11-23T09:00+00:00`."""
