# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API gateway in front of DBSS: is the documented path published, and the quota.

Quota: a fixed one-minute window per project, aligned to the minutes of the server
clock (``floor(now / 60)``).  The first ``requests_per_minute`` authenticated DBSS
requests of a project in a window are let through; later ones in the same window are
throttled (``429 APIGW.0308`` with ``Retry-After``) and not counted.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import threading

WINDOW_SECONDS = 60
THROTTLE_CODE = "APIGW.0308"
THROTTLE_MSG = "The throttling threshold has been reached: policy user over ratelimit, limit:%d, time:1 minute."
NOT_PUBLISHED_CODE = "APIGW.0101"
NOT_PUBLISHED_MSG = "The API does not exist or has not been published in the environment."
SETTINGS = ("documented_path", "requests_per_minute")


class SettingsError(ValueError):
    """A control-API setting that cannot be used."""


def _check_rpm(value):
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SettingsError("requests_per_minute must be an integer >= 0, or null (0 / null: no quota)")
    return value


class Gateway:
    """Gateway settings (start from the command line, restored by reset) and quota windows."""

    def __init__(self, config):
        self.config = config
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self._documented_path = self.config.documented_path
            self._rpm = self.config.requests_per_minute
            self._windows = {}

    def settings(self):
        with self._lock:
            return {"documented_path": self._documented_path, "requests_per_minute": self._rpm}

    def update(self, data):
        """Change ``documented_path`` and/or ``requests_per_minute``; a new quota restarts the counts."""
        if not isinstance(data, dict) or not data or set(data) - set(SETTINGS):
            raise SettingsError("settings are an object with some of: %s" % ", ".join(SETTINGS))
        if "documented_path" in data and not isinstance(data["documented_path"], bool):
            raise SettingsError("documented_path must be true or false")
        rpm = _check_rpm(data["requests_per_minute"]) if "requests_per_minute" in data else None
        with self._lock:
            if "documented_path" in data:
                self._documented_path = data["documented_path"]
            if rpm is not None:
                self._rpm = rpm
                self._windows = {}
        return self.settings()

    def documented_path(self):
        with self._lock:
            return self._documented_path

    def admit(self, project_id, now):
        """Count one request of ``project_id``; None when let through, else (limit, retry_after)."""
        window = int(math.floor(now / WINDOW_SECONDS))
        with self._lock:
            if not self._rpm:
                return None
            start, used = self._windows.get(project_id, (window, 0))
            if start != window:
                used = 0
            if used >= self._rpm:
                retry_after = int(math.ceil((window + 1) * WINDOW_SECONDS - now))
                return self._rpm, max(1, retry_after)
            self._windows[project_id] = (window, used + 1)
            return None

    def quota(self, now):
        """The quota and this window's use per project (for ``GET /_emulator/quota``)."""
        window = int(math.floor(now / WINDOW_SECONDS))
        with self._lock:
            used = dict((pid, n) for pid, (start, n) in self._windows.items() if start == window)
            return {"requests_per_minute": self._rpm, "window_seconds": WINDOW_SECONDS,
                    "window_resets_at": (window + 1) * WINDOW_SECONDS, "used": used}
