# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""ConcurrentFetcher: the jobs of many resources at once, over one client.

A bounded thread pool shares the client's keep-alive session and its rate
limiter, so 500 resources cost 500 requests spread under one request-rate
cap, never 500 simultaneous connections.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.hwcloud.dbss.plugins.module_utils.dbss_errors import DbssError

# Enough parallelism to hide network latency at the default 10 requests per
# second; more threads would only queue on the rate limiter.
MAX_WORKERS = 8


class ConcurrentFetcher:
    """Calls ``client.list_jobs`` for many resources; keeps the last good list
    per resource so a failed wait can still report what it saw."""

    def __init__(self, client, max_workers=MAX_WORKERS):
        self.client = client
        self.max_workers = max_workers
        self.last_jobs = {}
        self._pool = None

    def _executor(self, count):
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=max(1, min(self.max_workers, count)))
        return self._pool

    def fetch(self, resource_ids, deadline=None):
        """{resource_id: list of jobs, or the DbssError that fetching raised}."""
        if len(resource_ids) == 1:
            return {resource_ids[0]: self._one(resource_ids[0], deadline)}
        pool = self._executor(len(resource_ids))
        futures = [(rid, pool.submit(self._one, rid, deadline)) for rid in resource_ids]
        return dict((rid, future.result()) for rid, future in futures)

    def _one(self, resource_id, deadline):
        try:
            jobs = self.client.list_jobs(resource_id, deadline=deadline)
        except DbssError as error:
            return error
        self.last_jobs[resource_id] = jobs
        return jobs

    def fetch_all_or_raise(self, resource_ids):
        """Every resource's jobs, or the first error in resource order."""
        results = self.fetch(resource_ids)
        for resource_id in resource_ids:
            if isinstance(results[resource_id], Exception):
                raise results[resource_id]
        return results

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
