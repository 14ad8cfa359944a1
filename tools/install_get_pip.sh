#!/usr/bin/env bash
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Put our offline get-pip stand-in (tools/get_pip_standin.py) where ansible-test looks
# for its cached bootstrap script, ~/.ansible/test/cache/get_pip_<X_Y>.py, for the pip
# version that each installed ansible-test pins. A file that is not ours (a real
# get-pip downloaded on a connected machine) is left alone.
#
# Usage: tools/install_get_pip.sh [VENV ...]   (default: every .venv/ansible-* venv)
# GET_PIP_HOMES: space-separated home folders to serve (default: $HOME); the harness
# passes both the real HOME and the HOME it gives ansible-test.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

standin="$HARNESS_ROOT/tools/get_pip_standin.py"
marker="HWCLOUD-DBSS-GET-PIP-STANDIN"

if [ "$#" -eq 0 ]; then
    set -- "$HARNESS_VENVS"/ansible-*
fi

for venv in "$@"; do
    [ -x "$venv/bin/python" ] || harness_die "no virtualenv at $venv (run tools/setup_venvs.sh)"
    # ansible-test keeps the pinned pip version in get_venv_packages(): pip='24.2'
    src="$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')"
    version="$(grep -o -E "pip='[0-9]+(\.[0-9]+)*'" "$src" | head -n 1 | tr -d "pip='" || true)"
    [ -n "$version" ] || harness_die "could not find the pinned pip version in $src; the get-pip stand-in needs updating for this ansible-test"
    for home in ${GET_PIP_HOMES:-$HOME}; do
        cache="$home/.ansible/test/cache"
        mkdir -p "$cache"
        target="$cache/get_pip_${version//./_}.py"
        if [ -f "$target" ] && ! grep -q "$marker" "$target"; then
            echo "get-pip $version: keeping existing $target (not ours)"
        elif [ -f "$target" ] && cmp -s "$standin" "$target"; then
            echo "get-pip $version: stand-in in place ($target)"
        else
            cp "$standin" "$target.tmp.$$"
            mv "$target.tmp.$$" "$target"
            echo "get-pip $version: stand-in written to $target"
        fi
    done
done
