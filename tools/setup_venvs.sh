#!/usr/bin/env bash
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Create the pinned virtualenvs under .venv/ (idempotent, fast when already done).
#
#   ansible-2.19  ansible-core 2.19.x on Python 3.11 (lowest we declare)  tools/requirements-ansible-2.19.txt
#   ansible-2.21  ansible-core 2.21.x on Python 3.13 (newest)             tools/requirements-ansible-2.21.txt
#   tools         later tooling (ansible-lint, antsibull-*), only if tools/requirements-tools.txt exists
#
# A venv is rebuilt when its requirements file or interpreter changes: the stamp file
# .venv/NAME/.harness-stamp holds the sha256 of both.
#
# Usage: tools/setup_venvs.sh [NAME ...]   (default: ansible-2.19 ansible-2.21)
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

# name -> "python-minor requirements-file"
venv_spec() {
    case "$1" in
        ansible-2.19) echo "11 $HARNESS_ROOT/tools/requirements-ansible-2.19.txt" ;;
        ansible-2.21) echo "13 $HARNESS_ROOT/tools/requirements-ansible-2.21.txt" ;;
        tools) echo "11 $HARNESS_ROOT/tools/requirements-tools.txt" ;;
        eda) echo "11 $HARNESS_ROOT/tools/requirements-eda.txt" ;;
        *) harness_die "unknown venv '$1' (known: ansible-2.19 ansible-2.21 tools eda)" ;;
    esac
}

# pip prints one warning per package for configured find-links/index folders that
# lack it; they say nothing about this project.
quiet_pip_noise() {
    grep -v -E "is ignored: it is neither a file nor a directory" || true
}

setup_one() {
    local name="$1" minor req python dir stamp want
    read -r minor req <<<"$(venv_spec "$name")"
    if [ "$name" = tools ] && [ ! -f "$req" ]; then
        echo "venv tools: skipped (no tools/requirements-tools.txt yet)"
        return 0
    fi
    [ -f "$req" ] || harness_die "missing requirements file $req"
    python="$(harness_find_python "$minor")"
    [ -n "$python" ] || harness_die "Python 3.$minor is required for .venv/$name but was not found (looked in \
${PYENV_ROOT:-$HOME/.pyenv}/versions/3.$minor.*/bin and /usr/bin, /usr/local/bin). Install it, e.g. 'pyenv install 3.$minor'."
    dir="$HARNESS_VENVS/$name"
    stamp="$dir/.harness-stamp"
    want="$( { sha256sum "$req" | cut -d' ' -f1; echo "$python"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$dir/bin/python" -c 'import sys' 2>/dev/null; then
        echo "venv $name: up to date ($("$dir/bin/python" --version), $(basename "$req"))"
        return 0
    fi
    echo "venv $name: building with $python from $(basename "$req")"
    rm -rf "$dir"
    mkdir -p "$HARNESS_VENVS"
    "$python" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --requirement "$req" 2>&1 | quiet_pip_noise
    # pipefail stops on a failed install; also make sure the result is consistent and exact
    "$dir/bin/python" -m pip check --disable-pip-version-check >/dev/null \
        || harness_die "venv $name: pip check failed after installing $req"
    "$dir/bin/python" - "$req" <<'PY' || harness_die "venv $name: installed packages do not match $req"
import sys
from importlib import metadata
bad = []
for line in open(sys.argv[1], encoding='utf-8'):
    line = line.split('#', 1)[0].strip()
    if not line:
        continue
    name, _, version = line.partition('==')
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        have = None
    if have != version:
        bad.append('%s: want %s, have %s' % (name, version, have))
if bad:
    print('\n'.join(bad))
    sys.exit(1)
PY
    echo "$want" >"$stamp"
    echo "venv $name: ready ($("$dir/bin/python" --version))"
}

mkdir -p "$HARNESS_VENVS"
if [ "$#" -eq 0 ]; then
    set -- ansible-2.19 ansible-2.21
fi
for name in "$@"; do
    setup_one "$name"
done
