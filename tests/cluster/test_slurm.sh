#!/usr/bin/env bash
# The Slurm executor on a real single-node Slurm cluster (issue 16) that this test starts as root and stops: munged,
# slurmctld and slurmd of Debian's packages in the foreground, with a slurm.conf of its own (ports, sockets and
# directories in a temporary directory). `dmilab serve --executor slurm --workers 0` submits the queued shards as job
# arrays of `dmilab worker --once`; the points must equal a single-process run's; dmilab's cancel must scancel the
# experiment's tasks; a task killed by scancel outside dmilab must have its shard re-queued and rerun.
# Exit 77 (a skip, not a pass) with the reason when Slurm's daemons cannot start here.
# Usage: test_slurm.sh DMILAB SPEC (SPEC's directory also holds spec_slurm_long.json)
DMILAB=$(realpath "$1")
SPEC=$2
LONG=$(dirname "$SPEC")/spec_slurm_long.json
. "$(dirname "$0")/lib.sh"

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (it starts munged, slurmctld and slurmd as root)"
for c in munged slurmctld slurmd sbatch squeue scancel sinfo; do
    command -v "$c" >/dev/null || skip "$c is not installed (Debian: munge slurmctld slurmd slurm-client)"
done

dir=$(mktemp -d /tmp/dmilab-slurm.XXXXXX)
chmod 700 "$dir"
daemons=()
cleanup() {
    local rc=$?
    set +e
    [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null
    [ -n "${SLURM_CONF:-}" ] && scancel --name=dmilab-worker 2>/dev/null
    for p in "${daemons[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${daemons[@]}" ${SERVER_PID:-}; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$dir"
    exit $rc
}
trap cleanup EXIT

# munge: a key and a socket of our own
mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
chmod 700 "$dir/munge"
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --foreground --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
    >"$dir/log/munged.out" 2>&1 &
daemons+=($!)
for _ in $(seq 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$dir/munge/munge.socket" ] || skip "munged did not start: $(tail -3 "$dir/log/munged.out" "$dir/munge/munged.log" 2>/dev/null | tr '\n' ' ')"

host=$(hostname -s)
ctld_port=$(free_port)
d_port=$(free_port)
export SLURM_CONF="$dir/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=dmilabtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$host CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
daemons+=($!)
slurmd -D -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 &
daemons+=($!)
state=
for _ in $(seq 100); do
    state=$(sinfo -h -o %t 2>/dev/null | head -1 || true)   # set -e: slurmctld may not answer yet
    [ "$state" = idle ] && break
    for p in "${daemons[@]}"; do
        kill -0 "$p" 2>/dev/null || skip "a Slurm daemon exited: $(tail -2 "$dir"/log/*.out "$dir"/log/*.log 2>/dev/null | tr '\n' ' ')"
    done
    sleep 0.2
done
[ "$state" = idle ] || skip "the node is not idle after 20 s (state '$state'): $(tail -3 "$dir"/log/slurmd.log 2>/dev/null | tr '\n' ' ')"
echo "single-node Slurm cluster up on $host: $(sinfo -h -o '%P %D %c %t')"

"$DMILAB" run --threads 1 "$SPEC" >"$dir/single.json" || fail "dmilab run failed"
canonical_points <"$dir/single.json" >"$dir/single.txt"

port=$(free_port)
url="http://127.0.0.1:$port"
start_server "$dir" "$port" --workers 0 --lease-seconds 3 --token admin --worker-token wtok --executor slurm \
    --slurm-partition debug --slurm-cpus 1 --slurm-max-tasks 2 --slurm-time 10:00
submit() { curl -fsS -XPOST -H 'Authorization: Bearer admin' -H 'Content-Type: application/json' --data @"$1" "$url/api/v1/experiments" | jq -r .id; }

# 1. an experiment run by Slurm tasks: the points of one process
t0=$SECONDS
id=$(submit "$SPEC")
status=$(wait_status "$url" "$id" 90)
[ "$status" = succeeded ] || { tail -n 20 "$dir/server.log" >&2; fail "the Slurm-run experiment ended $status"; }
exp=$(curl -fsS "$url/api/v1/experiments/$id")
curl -fsS "$url/api/v1/experiments/$id/results" | canonical_points >"$dir/slurm.txt"
diff "$dir/single.txt" "$dir/slurm.txt" >&2 || fail "the Slurm run's points differ from the single-process run's"
jobs=$(jq -r '.shards.slurm_jobs | length' <<<"$exp")
[ "$jobs" -ge 1 ] || fail "the experiment names no Slurm job"
echo "Slurm run: $(wc -l <"$dir/slurm.txt") points identical to one process in $((SECONDS - t0)) s; shards $(jq -c .shards <<<"$exp")"

# running_job ID: the Slurm task holding a running shard of experiment ID, once there is one
running_job() {
    for _ in $(seq 300); do
        local e
        e=$(curl -fsS "$url/api/v1/experiments/$1")
        if [ "$(jq -r '.shards.running // 0' <<<"$e")" -ge 1 ] && [ "$(jq -r '.shards.slurm_jobs | length' <<<"$e")" -ge 1 ]; then
            jq -r '.shards.slurm_jobs[0]' <<<"$e"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# 2. dmilab's cancel scancels the experiment's tasks
id=$(submit "$LONG")
job=$(running_job "$id") || fail "no Slurm task ran the long experiment"
curl -fsS -XPOST -H 'Authorization: Bearer admin' "$url/api/v1/experiments/$id/cancel" >/dev/null
status=$(wait_status "$url" "$id" 30)
[ "$status" = cancelled ] || fail "the cancelled experiment ended $status"
grep -q "scancel of 1 Slurm task" "$dir/server.log" || fail "dmilab's cancel did not call scancel"
for _ in $(seq 50); do squeue -h -r -j "${job%_*}" -o %i 2>/dev/null | grep -qx "$job" || break; sleep 0.2; done
squeue -h -r -j "${job%_*}" -o %i 2>/dev/null | grep -qx "$job" && fail "task $job still in squeue after the cancel"
echo "cancel: experiment cancelled, its task $job scancelled"

# 3. a task killed outside dmilab: its shard is re-queued and rerun. By scancel (Slurm sends SIGTERM, then SIGKILL
# after KillWait: the worker gives the shard back), then by SIGKILL of the task's worker as a node failure or the
# kernel's OOM killer does (nothing is given back: the lease tells).
for how in scancel KILL; do
    id=$(submit "$LONG")
    job=$(running_job "$id") || fail "no Slurm task ran the long experiment"
    if [ $how = scancel ]; then
        scancel "$job"
    else
        pid=$(sed -nE 's/.*worker worker@[^:]+:([0-9]+)#.*/\1/p' "$dir/slurm-$job.out" | head -1)
        [ -n "$pid" ] || fail "no worker pid in the output of task $job"
        kill -9 "$pid"
    fi
    echo "killed task $job outside dmilab ($how)"
    status=$(wait_status "$url" "$id" 120)
    [ "$status" = succeeded ] || { tail -n 20 "$dir/server.log" >&2; fail "the experiment whose task was killed ended $status"; }
    exp=$(curl -fsS "$url/api/v1/experiments/$id")
    [ "$(jq .shards.reruns <<<"$exp")" = 1 ] || fail "the killed task's shard was not rerun once: $(jq -c .shards <<<"$exp")"
    if [ $how = KILL ]; then
        [ "$(jq .shards.lease_expiries <<<"$exp")" = 1 ] || { tail -n 8 "$dir/slurm-$job.out" "$dir/server.log" >&2; fail "the SIGKILLed task's lease did not lapse: $(jq -c .shards <<<"$exp")"; }
    fi
    echo "killed task ($how): shard re-queued and rerun once; shards $(jq -c .shards <<<"$exp")"
done
echo "slurm executor: all checks passed"
