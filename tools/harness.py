# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test harness driver for hwcloud.dbss (called by the Makefile).

Usage: python3 tools/harness.py COMMAND [COMMAND ...]

Commands:
  all          setup, build copy, then per ansible-core version sanity, units,
               integration; then the system suite
  setup        pinned venvs (and .venv/tools when tools/requirements-tools.txt
               exists), python3.X symlink folder, get-pip stand-ins
  copy         fresh build copy (build/collections/ansible_collections/hwcloud/dbss)
  sanity | units | integration | system
               that step (setup and copy are done first)

Environment:
  HARNESS_VERSIONS       ansible-core versions to run, default "2.19 2.21"
  SANITY_ARGS            extra arguments for ansible-test sanity (e.g. "--skip-test pylint")
  UNITS_ARGS, INTEGRATION_ARGS, SYSTEM_ARGS
                         extra arguments for the other steps
  HARNESS_HOME           HOME given to ansible-test (default ~/.cache/hwcloud-dbss-harness/home)
  HARNESS_TOOLS=0        do not build .venv/tools (system tests needing it then skip)
  HARNESS_KEEP_GOING=1   run the remaining test steps after a failed one (exit code still 1)
  HARNESS_STEP_TIMEOUT   seconds one step may take before it is stopped (default 1800)
  SYSTEM_TEST_TIMEOUT    per-test timeout of the system suite in seconds (default 300)

Every step prints a header, its output goes to the terminal and to build/logs/STEP.log.
The first failing step stops the run (unless HARNESS_KEEP_GOING=1). The last line printed is a plain summary:
"summary: N passed, N failed, N skipped" counting sanity tests (one per test and
Python version), unit tests, integration targets and system tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import fcntl
import os
import re
import shlex
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, 'tools')
VENVS = os.path.join(ROOT, '.venv')
PYTHONS_DIR = os.path.join(VENVS, 'pythons')
LOGS = os.path.join(ROOT, 'build', 'logs')
COLLECTIONS = os.path.join(ROOT, 'build', 'collections')

# ansible-test keeps its managed venvs and the get-pip cache under ~/.ansible/test and
# does not lock them: two runs at once (a developer's own run beside the harness) can
# delete each other's half-built venvs. The harness gives ansible-test a HOME of its
# own, kept per user (not per checkout) so the venvs are reused by every clone.
REAL_HOME = os.path.expanduser('~')
HARNESS_HOME = os.environ.get('HARNESS_HOME') or os.path.join(
    os.environ.get('XDG_CACHE_HOME') or os.path.join(REAL_HOME, '.cache'), 'hwcloud-dbss-harness', 'home')
# user-level package index settings that must keep working under that HOME
HOME_LINKS = ('.config/pip', '.pip', '.netrc', '.pydistutils.cfg')

# ansible-core series -> Python used for its venv and for units/integration
VERSIONS = {
    '2.19': '3.11',
    '2.21': '3.13',
}
SYSTEM_VENV = '2.19'

PYTEST_SUMMARY = re.compile(r'^=+ (?P<body>.+) in [\d.]+s(?: \([\d:]+\))? =+$')
ANSI = re.compile(r'\x1b\[[0-9;]*m')
PYTEST_COUNT = re.compile(r'(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)')
SANITY_RUN = re.compile(r'^Running sanity test ["\']([^"\']+)["\']')
SANITY_SKIP = re.compile(r'Skipping sanity test ["\']([^"\']+)["\']')
SANITY_FAILED = re.compile(r'^(?:ERROR|FATAL): The (\d+) sanity test\(s\) listed below \(out of (\d+)\) failed')
INTEGRATION_RUN = re.compile(r'^Running (\S+) integration test (?:role|script)')


class StepFailed(Exception):
    """A step ended badly; the run stops."""


class Result:
    """Outcome of one step."""

    def __init__(self, name):
        self.name = name
        self.status = 'not run'
        self.seconds = 0.0
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.note = ''


class Harness:
    """Runs the steps, keeps the results, prints the summary."""

    def __init__(self, versions):
        self.versions = versions
        self.results = []
        self.done = set()
        self.timeout = int(os.environ.get('HARNESS_STEP_TIMEOUT') or '1800')
        self.copy_path = None
        self.keep_going = (os.environ.get('HARNESS_KEEP_GOING') or '0') not in ('0', 'no', 'false', '')

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def header(title):
        line = '=' * 78
        print('\n%s\n== %s\n%s' % (line, title, line), flush=True)

    def env_for(self, version):
        """Environment for ansible-test: the venv, then python3.X symlinks, first on PATH."""
        env = dict(os.environ)
        venv_bin = os.path.join(VENVS, 'ansible-' + version, 'bin')
        env['PATH'] = os.pathsep.join([venv_bin, PYTHONS_DIR, env.get('PATH', '')])
        env['VIRTUAL_ENV'] = os.path.dirname(venv_bin)
        env.pop('PYTHONPATH', None)
        env.pop('PYENV_VERSION', None)
        env['HOME'] = HARNESS_HOME
        env.setdefault('PIP_CACHE_DIR', os.path.join(REAL_HOME, '.cache', 'pip'))
        return env

    @staticmethod
    def missing_pythons(version):
        """Python versions this ansible-test supports that have no python3.X link here."""
        python = os.path.join(VENVS, 'ansible-' + version, 'bin', 'python')
        code = ('from ansible_test._util.target.common.constants import REMOTE_ONLY_PYTHON_VERSIONS as r, '
                'CONTROLLER_PYTHON_VERSIONS as c; print(" ".join(r + c))')
        try:
            supported = subprocess.run([python, '-c', code], capture_output=True, text=True, timeout=60, check=True).stdout.split()
        except (OSError, subprocess.SubprocessError):
            return []
        return [v for v in supported if not os.path.exists(os.path.join(PYTHONS_DIR, 'python' + v))]

    @staticmethod
    @contextlib.contextmanager
    def home_lock():
        """Serialise ansible-test runs of several checkouts that share the harness HOME."""
        os.makedirs(HARNESS_HOME, exist_ok=True)
        with open(os.path.join(HARNESS_HOME, '.harness.lock'), 'w', encoding='utf-8') as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                print('harness: another harness run is using %s; waiting for it' % HARNESS_HOME, flush=True)
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def prepare_home():
        """Create the harness HOME and link the user's pip settings into it."""
        os.makedirs(os.path.join(HARNESS_HOME, '.ansible', 'test', 'cache'), exist_ok=True)
        for rel in HOME_LINKS:
            real = os.path.join(REAL_HOME, rel)
            link = os.path.join(HARNESS_HOME, rel)
            if os.path.exists(real) and not os.path.lexists(link):
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink(real, link)

    def ansible_test(self, version):
        return os.path.join(VENVS, 'ansible-' + version, 'bin', 'ansible-test')

    def run(self, result, command, cwd=ROOT, env=None, ok_codes=(0,), append=False):
        """Run a command, stream and log its output; return (exit code, output lines)."""
        os.makedirs(LOGS, exist_ok=True)
        log_path = os.path.join(LOGS, result.name + '.log')
        print('$ %s' % ' '.join(shlex.quote(part) for part in command), flush=True)
        lines = []
        deadline = time.monotonic() + self.timeout
        with open(log_path, 'a' if append else 'w', encoding='utf-8') as log:
            proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            timer = _Killer(proc, self.timeout)
            timer.start()
            try:
                for raw in proc.stdout:
                    text = raw.decode('utf-8', 'replace')
                    sys.stdout.write(text)
                    sys.stdout.flush()
                    log.write(text)
                    lines.append(text.rstrip('\n'))
                code = proc.wait()
            finally:
                timer.cancel()
        if time.monotonic() > deadline and code not in ok_codes:
            result.note = 'stopped after the %d s step timeout' % self.timeout
        return code, lines

    def record(self, result, started, code, ok_codes=(0,)):
        result.seconds = time.monotonic() - started
        if code in ok_codes:
            if result.status == 'not run':
                result.status = 'passed'
        else:
            result.status = 'FAILED'
            if result.failed == 0:
                result.failed = 1
            where = 'exit code %d, log: %s' % (code, os.path.relpath(os.path.join(LOGS, result.name + '.log'), ROOT))
            result.note = '%s; %s' % (where, result.note) if result.note else where

    def step(self, name, title, func):
        result = Result(name)
        self.results.append(result)
        self.header('%s' % title)
        started = time.monotonic()
        try:
            func(result, started)
        except StepFailed as exc:
            result.seconds = time.monotonic() - started
            result.status = 'FAILED'
            result.failed = result.failed or 1
            result.note = result.note or str(exc)
        print('-- %s: %s in %.1f s%s' % (name, result.status, result.seconds, (' (%s)' % result.note) if result.note else ''), flush=True)
        if result.status == 'FAILED' and not (self.keep_going and name not in ('setup', 'copy')):
            raise StepFailed(name)

    # ------------------------------------------------------------------ steps

    def do_setup(self):
        if 'setup' in self.done:
            return
        self.done.add('setup')
        names = ['ansible-' + v for v in self.versions]
        if os.path.exists(os.path.join(TOOLS, 'requirements-tools.txt')) and \
                (os.environ.get('HARNESS_TOOLS') or '1') not in ('0', 'no', 'false'):
            names.append('tools')
        if os.path.exists(os.path.join(TOOLS, 'requirements-eda.txt')) and \
                (os.environ.get('HARNESS_TOOLS') or '1') not in ('0', 'no', 'false'):
            names.append('eda')

        def body(result, started):
            self.prepare_home()
            print('ansible-test HOME: %s' % HARNESS_HOME)
            code, _lines = self.run(result, ['bash', os.path.join(TOOLS, 'pythons.sh'), PYTHONS_DIR])
            if code == 0:
                code, _lines = self.run(result, ['bash', os.path.join(TOOLS, 'setup_venvs.sh')] + names, append=True)
            if code == 0:
                command = ['bash', os.path.join(TOOLS, 'install_get_pip.sh')] + [os.path.join(VENVS, n) for n in names if n.startswith('ansible-')]
                env = dict(os.environ, GET_PIP_HOMES='%s %s' % (REAL_HOME, HARNESS_HOME))
                code, _lines = self.run(result, command, env=env, append=True)
            self.record(result, started, code)

        self.step('setup', 'setup: venvs (%s), python3.X links, get-pip stand-ins' % ', '.join(names), body)

    def do_copy(self):
        if 'copy' in self.done:
            return
        self.done.add('copy')

        def body(result, started):
            code, lines = self.run(result, ['bash', os.path.join(TOOLS, 'prepare_build.sh')])
            if code == 0:
                self.copy_path = lines[-1].strip()
                if not self.copy_path.endswith(os.path.join('ansible_collections', 'hwcloud', 'dbss')):
                    raise StepFailed('unexpected build copy path %r' % self.copy_path)
            self.record(result, started, code)

        self.step('copy', 'build copy: working tree -> build/collections/ansible_collections/hwcloud/dbss', body)

    def extra(self, variable):
        return shlex.split(os.environ.get(variable, ''))

    def do_sanity(self, version):
        def body(result, started):
            command = [self.ansible_test(version), 'sanity', '--requirements', '--color', 'no'] + self.extra('SANITY_ARGS')
            with self.home_lock():
                code, lines = self.run(result, command, cwd=self.copy_path, env=self.env_for(version))
            ran = sum(1 for line in lines if SANITY_RUN.match(line))
            result.skipped = sum(1 for line in lines if SANITY_SKIP.match(line))
            failed = 0
            for line in lines:
                match = SANITY_FAILED.match(line)
                if match:
                    failed = int(match.group(1))
            result.failed = failed
            result.passed = max(ran - failed, 0)
            missing = self.missing_pythons(version)
            if missing:
                result.note = 'Python %s not installed here, their compile/import runs skipped' % ', '.join(missing)
            self.record(result, started, code)

        self.step('sanity-' + version, 'sanity: ansible-core %s (all Python versions found)' % version, body)

    def do_units(self, version):
        python = VERSIONS[version]

        def body(result, started):
            unit_dir = os.path.join(self.copy_path, 'tests', 'unit')
            if not _has_files(unit_dir, '.py'):
                result.status = 'skipped'
                result.note = 'no tests/unit yet'
                result.seconds = time.monotonic() - started
                return
            command = [self.ansible_test(version), 'units', '--requirements', '--color', 'no', '--python', python] + self.extra('UNITS_ARGS')
            with self.home_lock():
                code, lines = self.run(result, command, cwd=self.copy_path, env=self.env_for(version))
            _add_pytest_counts(result, lines)
            self.record(result, started, code)

        self.step('units-' + version, 'units: ansible-core %s on Python %s' % (version, python), body)

    def do_integration(self, version):
        python = VERSIONS[version]

        def body(result, started):
            targets = os.path.join(self.copy_path, 'tests', 'integration', 'targets')
            found = sorted(name for name in (os.listdir(targets) if os.path.isdir(targets) else [])
                           if os.path.isdir(os.path.join(targets, name)))
            if not found:
                result.status = 'skipped'
                result.note = 'no integration targets yet'
                result.seconds = time.monotonic() - started
                return
            command = [self.ansible_test(version), 'integration', '--requirements', '--color', 'no', '--python', python] + self.extra('INTEGRATION_ARGS')
            with self.home_lock():
                code, lines = self.run(result, command, cwd=self.copy_path, env=self.env_for(version))
            ran = sum(1 for line in lines if INTEGRATION_RUN.match(line))
            if code == 0:
                result.passed = ran
            else:
                result.passed = max(ran - 1, 0)
                result.failed = 1
            self.record(result, started, code)

        self.step('integration-' + version, 'integration: ansible-core %s on Python %s (local, no containers)' % (version, python), body)

    def do_system(self):
        version = SYSTEM_VENV

        def body(result, started):
            suite = os.path.join(self.copy_path, 'tests', 'system')
            if not os.path.isdir(suite):
                result.status = 'skipped'
                result.note = 'no tests/system yet'
                result.seconds = time.monotonic() - started
                return
            env = self.env_for(version)
            env['PYTHONPATH'] = COLLECTIONS
            env['ANSIBLE_COLLECTIONS_PATH'] = COLLECTIONS
            env['HWCLOUD_DBSS_BUILD_COPY'] = self.copy_path
            tools_bin = os.path.join(VENVS, 'tools', 'bin')
            if os.path.isdir(tools_bin):
                env['HWCLOUD_DBSS_TOOLS_BIN'] = tools_bin
            eda_venv = os.path.join(VENVS, 'eda')
            if os.path.isdir(os.path.join(eda_venv, 'bin')):
                env['HWCLOUD_DBSS_EDA_VENV'] = eda_venv
            python = os.path.join(VENVS, 'ansible-' + version, 'bin', 'python')
            command = [python, '-m', 'pytest', '-p', 'no:cacheprovider', '-ra',
                       '--timeout', os.environ.get('SYSTEM_TEST_TIMEOUT') or '300', 'tests/system'] + self.extra('SYSTEM_ARGS')
            code, lines = self.run(result, command, cwd=self.copy_path, env=env, ok_codes=(0, 5))
            _add_pytest_counts(result, lines)
            if code == 5:
                result.note = 'pytest collected no tests (exit 5), counted as success'
            self.record(result, started, code, ok_codes=(0, 5))

        self.step('system', 'system: pytest tests/system with ansible-core %s (Python %s) against the build copy'
                  % (version, VERSIONS[version]), body)

    # --------------------------------------------------------------- commands

    def command(self, name):
        if name in ('sanity', 'units', 'integration', 'system', 'all', 'copy'):
            self.do_setup()
            self.do_copy()
        if name == 'setup':
            self.do_setup()
        elif name == 'all':
            for version in self.versions:
                self.do_sanity(version)
                self.do_units(version)
                self.do_integration(version)
            self.do_system()
        elif name == 'system':
            self.do_system()
        elif name in ('sanity', 'units', 'integration'):
            for version in self.versions:
                getattr(self, 'do_' + name)(version)

    def summary(self, started):
        self.header('summary')
        for result in self.results:
            counts = ''
            if result.passed or result.failed or result.skipped:
                counts = '%d passed, %d failed, %d skipped' % (result.passed, result.failed, result.skipped)
            print('%-16s %-8s %7.1f s  %-34s %s' % (result.name, result.status, result.seconds, counts, result.note))
        print('total time %.1f s' % (time.monotonic() - started))
        passed = sum(r.passed for r in self.results)
        failed = sum(r.failed for r in self.results)
        skipped = sum(r.skipped for r in self.results)
        print('summary: %d passed, %d failed, %d skipped' % (passed, failed, skipped), flush=True)
        return failed == 0 and all(r.status != 'FAILED' for r in self.results)


class _Killer:
    """Stops a step's whole process group when it runs past the step timeout."""

    def __init__(self, proc, seconds):
        import threading
        self.proc = proc
        self.timer = threading.Timer(seconds, self.kill)
        self.timer.daemon = True

    def start(self):
        self.timer.start()

    def cancel(self):
        self.timer.cancel()

    def kill(self):
        print('\nharness: step timeout reached, stopping process group %d' % self.proc.pid, flush=True)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            time.sleep(5)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _has_files(folder, suffix):
    for _dirpath, _dirnames, filenames in os.walk(folder):
        if any(name.endswith(suffix) for name in filenames):
            return True
    return False


def _add_pytest_counts(result, lines):
    for line in lines:
        match = PYTEST_SUMMARY.match(ANSI.sub('', line).strip())
        if not match:
            continue
        for number, word in PYTEST_COUNT.findall(match.group('body')):
            if word == 'passed' or word == 'xpassed':
                result.passed += int(number)
            elif word in ('failed', 'error', 'errors'):
                result.failed += int(number)
            else:
                result.skipped += int(number)


def main(argv):
    known = ('all', 'setup', 'copy', 'sanity', 'units', 'integration', 'system')
    if not argv or any(arg not in known for arg in argv):
        print(__doc__)
        return 2
    versions = (os.environ.get('HARNESS_VERSIONS') or ' '.join(VERSIONS)).split()
    unknown = [v for v in versions if v not in VERSIONS]
    if unknown:
        print('harness: unknown ansible-core version(s) %s; known: %s' % (' '.join(unknown), ' '.join(VERSIONS)))
        return 2
    harness = Harness(versions)
    started = time.monotonic()
    try:
        for name in argv:
            harness.command(name)
    except StepFailed as exc:
        print('\nharness: step %s failed, stopping' % exc, flush=True)
    except KeyboardInterrupt:
        print('\nharness: interrupted', flush=True)
        harness.summary(started)
        return 130
    return 0 if harness.summary(started) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
