#!/usr/bin/env bash
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# make demo: gate a playbook on a new DBSS audit instance, entirely on this machine.
#
#   1. set-up: the ansible-core 2.19 venv (.venv/ansible-2.19) and the build copy of the
#      collection (build/collections/ansible_collections/hwcloud/dbss), with the harness scripts;
#   2. the local DBSS + IAM emulator (tests/emulator, docs/emulator.md) in the background,
#      on a free port of 127.0.0.1;
#   3. an audit instance whose creation job goes INIT -> READY -> RUNNING -> SUCCESS in ~10 s;
#   4. docs/examples/demo_gate.yml at -v: the role hwcloud.dbss.dbss_audit_job_wait waits for
#      the job (each state change is printed as it happens), then the JobBean is shown;
#   5. the emulator is stopped whatever happens (end, error, Ctrl-C), and waited for.
#
# Knobs: DEMO_JOB_SECONDS (default 10), DEMO_VERBOSITY (default -v).
# DBSS_COLLECTIONS_PATH=/some/collections skips the build copy and uses that path instead.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$HARNESS_ROOT"

JOB_SECONDS="${DEMO_JOB_SECONDS:-10}"
VERBOSITY="${DEMO_VERBOSITY:--v}"
PROJECT_ID="0123456789abcdef0123456789abcdef"
RESOURCE_ID="demo-audit-$(date +%s)"

say() { printf '\n==> %s\n' "$*"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/dbss-demo.XXXXXX")"
emulator_pid=""
playbook_pid=""

stop_emulator() {
    local status=$? waited=0
    trap - EXIT INT TERM
    if [ -n "$playbook_pid" ] && kill -0 "$playbook_pid" 2>/dev/null; then
        # its own process group: the forked workers go with it
        kill -TERM -- "-$playbook_pid" 2>/dev/null || kill -TERM "$playbook_pid" 2>/dev/null || true
        wait "$playbook_pid" 2>/dev/null || true
    fi
    if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
        kill -TERM "$emulator_pid" 2>/dev/null || true
        # the emulator exits within a fraction of a second on SIGTERM; insist after 10 s
        while kill -0 "$emulator_pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$emulator_pid" 2>/dev/null; then
            kill -KILL "$emulator_pid" 2>/dev/null || true
        fi
        wait "$emulator_pid" 2>/dev/null || true
        echo "emulator stopped (pid $emulator_pid)"
    fi
    rm -rf "$work"
    exit "$status"
}
trap stop_emulator EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "Set-up: venv and build copy (tools/setup_venvs.sh, tools/prepare_build.sh)"
bash tools/setup_venvs.sh ansible-2.19
venv="$HARNESS_VENVS/ansible-2.19"
python="$venv/bin/python"
if [ -n "${DBSS_COLLECTIONS_PATH:-}" ]; then
    collections="$DBSS_COLLECTIONS_PATH"
    echo "using collections from $collections (DBSS_COLLECTIONS_PATH)"
else
    dest="$(bash tools/prepare_build.sh | tail -n 1)"
    collections="${dest%/ansible_collections/*}"
fi

say "Starting the DBSS + IAM emulator on 127.0.0.1 (a free port)"
PYTHONPATH="$HARNESS_ROOT/tests" "$python" -m emulator --host 127.0.0.1 --port 0 \
    --port-file "$work/port" >"$work/emulator.out" 2>"$work/emulator.err" &
emulator_pid=$!

# control-API helper: ctl METHOD PATH [JSON-BODY]; prints the JSON answer
ctl() {
    "$python" - "$base_url" "$@" <<'PY'
import json, sys, urllib.request
base, method, path = sys.argv[1:4]
data = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=10) as answer:
    print(answer.read().decode())
PY
}

for _ in $(seq 1 100); do
    [ -s "$work/port" ] && break
    kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.err" >&2; harness_die "the emulator did not start"; }
    sleep 0.1
done
[ -s "$work/port" ] || harness_die "the emulator wrote no port file within 10 s"
base_url="http://127.0.0.1:$(tr -d '[:space:]' <"$work/port")"
ctl GET /_emulator/health >/dev/null || harness_die "the emulator at $base_url does not answer"
echo "emulator: $base_url (pid $emulator_pid)"

say "Creating audit instance $RESOURCE_ID: its creation job finishes in about ${JOB_SECONDS} s"
timeline="$("$python" -c 'import json, sys; t = float(sys.argv[1]); print(json.dumps({"INIT": round(t * 0.2, 1), "READY": round(t * 0.2, 1), "RUNNING": round(t * 0.6, 1)}))' "$JOB_SECONDS")"
ctl POST /_emulator/jobs "{\"project_id\": \"$PROJECT_ID\", \"resource_id\": \"$RESOURCE_ID\", \"timeline\": $timeline, \"fields\": {\"server_name\": \"DBSS-demo\"}}" \
    | "$python" -c 'import json, sys; j = json.load(sys.stdin); print("job %s: %s (timeline %s)" % (j["job_id"], j["status"], sys.argv[1]))' "$timeline"

say "ansible-playbook $VERBOSITY docs/examples/demo_gate.yml (the role polls; state changes appear live)"
started="$(date +%s)"
# in the background (own process group, set -m) + wait, so that Ctrl-C or a TERM reaches
# the trap at once and the trap can stop the playbook with all its workers
set -m
env ANSIBLE_COLLECTIONS_PATH="$collections" \
    ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-}" ANSIBLE_RETRY_FILES_ENABLED=false \
    HW_DBSS_ENDPOINT="$base_url" HW_PROJECT_ID="$PROJECT_ID" \
    HW_ACCESS_KEY=DEMOACCESSKEY HW_SECRET_KEY=demo-secret-key \
    DEMO_RESOURCE_ID="$RESOURCE_ID" \
    "$venv/bin/ansible-playbook" "$VERBOSITY" docs/examples/demo_gate.yml &
playbook_pid=$!
set +m
rc=0
wait "$playbook_pid" || rc=$?
playbook_pid=""
took=$(($(date +%s) - started))

counters="$(ctl GET /_emulator/counters | "$python" -c 'import json, sys; c = json.load(sys.stdin); print("%d API requests (%s)" % (c["dbss_requests"], ", ".join("HTTP %s x%s" % kv for kv in sorted(c["status"].items()))))')"

say "Summary"
if [ "$rc" -eq 0 ]; then
    echo "The playbook gated on audit instance $RESOURCE_ID and went on as soon as its job succeeded."
else
    echo "The playbook FAILED (exit $rc); see its output above."
fi
echo "  playbook run:   ${took} s, exit $rc"
echo "  emulator saw:   $counters"
echo "  try it yourself: docs/examples/demo_gate.yml, docs/emulator.md, roles/dbss_audit_job_wait/"
exit "$rc"
