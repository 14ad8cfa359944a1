#!/usr/bin/env bash
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Build a folder of symlinks python3.X -> real interpreter for every CPython 3.X found
# (pyenv or system). Put that folder first on PATH so ansible-test finds each version;
# ansible-test filters the environment it passes on, so pyenv shims do not work for it.
#
# Usage: tools/pythons.sh [FOLDER]   (default: .venv/pythons)
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

dest="${1:-$HARNESS_PYTHONS_DIR}"
mkdir -p "$dest"
found=""
for minor in $HARNESS_PY_MINORS; do
    link="$dest/python3.$minor"
    real="$(harness_find_python "$minor")"
    if [ -n "$real" ]; then
        ln -sfn "$real" "$link"
        found="$found 3.$minor"
    else
        rm -f "$link"
    fi
done
echo "pythons: $dest has${found:- no interpreters}"
