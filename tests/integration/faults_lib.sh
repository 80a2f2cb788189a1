# faults_lib.sh — sourced by the fault tests (after lib.sh) and by
# scripts/fault-matrix.sh: one worker in a network namespace behind a veth
# pair, partitions made with iptables DROP inside that namespace (this
# kernel has no netem), and coordinator stalls made with SIGSTOP/SIGCONT.
# Addresses come from 198.19.N.0/30 (RFC 2544's benchmarking range, the
# half netns-iperf.sh does not use).  Only what this file created is changed;
# fault_down removes it.

FNS= FVETH= FADDR= FHOST=

fault_can() {
  [ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces and iptables"
  command -v ip >/dev/null || skip "ip (iproute2) not installed"
  command -v iptables >/dev/null || skip "iptables not installed"
}

# fault_up: the namespace and the veth; sets FNS, FHOST (our side's
# address, where the coordinator binds) and FADDR (the namespace's).
fault_up() {
  local n try
  for try in 1 2 3 4 5 6; do
    n=$(( (RANDOM + $$) % 250 + 1 ))
    FNS=lsf-$$-$try FVETH=lsf$$x$try
    ip -o -4 addr show | grep -q " 198\.19\.$n\.[12]/" && continue
    ip netns add "$FNS" 2>/dev/null || continue
    if ip link add "${FVETH}h" type veth peer name "${FVETH}n" 2>/dev/null &&
       ip link set "${FVETH}n" netns "$FNS" &&
       ip addr add "198.19.$n.1/30" dev "${FVETH}h" &&
       ip link set "${FVETH}h" up &&
       ip -n "$FNS" addr add "198.19.$n.2/30" dev "${FVETH}n" &&
       ip -n "$FNS" link set "${FVETH}n" up &&
       ip -n "$FNS" link set lo up &&
       ip netns exec "$FNS" iptables -L -n >/dev/null 2>&1; then
      FHOST=198.19.$n.1 FADDR=198.19.$n.2
      return 0
    fi
    fault_down
  done
  return 1
}

fault_down() {
  [ -n "$FVETH" ] && ip link del "${FVETH}h" 2>/dev/null
  [ -n "$FNS" ] && ip netns del "$FNS" 2>/dev/null
  FNS= FVETH=
}

# fault_cut in|out|both: drop the namespace's packets on its veth (inbound:
# what reaches it; outbound: what it sends).  fault_heal: allow them again.
fault_cut() {
  case $1 in
    in | both) ip netns exec "$FNS" iptables -I INPUT -i "${FVETH}n" -j DROP ;;
  esac
  case $1 in
    out | both) ip netns exec "$FNS" iptables -I OUTPUT -o "${FVETH}n" -j DROP ;;
  esac
}
fault_heal() {
  ip netns exec "$FNS" iptables -F INPUT
  ip netns exec "$FNS" iptables -F OUTPUT
}

# Run a command in the namespace (the worker that gets cut off).
in_ns() { ip netns exec "$FNS" "$@"; }

# fault_run KIND WHERE SECS [DIR] — one fault of the matrix, in the run of
# data/faults.yaml with w1 (this namespace) and w2 (the other one):
#   KIND  stop: the coordinator SIGSTOPped for SECS, then SIGCONTed;
#         cut:  w2's packets dropped (DIR in|out|both) for SECS
#   WHERE admission (after w2 is admitted, before w1 arrives),
#         barrier   (as repetition 2 of phase one is prepared),
#         start     (across repetition 2's start instant: 0.8 s after it was
#                    prepared, 0.2 s before it starts),
#         mid       (in the middle of repetition 2's measurement),
#         between   (as phase two is prepared)
# Checks what the issue asks of every fault: no finished result lost, none
# stored twice, a worker that comes back runs what is left, the exit status
# says what happened (0: every repetition of both workers has its result;
# 3: some have none), the spools are empty (but for what w2 finished
# during a fault that outlasted the run: that waits in its spool for the
# run's resume, and must be there); and for a stall of the
# coordinator or a partition shorter than the liveness limit, that nobody
# was lost at all and the run is complete.  Prints one line of the matrix
# (FAULT_LINE) and returns 0 when every check held; FAULT_WHY says which
# did not.
# FAULT_REPS: repetitions of phase one (default 4, a run of about 18 s; the
# matrix gives a 30 s fault 12, so that the run outlasts it).
FAULT_LINE= FAULT_WHY=
fault_run() {
  local kind=$1 where=$2 secs=$3 dir=${4:-both} tag rc
  local reps=${FAULT_REPS:-4}
  local total=$(( (reps + 2) * 2 ))
  tag=$kind-$where-$secs-$dir
  local db=$TMP/$tag.db port ep heal_file=$TMP/$tag.heal exp=$TMP/$tag.yaml
  sed "0,/repetitions: 4/s//repetitions: $reps/" "$SRC/tests/integration/data/faults.yaml" > "$exp"
  DB=$db
  port=$(free_port)
  ep=tcp://$FHOST:$port
  rm -rf "$TMP/$tag-s1" "$TMP/$tag-s2"
  "$LOCKSTEP" run "$exp" --bind "$ep" --insecure \
    --expect w1,w2 --timeout 60 --db "$db" >"$TMP/$tag.out" 2>"$TMP/$tag.err" &
  local coord=$!; PIDS+=($coord)
  # ip netns exec execs the worker: $! is the worker's pid, for cleanup
  ip netns exec "$FNS" "$WORKER" --connect "$ep" --name w2 --spool "$TMP/$tag-s2" \
    2>"$TMP/$tag-w2.log" &
  local w2=$!; PIDS+=($w2)
  local w1=
  start_w1() {
    "$WORKER" --connect "$ep" --name w1 --spool "$TMP/$tag-s1" 2>"$TMP/$tag-w1.log" &
    w1=$!; PIDS+=($w1)
  }
  row() { [ "$(sqlite3 -batch -noheader "$db" "SELECT COUNT(*) FROM results WHERE worker='w1' AND phase=$1 AND rep=$2" 2>/dev/null)" -ge 1 ] 2>/dev/null; }
  case $where in
    admission)
      wait_for 20 grep -q "admitted w2" "$TMP/$tag.err" || { FAULT_WHY="w2 never admitted"; return 1; } ;;
    barrier | start | mid) start_w1; wait_for 40 row 0 1 || { FAULT_WHY="rep 1 never stored"; return 1; } ;;
    between) start_w1; wait_for 90 row 0 "$reps" || { FAULT_WHY="phase one never ended"; return 1; } ;;
  esac
  case $where in
    start) sleep 0.8 ;;
    mid) sleep 2 ;;
  esac
  # the fault, in the background: its end is written down
  (
    if [ "$kind" = stop ]; then
      kill -STOP $coord; sleep "$secs"; kill -CONT $coord
    else
      fault_cut "$dir"; sleep "$secs"; fault_heal
    fi
    date +%s%N > "$heal_file"
  ) &
  local fault=$!
  if [ "$where" = admission ]; then sleep 0.5; start_w1; fi
  wait $fault
  local deadline=$((SECONDS + 120))
  while kill -0 $coord 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  kill -0 $coord 2>/dev/null && { kill -9 $coord; FAULT_WHY="the run did not end"; return 1; }
  wait $coord; rc=$?
  wait_for 10 bash -c "! kill -0 $w1 2>/dev/null && ! kill -0 $w2 2>/dev/null"
  local healed; healed=$(cat "$heal_file")
  FAULT_WHY=
  local why=() q status nok lost_at rejoined_at back=- w2ok w2want
  q() { sqlite3 -batch -noheader "$db" "$@"; }
  status=$(q "SELECT status FROM runs")
  # a fault that outlasts the run: what w2 finished meanwhile can only be
  # in its spool (for the run's resume), and must be
  local outlived=0
  [ "$(q "SELECT finished_at FROM runs")" -lt "$healed" ] && outlived=1
  nok=$(q "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE status='ok')")
  # 1. every repetition a worker finished ("done" in its log) is stored ok
  local w n ph bench r
  for w in w1 w2; do
    for ph in 0 1; do
      bench=$([ $ph = 0 ] && echo cpu || echo null)
      for r in $(grep -oE "\] $bench rep [0-9]+: done" "$TMP/$tag-$w.log" | awk '{print $4}' | tr -d : | sort -u); do
        [ "$(q "SELECT status FROM results WHERE worker='$w' AND phase=$ph AND rep=$r AND metric IN ('events_per_sec','ok')")" = ok ] && continue
        if [ $outlived = 1 ] && [ $w = w2 ] &&
           ls "$TMP/$tag-s2" | grep -q "^[0-9a-f]*-$(printf %05d $ph)-$(printf %06d $r)\.res$"; then
          continue # kept in the spool: the run ended before w2 could be heard
        fi
        why+=("$w finished $bench rep $r, neither stored nor spooled")
      done
      # 2. nothing measured twice, nothing stored twice
      n=$(grep -oE "\] $bench rep [0-9]+: done" "$TMP/$tag-$w.log" | sort | uniq -d | wc -l)
      [ "$n" = 0 ] || why+=("$w measured a repetition twice")
    done
  done
  n=$(q "SELECT COUNT(*) FROM (SELECT phase, rep, worker FROM results WHERE metric IN ('events_per_sec','ok') GROUP BY 1,2,3 HAVING COUNT(*) > 1)")
  [ "$n" = 0 ] || why+=("$n repetitions stored twice")
  # 3. back within a few beats of the fault's end, and then in every
  # repetition prepared after that (a repetition's scheduled_at is its
  # start instant: prepared start_delay, 1 s, before; a second of margin)
  lost_at=$(q "SELECT COALESCE(lost_at, '') FROM workers WHERE name='w2'")
  rejoined_at=$(q "SELECT COALESCE(rejoined_at, '') FROM workers WHERE name='w2'")
  if [ -n "$rejoined_at" ]; then
    back=$(( (rejoined_at - healed) / 1000000 ))
    [ "$back" -le 5000 ] || why+=("w2 back $back ms after the fault")
    n=$(q "SELECT COUNT(*) FROM results a WHERE a.worker='w1' AND a.scheduled_at > $rejoined_at + 2000000000
             AND a.metric IN ('events_per_sec','ok') AND NOT EXISTS (SELECT 1 FROM results b
             WHERE b.worker='w2' AND b.phase=a.phase AND b.rep=a.rep AND b.status='ok')")
    [ "$n" = 0 ] || why+=("w2 came back but missed $n repetitions started after")
  elif [ -n "$lost_at" ]; then
    # lost and never back: only acceptable when the run ended first
    [ "$(q "SELECT finished_at FROM runs")" -lt $((healed + 5000000000)) ] ||
      why+=("w2 lost and never back")
  fi
  # 4. the exit status says what happened
  if [ "$nok" = "$total" ]; then
    [ "$rc" = 0 ] && [ "$status" = complete ] || why+=("every result in, but exit $rc ($status)")
  else
    [ "$rc" = 3 ] && [ "$status" = partial ] || why+=("$nok of $total results, but exit $rc ($status)")
  fi
  # 5. nothing left unacknowledged
  n=$(ls "$TMP/$tag-s1" $([ $outlived = 1 ] || echo "$TMP/$tag-s2") 2>/dev/null | grep -c "\.res$")
  [ "$n" = 0 ] || why+=("$n results left in the spools")
  # 6. a stalled coordinator or a short partition loses nobody
  if [ "$kind" = stop ] || [ "$secs" -lt 3 ]; then
    [ -z "$lost_at" ] && [ "$(q "SELECT COUNT(*) FROM workers WHERE status != 'admitted'")" = 0 ] ||
      why+=("a worker was declared lost")
    [ "$rc" = 0 ] || why+=("not complete (exit $rc)")
  fi
  w2ok=$(q "SELECT COUNT(*) FROM results WHERE worker='w2' AND status='ok' AND metric IN ('events_per_sec','ok')")
  FAULT_LINE=$(printf "%-5s %-9s %3ss %-4s | exit %s %-8s | w2 %s/%s ok | w2 lost %-3s back %6s ms | %s" \
    "$kind" "$where" "$secs" "$([ "$kind" = cut ] && echo "$dir" || echo -)" "$rc" "$status" "$w2ok" \
    "$((reps + 2))" \
    "$([ -n "$lost_at" ] && echo yes || echo no)" "$back" \
    "$([ ${#why[@]} = 0 ] && echo ok || echo "FAIL: ${why[*]}")")
  FAULT_WHY="${why[*]}"
  [ ${#why[@]} = 0 ]
}
