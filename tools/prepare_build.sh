#!/usr/bin/env bash
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Copy the working tree to build/collections/ansible_collections/hwcloud/dbss for ansible-test.
#
# What is copied: tracked files plus untracked files that are not git-ignored, as they are
# on disk now (so uncommitted work is tested), less files deleted from the work tree.
# ansible-test wants a real directory whose path ends in ansible_collections/NS/NAME (it
# resolves symlinks and refuses them) and only looks at git-tracked files, so the copy is
# made its own git repository with everything added and committed.
#
# Usage: tools/prepare_build.sh   (prints the path of the copy on its last line)
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

namespace="$(sed -n -E 's/^namespace:[[:space:]]*([A-Za-z0-9_]+).*/\1/p' "$HARNESS_ROOT/galaxy.yml")"
name="$(sed -n -E 's/^name:[[:space:]]*([A-Za-z0-9_]+).*/\1/p' "$HARNESS_ROOT/galaxy.yml")"
[ -n "$namespace" ] && [ -n "$name" ] || harness_die "could not read namespace/name from galaxy.yml"

collections="$HARNESS_ROOT/build/collections"
dest="$collections/ansible_collections/$namespace/$name"

command -v git >/dev/null || harness_die "git is required"
git -C "$HARNESS_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
    || harness_die "$HARNESS_ROOT is not a git work tree; the build copy is made from git's file list"

list="$(mktemp)"
deleted="$(mktemp)"
trap 'rm -f "$list" "$deleted"' EXIT

git -C "$HARNESS_ROOT" ls-files -z --deleted | tr '\0' '\n' | sort -u >"$deleted"
git -C "$HARNESS_ROOT" ls-files -z --cached --others --exclude-standard | tr '\0' '\n' | sort -u \
    | comm -23 - "$deleted" >"$list"
# submodules and other non-regular entries would break the copy; this collection has none
count="$(wc -l <"$list")"

rm -rf "$dest"
mkdir -p "$dest"
(cd "$HARNESS_ROOT" && tr '\n' '\0' <"$list" | xargs -0 --no-run-if-empty cp --parents -P -p --target-directory="$dest")

git -C "$dest" init --quiet
git -C "$dest" add --all
git -C "$dest" -c user.name="hwcloud.dbss harness" -c user.email="harness@localhost" \
    -c commit.gpgsign=false commit --quiet --no-verify --allow-empty -m "harness build copy"

echo "build copy: $count files from $HARNESS_ROOT"
echo "$dest"
