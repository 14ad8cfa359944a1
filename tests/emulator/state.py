# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared mutable state (jobs, issued tokens, faults, request log, counters) behind one lock."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import secrets
import threading

LOG_LIMIT = 100000


class State:
    """Every method takes the lock itself; none of them sleeps or does I/O."""

    def __init__(self, seed=None):
        self._lock = threading.Lock()
        self._seed = seed
        self._jobs = []
        self._tokens = {}
        self._faults = []
        self._log = collections.deque(maxlen=LOG_LIMIT)
        self._counters = self._new_counters()
        self.reset()

    @staticmethod
    def _new_counters():
        return {
            "requests": 0, "dbss_requests": 0, "iam_requests": 0, "other_requests": 0,
            "iam_logins": 0, "iam_login_failures": 0, "unauthorized": 0, "throttled": 0,
            "tokens_revoked": 0,
            "status": {}, "auth": {}, "resources": {}, "faults": {}, "paths": {},
        }

    def reset(self):
        with self._lock:
            self._jobs = list(self._seed()) if self._seed else []
            self._tokens.clear()
            self._faults = []
            self._log.clear()
            self._counters = self._new_counters()

    # jobs
    def add_jobs(self, jobs):
        with self._lock:
            self._jobs.extend(jobs)

    def jobs_for(self, project_id, resource_id, now):
        """JobBeans for one resource, newest first."""
        with self._lock:
            found = [job for job in self._jobs if job.visible_to(project_id, resource_id)]
            return [job.view(now) for job in reversed(found)]

    def control_jobs(self, now):
        with self._lock:
            return [job.control_view(now) for job in reversed(self._jobs)]

    def delete_job(self, ident):
        with self._lock:
            for job in self._jobs:
                if ident in (job.control_id, job.job_id):
                    self._jobs.remove(job)
                    return True
            return False

    # tokens
    def issue_token(self, info):
        token = "EMU" + secrets.token_urlsafe(96)
        with self._lock:
            self._tokens[token] = info
        return token

    def token_info(self, token):
        with self._lock:
            return self._tokens.get(token)

    def revoke_tokens(self):
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            self._counters["tokens_revoked"] += count
            return count

    # faults
    def add_faults(self, faults):
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self):
        with self._lock:
            count = len(self._faults)
            self._faults = []
            return count

    def faults(self):
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def take_fault(self, path, resource_id, is_dbss):
        """The oldest fault matching this request, used once; or None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(path, resource_id, is_dbss):
                    if fault.consume():
                        self._faults.remove(fault)
                    bump(self._counters["faults"], fault.kind)
                    return fault
            return None

    # request log and counters
    def record(self, entry, area):
        with self._lock:
            self._log.append(entry)
            counters = self._counters
            counters["requests"] += 1
            counters[area + "_requests"] += 1
            bump(counters["status"], str(entry["status"]))
            bump(counters["auth"], entry["auth"])
            if entry["status"] == 401:
                counters["unauthorized"] += 1
            if entry["status"] == 429:
                counters["throttled"] += 1
            if entry.get("resource_id"):
                bump(counters["resources"], entry["resource_id"])
            if entry.get("route"):
                bump(counters["paths"], entry["route"])
            if entry.get("route") == "iam":
                counters["iam_logins" if entry["status"] == 201 else "iam_login_failures"] += 1

    def requests(self):
        with self._lock:
            return list(self._log)

    def counters(self):
        with self._lock:
            out = dict(self._counters)
            for key, value in out.items():
                if isinstance(value, dict):
                    out[key] = dict(value)
            out["jobs"] = len(self._jobs)
            out["faults_pending"] = len(self._faults)
            out["tokens_active"] = len(self._tokens)
            return out


def bump(table, key):
    table[key] = table.get(key, 0) + 1
