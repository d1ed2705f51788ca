#!/bin/bash
# Guest script (run by tests/lab/lab.sh): the same ipvsadm command sequence
# applied with ipvsadm and with rk-ipvsadm must leave identical tables, and
# rk-ipvsadm -Sn must print exactly what ipvsadm -Sn prints.
#   compare.sh RK_IPVSADM COMMANDS_FILE
# Prints "PASS <name>" / "FAIL <name>" lines and a summary; exits non-zero on failure.
set -u
RK=$1
CMDS=$2
pass=0 fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1"; fail=$((fail + 1)); }

run_seq() { # tool -> prints "<rc> <stderr>" per command
  local tool=$1 line
  while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    # shellcheck disable=SC2086
    err=$($tool $line 2>&1 >/dev/null); rc=$?
    echo "$rc $err | $line"
  done <"$CMDS"
}

ipvsadm -C
run_seq ipvsadm >/tmp/ref.rc
ipvsadm -Sn >/tmp/ref.S
$RK -Sn >/tmp/rk-on-ref.S 2>&1
if cmp -s /tmp/ref.S /tmp/rk-on-ref.S; then ok "rk -Sn prints ipvsadm-created table like ipvsadm -Sn"; else ko "rk -Sn on ipvsadm table"; diff /tmp/ref.S /tmp/rk-on-ref.S; fi
ipvsadm -Ln >/tmp/ref.L
$RK -Ln >/tmp/rk-on-ref.L 2>&1
if cmp -s /tmp/ref.L /tmp/rk-on-ref.L; then ok "rk -Ln prints like ipvsadm -Ln"; else ko "rk -Ln"; diff /tmp/ref.L /tmp/rk-on-ref.L; fi
ipvsadm -C
run_seq "$RK" >/tmp/rk.rc
ipvsadm -Sn >/tmp/rk.S
if cmp -s /tmp/ref.S /tmp/rk.S; then ok "same table after rk-ipvsadm ($(wc -l </tmp/rk.S) rules)"; else ko "tables differ"; diff /tmp/ref.S /tmp/rk.S; fi
if cmp -s /tmp/ref.rc /tmp/rk.rc; then ok "same exit codes and messages"; else ko "exit codes/messages differ"; diff /tmp/ref.rc /tmp/rk.rc; fi

# Restore path: ipvsadm -Sn | rk-ipvsadm -R reproduces the table.
ipvsadm -C
$RK -R </tmp/ref.S
ipvsadm -Sn >/tmp/rk-R.S
if cmp -s /tmp/ref.S /tmp/rk-R.S; then ok "rk-ipvsadm -R restores ipvsadm -Sn output"; else ko "rk -R"; diff /tmp/ref.S /tmp/rk-R.S; fi

# Apply path: reconciling an empty table to the saved rules, then again (no-op).
ipvsadm -C
$RK --apply /tmp/ref.S 2>/tmp/apply1.txt
ipvsadm -Sn >/tmp/rk-apply.S
if cmp -s /tmp/ref.S /tmp/rk-apply.S; then ok "rk-ipvsadm --apply builds the table ($(cat /tmp/apply1.txt))"; else ko "rk --apply"; diff /tmp/ref.S /tmp/rk-apply.S; fi
$RK --apply /tmp/ref.S 2>/tmp/apply2.txt
if grep -q "^planned 0 ops" /tmp/apply2.txt; then ok "second --apply is a no-op"; else ko "second --apply: $(cat /tmp/apply2.txt)"; fi
# Reconcile: one changed real server is exactly one op; a dest deleted by
# hand is restored with one op; foreign services survive.
sed 's/-r 198.51.100.1:80 -g -w 9$/-r 198.51.100.1:80 -g -w 11/' /tmp/ref.S >/tmp/changed.S
cmp -s /tmp/ref.S /tmp/changed.S && ko "test setup: sed changed nothing"
$RK --apply /tmp/changed.S 2>/tmp/apply3.txt
ipvsadm -Sn >/tmp/changed-now.S
if grep -q "^planned 1 ops, applied 1" /tmp/apply3.txt && cmp -s /tmp/changed.S /tmp/changed-now.S; then
  ok "one changed dest = one op ($(head -1 /tmp/apply3.txt))"; else ko "changed dest: $(cat /tmp/apply3.txt)"; diff /tmp/changed.S /tmp/changed-now.S; fi
ipvsadm -d -t 192.0.2.2:80 -r 198.51.100.1
ipvsadm -A -t 203.0.113.7:25 -s rr
$RK --apply /tmp/changed.S 2>/tmp/apply4.txt
if grep -q "^planned 1 ops, applied 1" /tmp/apply4.txt && ipvsadm -Sn | grep -q -- "-A -t 203.0.113.7:25 -s rr" \
   && [[ $(ipvsadm -Sn | grep -v 203.0.113.7) == "$(cat /tmp/changed.S)" ]]; then
  ok "hand-deleted dest restored, foreign service kept ($(head -1 /tmp/apply4.txt))"; else ko "restore: $(cat /tmp/apply4.txt)"; fi
$RK --apply /tmp/changed.S --flush-foreign 2>/tmp/apply5.txt
if grep -q "^planned 1 ops, applied 1" /tmp/apply5.txt && ! ipvsadm -Sn | grep -q 203.0.113.7; then
  ok "--flush-foreign removes the foreign service"; else ko "flush-foreign: $(cat /tmp/apply5.txt)"; fi
ipvsadm -C

# Config get/set, both directions.
$RK --set 100 20 30
if [[ $(ipvsadm -Ln --timeout) == "Timeout (tcp tcpfin udp): 100 20 30" ]]; then ok "rk --set seen by ipvsadm"; else ko "rk --set: $(ipvsadm -Ln --timeout)"; fi
ipvsadm --set 200 40 50
if [[ $($RK -L --timeout) == "$(ipvsadm -Ln --timeout)" ]]; then ok "rk -L --timeout matches ipvsadm"; else ko "rk -L --timeout: $($RK -L --timeout)"; fi
ipvsadm --set 900 120 300

# Zero counters (all, and one service).
ipvsadm -A -t 192.0.2.1:80 -s rr
if $RK -Z && $RK -Z -t 192.0.2.1:80; then ok "rk -Z"; else ko "rk -Z"; fi
err_ref=$(ipvsadm -Z -t 192.0.2.99:80 2>&1); rc_ref=$?
err_rk=$($RK -Z -t 192.0.2.99:80 2>&1); rc_rk=$?
if [[ "$rc_ref $err_ref" == "$rc_rk $err_rk" ]]; then ok "rk -Z on a missing service fails like ipvsadm"; else ko "-Z missing: '$rc_ref $err_ref' vs '$rc_rk $err_rk'"; fi
ipvsadm -C

# Sync daemons: started by one tool, listed/stopped by the other.
ip link add rkid0 type dummy 2>/dev/null; ip link set rkid0 up
ipvsadm --start-daemon master --mcast-interface rkid0 --syncid 5
ipvsadm -Ln --daemon >/tmp/d.ref
$RK -L --daemon >/tmp/d.rk
if [[ -s /tmp/d.ref ]] && cmp -s /tmp/d.ref /tmp/d.rk; then ok "rk lists ipvsadm's daemon: $(cat /tmp/d.rk)"; else ko "daemon list"; diff /tmp/d.ref /tmp/d.rk; fi
if $RK --stop-daemon master && [[ -z $(ipvsadm -Ln --daemon) ]]; then ok "rk --stop-daemon"; else ko "rk --stop-daemon"; fi
$RK --start-daemon backup --mcast-interface rkid0 --syncid 6
ipvsadm -Ln --daemon >/tmp/d2.ref
$RK -L --daemon >/tmp/d2.rk
if grep -q "backup sync daemon (mcast=rkid0, syncid=6" /tmp/d2.ref && cmp -s /tmp/d2.ref /tmp/d2.rk; then ok "rk --start-daemon seen by ipvsadm: $(cat /tmp/d2.ref)"; else ko "rk start daemon: $(cat /tmp/d2.ref)"; diff /tmp/d2.ref /tmp/d2.rk; fi
ipvsadm --stop-daemon backup
err_ref=$(ipvsadm --stop-daemon backup 2>&1); rc_ref=$?
err_rk=$($RK --stop-daemon backup 2>&1); rc_rk=$?
if [[ "$rc_ref $err_ref" == "$rc_rk $err_rk" ]]; then ok "stopping a stopped daemon fails like ipvsadm"; else ko "stop stopped: '$rc_ref $err_ref' vs '$rc_rk $err_rk'"; fi

ipvsadm -C
echo "SUMMARY $pass passed, $fail failed"
[[ $fail -eq 0 ]]
