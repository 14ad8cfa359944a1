# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How tools/bench.py measures one playbook run: wall time, CPU of the process
tree, and its peak memory (summed RSS and PSS, sampled from /proc)."""

from __future__ import absolute_import, division, print_function

import os
import signal
import subprocess
import threading
import time

SAMPLE_EVERY = 0.05
RUN_TIMEOUT = 600.0


class BenchError(Exception):
    pass


def _children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name (field 2) may hold spaces and parentheses; ppid follows the last ")"
        fields = stat[stat.rindex(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _kb_field(path, name):
    try:
        with open(path, "rb") as handle:
            for line in handle:
                if line.startswith(name):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_memory(root_pid):
    """(summed RSS, summed PSS) in kB of root_pid and all its descendants."""
    children = _children_map()
    pids, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    rss = sum(_kb_field("/proc/%d/status" % pid, b"VmRSS:") for pid in pids)
    pss = sum(_kb_field("/proc/%d/smaps_rollup" % pid, b"Pss:") for pid in pids)
    return rss, pss


def run_playbook(ansible_playbook, cwd, playbook, extra_vars_file, env, label):
    """Run ansible-playbook; return output, exit code, wall and CPU seconds, peak memory."""
    command = [ansible_playbook, playbook, "-e", "@" + extra_vars_file]
    started = time.monotonic()
    # stdin from /dev/null: with a terminal, ansible.builtin.pause (the idle run) would poll it
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(line.decode(errors="replace") for line in proc.stdout),
                              daemon=True)
    reader.start()
    peak_rss = peak_pss = 0
    status = usage = None
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss, pss = tree_memory(proc.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            if time.monotonic() - started > RUN_TIMEOUT:
                os.killpg(proc.pid, signal.SIGKILL)
                raise BenchError("%s: ansible-playbook ran longer than %d s; stopped" % (label, RUN_TIMEOUT))
            time.sleep(SAMPLE_EVERY)
    except BaseException:
        if proc.returncode is None and status is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(proc.pid, 0)
        raise
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=10)
    proc.stdout.close()
    return {
        "output": "".join(lines),
        "rc": proc.returncode,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": peak_rss / 1024.0,
        "pss_mb": peak_pss / 1024.0,
        # largest single process (kernel's own peak, includes moments between samples)
        "max_single_rss_mb": usage.ru_maxrss / 1024.0,
    }
