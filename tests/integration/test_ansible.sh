# test_ansible.sh — the Ansible deployment (ansible/) against real targets.
# ansible-lint (plain: ansible/.ansible-lint makes it the production
# profile) and --syntax-check on every playbook; then Docker containers
# running systemd stand in for lab machines — coord (the coordinator), node1
# (a native worker and a docker worker, whose engine is this machine's,
# through its socket) and vm1 (a qemu VM worker, when the VM kernel is
# there).  First the lab as it is deployed without CURVE (the inventory
# says lockstep_curve_enabled: false): site.yml --check on the fresh hosts
# (no failure), site.yml (from the .debs that cpack makes here), site.yml
# again (changed=0 everywhere), run.yml with a one-phase experiment (every
# worker, database and report fetched back), run.yml with a worker host
# killed (named with the reason, the others run, the playbook fails).  Then
# the lab goes over to CURVE, the roles' default: site.yml (certificates
# made on this control node by the build's `lockstep keygen`, installed on
# the hosts, the VM's in its own initramfs; again changed=0) and run.yml with
# experiments/smoke.yaml and the coordinator on --keys: every worker, the VM
# included, admitted with its key, while a worker without a key and one with
# an unknown key try to get in (refused, with their address, and not in the
# run); last teardown.yml (nothing of lockstep left but the results).
# The targets' image is made by tests/ansible/target-image.sh (debootstrap,
# cached under /var/cache/lockstep/ansible-target).
. "$(dirname "$0")/lib.sh"
BUILD=$(cd "$BIN/.." && pwd)
SRC=$(cd "$SRC" && pwd)
ANS=$SRC/ansible
ID=lsa-$$
NET=$ID
# node1's engine is this machine's: the certificates its docker worker
# bind-mounts must be at the same path here and in node1, so node1's CURVE
# directory is in a directory of this machine mounted at the same path
# (outside $TMP, which node1's lockstep user could not traverse)
NODE1_SHARED=/tmp/$ID-node1
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_CONFIG=$ANS/ansible.cfg
export ANSIBLE_LOCAL_TEMP=$TMP/ansible-local

# Everything of this run carries $ID: the targets, the docker worker's
# container and image, the network.  Removed whatever happens.
ansible_cleanup() {
  local c
  c=$(docker ps -aq --filter "name=^$ID-" 2>/dev/null)
  [ -n "$c" ] && docker rm -f $c >/dev/null 2>&1
  docker image rm -f "$ID-worker:latest" >/dev/null 2>&1
  docker network rm "$NET" >/dev/null 2>&1
  rm -rf "$NODE1_SHARED"
  cleanup
}
trap ansible_cleanup EXIT

command -v ansible-playbook >/dev/null || skip "ansible not installed (package ansible; scripts/deps.sh)"
command -v ansible-lint >/dev/null || skip "ansible-lint not installed (package ansible-lint; scripts/deps.sh)"
t() { date +%s%N; }
since() { awk -v a="$1" -v b="$(t)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
step() { echo "--- $* ($(since "$T0") s)"; }
T0=$(t)

# 1. lint and syntax
cd "$ANS" || fail "no $ANS"
# plain, as a person runs it: ansible/.ansible-lint says production, offline
ansible-lint --offline --nocolor >"$TMP/lint" 2>&1 || { cat "$TMP/lint"; fail "ansible-lint"; }
grep -q '^Passed with production profile: 0 failure(s), 0 warning(s)' "$TMP/lint" ||
  { cat "$TMP/lint"; fail "ansible-lint did not pass the production profile without a warning"; }
ansible-playbook -i inventory/example --syntax-check site.yml run.yml teardown.yml >"$TMP/syntax" 2>&1 ||
  { cat "$TMP/syntax"; fail "syntax check"; }
for pb in site.yml run.yml teardown.yml; do
  grep -qx "playbook: $pb" "$TMP/syntax" || { cat "$TMP/syntax"; fail "syntax check did not cover $pb"; }
done
step "ansible-lint (production, from ansible/.ansible-lint) and --syntax-check of site.yml run.yml teardown.yml: clean"

# A sanitizer build's packages would need its runtime on the targets: the
# default build runs the deployment; lint and syntax above ran in both.
grep -q '^LOCKSTEP_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null &&
  skip "deployment run: a sanitizer build's packages are not what lab machines get (the default build runs it)"
timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  skip "deployment run: docker engine not running (scripts/services.sh starts it)"

# A run of this test killed with -9 (a CTest timeout) could not clean up:
# remove what runs whose process is gone left (their id holds their pid).
for n in $(docker network ls --filter label=lockstep.test --format '{{.Name}}'); do
  pid=${n#lsa-}
  case $pid in ''|*[!0-9]*) continue ;; esac
  kill -0 "$pid" 2>/dev/null && continue
  echo "removing what an earlier run ($n) left"
  c=$(docker ps -aq --filter "name=^$n-")
  [ -n "$c" ] && docker rm -f $c >/dev/null 2>&1
  docker image rm -f "$n-worker:latest" >/dev/null 2>&1
  docker network rm "$n" >/dev/null 2>&1
  rm -rf "/tmp/$n-node1"
done

# 2. the packages, the targets' image
# into a directory of this test's own (the build tree's packages/ is the
# user's); the binaries are this build's
PKG=$TMP/pkg
(cd "$BUILD" && cpack -G DEB -B "$PKG") >"$TMP/cpack" 2>&1 || { cat "$TMP/cpack"; fail "cpack"; }
for p in lockstep lockstep-worker; do
  f=$(ls "$PKG"/${p}_*.deb 2>/dev/null | tail -1)
  [ -n "$f" ] || fail "cpack made no $p package"
  dpkg-deb -f "$f" Depends | grep -q libzmq5 || fail "$p: no shared-library dependencies: $(dpkg-deb -f "$f" Depends)"
done
# (listed to a file: grep -q leaving early would break dpkg-deb's pipe)
dpkg-deb -c "$PKG"/lockstep-worker_*.deb >"$TMP/worker-deb" || fail "dpkg-deb -c lockstep-worker"
grep -q './usr/lib/lockstep/lockstep-vm-init$' "$TMP/worker-deb" ||
  fail "lockstep-vm-init not in the worker package"
step "cpack: $(cd "$PKG" && ls *.deb | tr '\n' ' ')"
# the targets reach no archive: their image holds what the packages depend
# on, read from the packages themselves (a new library needs no edit here)
DEPS=$(for f in "$PKG"/*.deb; do dpkg-deb -f "$f" Depends; done | tr ',' '\n' |
  sed -e 's/([^)]*)//g' -e 's/|.*//' -e 's/[[:space:]]//g' | grep -v '^lockstep' | sort -u | tr '\n' ' ')
IMAGE=$("$SRC/tests/ansible/target-image.sh" $DEPS 2>"$TMP/image") || { cat "$TMP/image"; fail "target image"; }
sed 's/^/    /' "$TMP/image"
step "target image $IMAGE"

# 3. the targets: systemd as PID 1 (all capabilities this machine has; the
# cgroup v1 hierarchy for systemd); the docker host gets this engine's socket
KERNEL=$(ls /var/cache/lockstep/kernel/*/boot/vmlinuz-* 2>/dev/null | sort | tail -1)
HOSTS="coord node1"
if [ -n "$KERNEL" ]; then HOSTS="$HOSTS vm1"; else echo "note: no VM kernel (scripts/fetch-kernel.sh): the qemu worker host is left out"; fi
docker network create --label "lockstep.test=$ID" "$NET" >/dev/null || fail "docker network create"
mkdir -m 0755 "$NODE1_SHARED" || fail "mkdir $NODE1_SHARED"
for h in $HOSTS; do
  extra=()
  [ "$h" = node1 ] && extra=(-v /var/run/docker.sock:/var/run/docker.sock -v "$NODE1_SHARED:$NODE1_SHARED")
  docker run -d --name "$ID-$h" --hostname "$h" --network "$NET" --label "lockstep.test=$ID" \
    --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    --stop-signal SIGRTMIN+3 "${extra[@]}" "$IMAGE" >/dev/null 2>"$TMP/run-$h" ||
    { cat "$TMP/run-$h"; fail "starting target $h"; }
done
for h in $HOSTS; do
  wait_for 30 sh -c "docker exec $ID-$h systemctl is-system-running 2>/dev/null | grep -qE '^(running|degraded)$'" ||
    fail "target $h: systemd did not come up: $(docker exec "$ID-$h" systemctl is-system-running 2>&1)"
done
ip_of() { docker inspect -f "{{ (index .NetworkSettings.Networks \"$NET\").IPAddress }}" "$ID-$1"; }
COORD_IP=$(ip_of coord)
NODE1_IP=$(ip_of node1)
[ -n "$COORD_IP" ] && [ -n "$NODE1_IP" ] || fail "no address for the coordinator or node1 target"
step "targets up: $HOSTS (coordinator at $COORD_IP)"

# The lab: INV as deployed first, CURVE turned off; INV_CURVE with the
# roles' default (CURVE on), the same hosts
inventory() {  # CURVE(false|default)
  local curve=$1
  echo "all:"
  echo "  vars:"
  echo "    ansible_connection: community.docker.docker"
  echo "    ansible_python_interpreter: /usr/bin/python3"
  echo "    lockstep_packages_dir: $PKG"
  echo "    lockstep_apt_update_cache: false   # the targets reach no archive; the image has the dependencies"
  echo "    lockstep_docker_container_prefix: $ID-"
  echo "    lockstep_docker_image: $ID-worker"
  echo "    lockstep_docker_manage_engine: false   # node1 uses this machine's engine"
  echo "    lockstep_docker_network: $NET"
  echo "    lockstep_coordinator_experiments: [$SRC/experiments/smoke.yaml]"
  [ "$curve" = false ] && echo "    lockstep_curve_enabled: false   # the opt-out: the coordinator on --insecure"
  echo "    lockstep_curve_control_dir: $TMP/curve   # the certificates of this test, made by this build"
  echo "    lockstep_curve_keygen: $LOCKSTEP"
  echo "  children:"
  echo "    coordinator:"
  echo "      hosts:"
  echo "        coord: {ansible_host: $ID-coord, lockstep_advertise_address: $COORD_IP}"
  echo "    native:"
  echo "      hosts:"
  echo "        node1:   # a container standing for a machine"
  echo "          ansible_host: $ID-node1"
  echo "          lockstep_worker_platform: native"
  echo "          lockstep_curve_dir: $NODE1_SHARED/curve   # seen by this machine's engine too"
  echo "    docker:"
  echo "      hosts:"
  echo "        node1:"
  echo "    kvm:"
  echo "      hosts: {}"
  echo "    qemu:"
  echo "      hosts:"
  if [ -n "$KERNEL" ]; then
    echo "        vm1: {ansible_host: $ID-vm1, lockstep_vm_memory: 512}"
  else
    echo "        {}"
  fi
}
INV=$TMP/inventory.yml
INV_CURVE=$TMP/inventory-curve.yml
inventory false >"$INV"
inventory default >"$INV_CURVE"

# PLAY RECAP lines: "host : ok=N changed=N unreachable=N failed=N ..."
recap() { sed -n '/^PLAY RECAP/,/^$/p' "$1"; }
changed_total() { recap "$1" | grep -o 'changed=[0-9]*' | awk -F= '{ n += $2 } END { print n + 0 }'; }

# 4. site.yml --check on the fresh hosts, then site.yml twice
TS=$(t)
ansible-playbook -i "$INV" site.yml --check >"$TMP/check" 2>&1 || { tail -60 "$TMP/check"; fail "site.yml --check on fresh hosts"; }
step "site.yml --check on fresh hosts in $(since "$TS") s: no failure"
# node1 holds the docker build context an older version of the role made
# (no tag file): site.yml replaces it with lockstep image docker's
docker exec "$ID-node1" sh -c 'mkdir -p /var/lib/lockstep/docker-context/root/opt &&
  echo "FROM scratch" >/var/lib/lockstep/docker-context/Dockerfile' || fail "planting an old docker context"
TS=$(t)
ansible-playbook -i "$INV" site.yml >"$TMP/site1" 2>&1 || { tail -60 "$TMP/site1"; fail "site.yml"; }
SITE1=$(since "$TS")
recap "$TMP/site1"
step "site.yml deployed in $SITE1 s"
TS=$(t)
ansible-playbook -i "$INV" site.yml >"$TMP/site2" 2>&1 || { tail -60 "$TMP/site2"; fail "site.yml (second run)"; }
SITE2=$(since "$TS")
c=$(changed_total "$TMP/site2")
[ "$c" = 0 ] || { grep -B2 -A6 '^changed:' "$TMP/site2" | head -60; recap "$TMP/site2"; fail "second site.yml changed $c things: not idempotent"; }
step "site.yml again in $SITE2 s: changed=0 on every host"

# the services are there as a lab machine would have them
docker exec "$ID-node1" systemctl is-active lockstep-worker.service >/dev/null ||
  fail "node1: lockstep-worker not active: $(docker exec "$ID-node1" systemctl status lockstep-worker 2>&1 | tail -5)"
docker exec "$ID-node1" systemctl is-enabled lockstep-worker.service >/dev/null || fail "node1: lockstep-worker not enabled"
docker exec "$ID-node1" grep -q "^LOCKSTEP_CONNECT=tcp://$COORD_IP:5555$" /etc/lockstep/worker.conf || fail "node1: worker.conf"
[ "$(docker inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.State.Running}}' "$ID-node1-docker" 2>&1)" = "always true" ] ||
  fail "docker worker container: $(docker inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.State.Status}}' "$ID-node1-docker" 2>&1)"
if [ -n "$KERNEL" ]; then
  docker exec "$ID-vm1" systemctl is-active lockstep-vm@vm1-qemu.service >/dev/null ||
    fail "vm1: VM service not active: $(docker exec "$ID-vm1" journalctl -u lockstep-vm@vm1-qemu --no-pager 2>&1 | tail -5)"
  docker exec "$ID-vm1" grep -qx 'LOCKSTEP_VM_CERT=' /etc/lockstep/vm/vm1-qemu.conf || fail "vm1: a certificate in the VM's settings without CURVE"
fi
# the images are lockstep's own recipe: `lockstep image` wrote them (the
# lockstep package is on the docker and VM hosts; the roles ship no script)
docker exec "$ID-node1" sh -c 'command -v lockstep && grep -E "^lockstep-worker:[0-9a-f]{16}$" /var/lib/lockstep/docker-context/tag' >/dev/null ||
  fail "node1: the docker context was not written by lockstep image: $(docker exec "$ID-node1" ls -A /var/lib/lockstep/docker-context 2>&1)"
docker exec "$ID-node1" test -e /var/lib/lockstep/docker-context/root && fail "node1: the old docker context is still there"
if [ -n "$KERNEL" ]; then
  docker exec "$ID-vm1" sh -c 'cpio -t --quiet </var/lib/lockstep/vm/initramfs.cpio' >"$TMP/vm-initramfs" 2>&1 &&
    grep -qx init "$TMP/vm-initramfs" && grep -qx bin/lockstep-worker "$TMP/vm-initramfs" ||
    { head -20 "$TMP/vm-initramfs"; fail "vm1: the initramfs is no cpio with /init and the worker"; }
  grep -q "^etc/lockstep/.*cert" "$TMP/vm-initramfs" && fail "vm1: a certificate in the shared initramfs"
fi
for h in $HOSTS; do
  docker exec "$ID-$h" sh -c 'ls /usr/local/lib/lockstep 2>/dev/null' | grep -q 'lockstep-docker-context\|lockstep-vm-initramfs' &&
    fail "$h: a role installed its own copy of an image recipe"
done
for h in $HOSTS; do
  docker exec "$ID-$h" sh -c 'ls -d /etc/lockstep/curve /var/lib/lockstep/vm/*.initramfs.cpio 2>/dev/null' | grep -q . &&
    fail "$h: certificates although CURVE is off"
done
[ ! -e "$NODE1_SHARED/curve" ] || fail "node1: certificates although CURVE is off"

# 5. run.yml without CURVE (--insecure): every worker; the database and the
# report fetched back.  (A short experiment: the smoke experiment runs with
# CURVE in step 7.)
WORKERS="node1 node1-docker"; [ -n "$KERNEL" ] && WORKERS="$WORKERS vm1-qemu"
NW=$(echo $WORKERS | wc -w)
RES=$TMP/results
cat >"$TMP/short.yaml" <<'EOF2'
name: short
description: "one null phase: who takes part"
start_delay: 100ms
grace: 10s
phases:
  - name: barrier
    bench: null
    params:
      sleep: 10ms
EOF2
TS=$(t)
ansible-playbook -i "$INV" run.yml -e "lockstep_results_dir=$RES" -e "lockstep_experiment=$TMP/short.yaml" >"$TMP/run1" 2>&1 ||
  { tail -60 "$TMP/run1"; fail "run.yml"; }
RUN1=$(since "$TS")
grep -q '"\$ lockstep run .* --insecure' "$TMP/run1" ||
  { grep -A3 "TASK \[Show lockstep" "$TMP/run1"; fail "the coordinator did not run with --insecure (CURVE off)"; }
DB=$RES/lockstep.db
[ -s "$DB" ] || fail "run.yml fetched no database to $DB"
expect_eq "$(sql "SELECT status FROM runs WHERE id=1")" complete "status of the run"
expect_eq "$(sql "SELECT name || '=' || platform FROM workers WHERE run=1" | LC_ALL=C sort | paste -sd' ')" \
  "$(for w in $WORKERS; do case $w in *-docker) p=docker;; *-qemu) p=qemu;; *) p=native;; esac; echo "$w=$p"; done | LC_ALL=C sort | paste -sd' ')" \
  "workers of the run and their platforms"
expect_eq "$(sql "SELECT COUNT(DISTINCT worker) FROM results WHERE run=1 AND status='ok'")" "$NW" "workers with results"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE run=1 AND status!='ok'")" 0 "failed or lost results"
[ -s "$RES/run-1/report.html" ] && [ -s "$RES/run-1/results.csv" ] || fail "report not fetched: $(ls "$RES" "$RES/run-1" 2>&1)"
step "run.yml in $RUN1 s: run 1 complete on $WORKERS (--insecure); database and report fetched"

# 6. a worker host that cannot be reached: named with the reason, the others
# run.  The host killed is the VM host (its VM dies with it), else node1.
LOST=node1; [ -n "$KERNEL" ] && LOST=vm1
LOSTW=node1,node1-docker; [ "$LOST" = vm1 ] && LOSTW=vm1-qemu
docker kill "$ID-$LOST" >/dev/null || fail "docker kill $LOST"
TS=$(t)
ansible-playbook -i "$INV" run.yml -e "lockstep_results_dir=$RES" -e "lockstep_experiment=$TMP/short.yaml" >"$TMP/run2" 2>&1
rc=$?
RUN2=$(since "$TS")
[ $rc -ne 0 ] || { tail -30 "$TMP/run2"; fail "run.yml succeeded although $LOST was unreachable"; }
grep -q "left out: $LOST (workers ${LOSTW//,/, }): .*is not running" "$TMP/run2" ||
  { tail -60 "$TMP/run2"; fail "run.yml did not name $LOST and why"; }
grep -qE "fatal: \[coord\]: FAILED.*hosts left out: $LOST: " "$TMP/run2" || { tail -40 "$TMP/run2"; fail "no failure naming $LOST at the end"; }
NLEFT=$(sql "SELECT COUNT(*) FROM workers WHERE run=1") ; NLEFT=$((NLEFT - $(echo "$LOSTW" | tr ',' ' ' | wc -w)))
if [ "$NLEFT" -gt 0 ]; then
  expect_eq "$(sql "SELECT status FROM runs WHERE id=2")" complete "status of the run without $LOST"
  expect_eq "$(sql "SELECT COUNT(DISTINCT worker) FROM results WHERE run=2 AND status='ok'")" "$NLEFT" "workers with results in run 2"
  inlist="'$(echo "$LOSTW" | sed "s/,/','/g")'"
  expect_eq "$(sql "SELECT COUNT(*) FROM workers WHERE run=2 AND name IN ($inlist)")" 0 "$LOST's workers in run 2"
  [ -s "$RES/run-2/report.html" ] || fail "report of run 2 not fetched"
fi
step "run.yml with $LOST killed in $RUN2 s: $(grep -o "left out: $LOST[^\"]*" "$TMP/run2" | head -1); the others ran; exit $rc"

# 7. CURVE: the lab goes over to the roles' default (INV_CURVE), every
# worker with its key, the VM's in its initramfs; the certificates are made
# on this control node by this build's `lockstep keygen`
docker start "$ID-$LOST" >/dev/null || fail "docker start $LOST"
wait_for 30 sh -c "docker exec $ID-$LOST systemctl is-system-running 2>/dev/null | grep -qE '^(running|degraded)$'" || fail "$LOST did not come back"
CURVE=$TMP/curve
# the public key of a worker no longer in the inventory: site.yml removes it
docker exec "$ID-coord" sh -c 'mkdir -p /etc/lockstep/curve/allowed && echo stale >/etc/lockstep/curve/allowed/gone.cert' ||
  fail "planting a stale certificate"
TS=$(t)
ansible-playbook -i "$INV_CURVE" site.yml >"$TMP/site3" 2>&1 || { tail -60 "$TMP/site3"; fail "site.yml with CURVE"; }
SITE3=$(since "$TS")
TS=$(t)
ansible-playbook -i "$INV_CURVE" site.yml >"$TMP/site4" 2>&1 || { tail -60 "$TMP/site4"; fail "site.yml with CURVE (second run)"; }
SITE4=$(since "$TS")
c=$(changed_total "$TMP/site4")
[ "$c" = 0 ] || { grep -B2 -A6 '^changed:' "$TMP/site4" | head -60; recap "$TMP/site4"; fail "second site.yml with CURVE changed $c things: not idempotent"; }
# the certificates: made once here, each host has what it needs, secrets 0600
expect_eq "$(cd "$CURVE" && stat -c '%n %a' coordinator.cert_secret $(for w in $WORKERS; do echo "workers/$w.cert_secret"; done) 2>&1 | paste -sd' ')" \
  "coordinator.cert_secret 600$(for w in $WORKERS; do printf ' workers/%s.cert_secret 600' "$w"; done)" "certificates on the control node"
expect_eq "$(docker exec "$ID-coord" sh -c 'cd /etc/lockstep/curve && stat -c "%n %a %U" coordinator.cert_secret && ls allowed' 2>&1 | paste -sd' ')" \
  "coordinator.cert_secret 600 root $(for w in $WORKERS; do echo "$w.cert"; done | LC_ALL=C sort | paste -sd' ')" \
  "coordinator: its secret certificate, the inventory's workers admitted"
expect_eq "$(docker exec -w "$NODE1_SHARED/curve" "$ID-node1" stat -c '%n %a %U' node1.cert_secret node1-docker.cert_secret coordinator.cert 2>&1 | paste -sd' ')" \
  "node1.cert_secret 600 lockstep node1-docker.cert_secret 600 root coordinator.cert 644 root" "node1: its workers' secret certificates, the coordinator's public one"
cmp -s "$CURVE/coordinator.cert" "$NODE1_SHARED/curve/coordinator.cert" || fail "node1 has another coordinator certificate"
CERTS="--cert $NODE1_SHARED/curve/node1.cert_secret --server-cert $NODE1_SHARED/curve/coordinator.cert"
docker exec "$ID-node1" pgrep -af lockstep-worker | grep -qF -- "$CERTS" ||
  fail "node1: the worker does not run with its certificates: $(docker exec "$ID-node1" pgrep -af lockstep-worker)"
docker inspect -f '{{json .Config.Cmd}} {{range .HostConfig.Mounts}}{{.Source}}:{{.Target}}:{{.ReadOnly}} {{end}}{{.State.Running}}' "$ID-node1-docker" >"$TMP/dw" 2>&1
grep -qF -- '"--cert","/etc/lockstep/curve/worker.cert_secret","--server-cert","/etc/lockstep/curve/coordinator.cert"' "$TMP/dw" &&
  grep -qF "$NODE1_SHARED/curve/node1-docker.cert_secret:/etc/lockstep/curve/worker.cert_secret:true" "$TMP/dw" &&
  grep -q ' true$' "$TMP/dw" || fail "docker worker container without its certificates, or not running: $(cat "$TMP/dw")"
# the VM host: its VM's secret certificate and the coordinator's public one,
# root's; QEMU boots the VM's own initramfs: the shared one with a cpio of
# the two appended, where lockstep-vm-init finds them
VMNOTE=
if [ -n "$KERNEL" ]; then
  expect_eq "$(docker exec -w /etc/lockstep/curve "$ID-vm1" stat -c '%n %a %U' vm1-qemu.cert_secret coordinator.cert 2>&1 | paste -sd' ')" \
    "vm1-qemu.cert_secret 600 root coordinator.cert 644 root" "vm1: its VM's secret certificate, the coordinator's public one"
  OWN=/var/lib/lockstep/vm/vm1-qemu.initramfs.cpio
  wait_for 60 sh -c "docker exec $ID-vm1 pgrep -af qemu-system | grep -qF -- '-initrd $OWN '" ||
    fail "vm1: QEMU does not boot the VM's own initramfs: $(docker exec "$ID-vm1" pgrep -af qemu-system; docker exec "$ID-vm1" journalctl -u lockstep-vm@vm1-qemu --no-pager 2>&1 | tail -5)"
  expect_eq "$(docker exec "$ID-vm1" stat -c '%a %U' "$OWN" 2>&1)" "600 root" "vm1: the VM's own initramfs"
  # (its first bytes are the shared initramfs; the rest is the certificates' cpio)
  docker exec "$ID-vm1" sh -c "n=\$(stat -c %s /var/lib/lockstep/vm/initramfs.cpio) &&
    cmp -n \$n /var/lib/lockstep/vm/initramfs.cpio $OWN && tail -c +\$((n + 1)) $OWN | cpio -itv --quiet" >"$TMP/vmcpio" 2>&1 ||
    { cat "$TMP/vmcpio"; fail "vm1: the VM's initramfs is not the shared one with a cpio appended"; }
  expect_eq "$(awk '{ print $1, $3, $NF }' "$TMP/vmcpio" | paste -sd' ')" \
    "drwxr-xr-x root etc drwxr-xr-x root etc/lockstep -rw-r--r-- root etc/lockstep/coordinator.cert -rw------- root etc/lockstep/worker.cert_secret" \
    "vm1: the cpio appended to the VM's initramfs"
  docker exec "$ID-vm1" sh -c "tail -c +\$((\$(stat -c %s /var/lib/lockstep/vm/initramfs.cpio) + 1)) $OWN |
    cpio -i --to-stdout --quiet etc/lockstep/worker.cert_secret" | cmp -s - "$CURVE/workers/vm1-qemu.cert_secret" ||
    fail "vm1: the VM's initramfs holds another secret certificate than the control node's vm1-qemu.cert_secret"
  VMNOTE=", vm1-qemu's in its initramfs"
fi
step "site.yml with CURVE in $SITE3 s, again in $SITE4 s (changed=0): certificates made here, installed with their modes$VMNOTE, the stale key gone"

# run.yml with --keys and the smoke experiment (the roles' default), while
# two intruders on node1 knock: a worker with no key, and one with a key of
# its own (and the coordinator's public one).  They retry at least every
# 5 s, as the workers of the run do: the run (admission, six phases, one
# worker a TCG VM) lasts longer than that.
"$LOCKSTEP" keygen "$NODE1_SHARED/rogue" --workers intruder-rogue >/dev/null || fail "keygen of the intruder's key"
intruder() {  # NAME [ARGS]: a lockstep-worker on node1 in the background; prints its pid there
  docker exec "$ID-node1" sh -c "timeout 300 lockstep-worker --connect tcp://$COORD_IP:5555 --name $1 --spool /tmp/$1 ${*:2} \
    >$NODE1_SHARED/$1.log 2>&1 & echo \$!"
}
INTRUDERS="$(intruder intruder-nokey) $(intruder intruder-rogue --cert "$NODE1_SHARED/rogue/workers/intruder-rogue.cert_secret" \
  --server-cert "$NODE1_SHARED/curve/coordinator.cert")"
BEFORE=$(sql "SELECT COALESCE(MAX(id), 0) FROM runs")
TS=$(t)
ansible-playbook -i "$INV_CURVE" run.yml -e "lockstep_results_dir=$RES" >"$TMP/run3" 2>&1 ||
  { tail -60 "$TMP/run3"; fail "run.yml with CURVE"; }
RUN3=$(since "$TS")
docker exec "$ID-node1" kill $INTRUDERS 2>/dev/null
R=$((BEFORE + 1))
grep -q '"\$ lockstep run .* --keys /etc/lockstep/curve' "$TMP/run3" && ! grep -q -- '--insecure' "$TMP/run3" ||
  { grep -A3 "TASK \[Show lockstep" "$TMP/run3"; fail "the coordinator did not run with --keys /etc/lockstep/curve"; }
grep -qF "CURVE: $NW worker key(s) allowed (/etc/lockstep/curve/allowed)" "$TMP/run3" ||
  { grep -A20 "TASK \[Show lockstep" "$TMP/run3"; fail "the coordinator did not say it admits the $NW workers' keys"; }
grep -q "refused a connection from $NODE1_IP: it did not complete the CURVE handshake" "$TMP/run3" ||
  { grep -A20 "TASK \[Show lockstep" "$TMP/run3"; fail "no refusal of the worker without a key from $NODE1_IP"; }
grep -q "refused a worker at $NODE1_IP: its CURVE key [^ ]* is not in /etc/lockstep/curve/allowed" "$TMP/run3" ||
  { grep -A20 "TASK \[Show lockstep" "$TMP/run3"; fail "no refusal of the worker with an unknown key from $NODE1_IP"; }
# only the intruders were refused: no refusal from anywhere else (the VM's
# connections come from vm1's address, through QEMU's NAT)
grep -oE 'refused a (connection from|worker at) [0-9.]+' "$TMP/run3" | grep -vE " $NODE1_IP\$" &&
  { grep -A30 "TASK \[Show lockstep" "$TMP/run3"; fail "the coordinator refused someone besides the intruders"; }
expect_eq "$(sql "SELECT status FROM runs WHERE id=$R")" complete "status of the CURVE run"
expect_eq "$(sql "SELECT name || '=' || platform FROM workers WHERE run=$R" | LC_ALL=C sort | paste -sd' ')" \
  "$(for w in $WORKERS; do case $w in *-docker) p=docker;; *-qemu) p=qemu;; *) p=native;; esac; echo "$w=$p"; done | LC_ALL=C sort | paste -sd' ')" \
  "workers of the CURVE run and their platforms"
expect_eq "$(sql "SELECT COUNT(DISTINCT worker) FROM results WHERE run=$R AND status='ok'")" "$NW" "workers with results in the CURVE run"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE run=$R AND status!='ok'")" 0 "failed or lost results of the CURVE run"
expect_eq "$(sql "SELECT COUNT(DISTINCT phase) FROM results WHERE run=$R")" 6 "phases with results in the CURVE run"
[ -s "$RES/run-$R/report.html" ] && [ -s "$RES/run-$R/results.csv" ] || fail "report of the CURVE run not fetched: $(ls "$RES" 2>&1)"
grep -oE '(CURVE: [0-9]+ worker key|refused a )[^"]*' "$TMP/run3" | sed 's/^/    /'
step "run.yml with CURVE in $RUN3 s: smoke run $R complete on $WORKERS (--keys); the intruders from $NODE1_IP refused (no key; unknown key)"

# 8. teardown.yml: nothing of lockstep left
TS=$(t)
ansible-playbook -i "$INV_CURVE" teardown.yml >"$TMP/down" 2>&1 || { tail -60 "$TMP/down"; fail "teardown.yml"; }
TEARDOWN=$(since "$TS")
for h in $HOSTS; do
  left=$(docker exec "$ID-$h" sh -c 'dpkg-query -W -f="\${Status} \${Package}\n" lockstep lockstep-worker 2>/dev/null | grep "ok installed";
    ls -d /etc/lockstep /etc/systemd/system/lockstep-* /usr/local/lib/lockstep /var/cache/lockstep 2>/dev/null;
    ls -A /var/lib/lockstep 2>/dev/null | grep -vx coordinator; id lockstep 2>/dev/null; pgrep -a qemu;
    systemctl list-units --all --no-legend "lockstep*" 2>/dev/null')
  [ -z "$left" ] || fail "teardown left on $h: $left"
done
[ -z "$(docker ps -aq --filter "name=^$ID-node1-docker$")" ] || fail "teardown left the docker worker container"
docker image inspect "$ID-worker:latest" >/dev/null 2>&1 && fail "teardown left the worker image"
[ ! -e "$NODE1_SHARED/curve" ] || fail "teardown left node1's certificates: $(ls -A "$NODE1_SHARED/curve")"
docker exec "$ID-coord" test -s /var/lib/lockstep/coordinator/lockstep.db || fail "teardown removed the results database"
step "teardown.yml in $TEARDOWN s: packages, services, containers, image, VMs, certificates and files gone (results kept)"

echo "timings: site.yml ${SITE1} s, again ${SITE2} s, run.yml ${RUN1} s, run.yml with a lost host ${RUN2} s," \
  "site.yml with CURVE ${SITE3} s, again ${SITE4} s, run.yml with CURVE ${RUN3} s, teardown ${TEARDOWN} s; whole test $(since "$T0") s"
pass "ansible: lint, syntax, site.yml, idempotence, check mode, run.yml, a lost host, CURVE for native, docker and VM workers (certificates, --keys, smoke, intruders refused), teardown"
