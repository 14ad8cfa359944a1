# shellcheck shell=bash
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Shared helpers for the harness scripts in tools/. Source it, do not run it.

# Repository root (the collection root).
HARNESS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS_VENVS="${HARNESS_VENVS:-$HARNESS_ROOT/.venv}"
HARNESS_PYTHONS_DIR="${HARNESS_PYTHONS_DIR:-$HARNESS_VENVS/pythons}"

# Python minor versions ansible-test may target (2.19: 3.8-3.13, 2.21: 3.9-3.14).
HARNESS_PY_MINORS="8 9 10 11 12 13 14"

harness_die() {
    echo "ERROR: $*" >&2
    exit 1
}

# Print the path of the newest installed CPython 3.<minor>, or nothing.
# Looks in pyenv first (PYENV_ROOT or ~/.pyenv), then in the usual system places.
# pyenv shims are skipped: they answer for one version only and need PYENV_VERSION,
# which ansible-test does not pass on to its children.
harness_find_python() {
    local minor="$1" root candidate
    root="${PYENV_ROOT:-$HOME/.pyenv}"
    if [ -d "$root/versions" ]; then
        candidate="$(ls -d "$root"/versions/3."$minor".*/bin/python3."$minor" 2>/dev/null \
            | grep -E "/versions/3\.$minor\.[0-9]+/bin/" | sort -V | tail -n 1 || true)"
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    fi
    for candidate in /usr/local/bin/python3."$minor" /usr/bin/python3."$minor"; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 0
}
