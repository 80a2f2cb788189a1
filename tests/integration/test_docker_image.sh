# The docker platform: the image is built from this build's worker (a copy
# with a few bytes appended, so that this test builds its own image and
# removes it), reused by the next run, the worker inside detects docker and
# runs the disk benchmarks on a volume; an engine that dies mid-setup or is
# not running is reported as such.  Nothing is left behind: no container,
# no state directory, no spool in the volume.  `lockstep image docker`
# writes the same context, and docker builds a working image of it.
. "$(dirname "$0")/lib.sh"
command -v docker >/dev/null || skip "docker CLI not installed"
timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  skip "docker engine not running ($(timeout 10 docker version 2>&1 | grep -m1 -i 'cannot\|error'))"

VOL=$(mktemp -d /var/tmp/lockstep-it-vol.XXXXXX)
TAGS=()
docker_cleanup() {
  for t in "${TAGS[@]}"; do docker rmi -f "$t" >/dev/null 2>&1; done
  rm -rf "$VOL"
}
trap 'docker_cleanup; cleanup' EXIT

export LOCKSTEP_WORKER=$TMP/lockstep-worker
cp "$WORKER" "$LOCKSTEP_WORKER"
cp "$BIN/lockstep-forksum" "$TMP/" # the fork benchmark's helper goes beside the worker
printf 'test_docker_image %s %s\n' "$$" "$(date +%s%N)" >>"$LOCKSTEP_WORKER"

cat >"$TMP/vol.yaml" <<EOF
name: docker-volume
repetitions: 1
start_delay: 100ms
platforms:
  - name: dvol
    kind: docker
    volume: $VOL
    cpus: 1
    memory: 256M
phases:
  - name: seq
    bench: disk_seq
    params: {file_size: 16M, time: 200ms, direct_fallback: true}
EOF

# Container name of the run's platform NAME, from what the store says.
container_of() { sql "SELECT what FROM platforms WHERE name='$1'" | sed -n 's/^container \([^ ]*\).*/\1/p'; }
left_behind() {
  local id=$1 key=${1#lockstep-}
  key=${key%%-*}
  [ -n "$(docker ps -a -q --filter "name=^/$id\$")" ] && echo "container $id"
  [ -e "/var/tmp/lockstep-platforms/$key" ] && echo "state directory of $key"
  return 0
}

# 1. a new worker: the image is built, the worker runs in it and detects docker
DB=$TMP/d1.db
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --platforms docker --db "$DB" \
  --timeout 60 >"$TMP/out1" 2>"$TMP/err1"
rc=$?
[ $rc -eq 0 ] || { cat "$TMP/out1" "$TMP/err1"; fail "first run: exit $rc"; }
TAG=$(sql "SELECT what FROM platforms WHERE name='docker'" | grep -o 'lockstep-worker:[0-9a-f]*')
[ -n "$TAG" ] && TAGS+=("$TAG")
grep -q "building image $TAG" "$TMP/err1" || { cat "$TMP/err1"; fail "no image built for a new worker"; }
expect_eq "$(docker image inspect --format '{{index .Config.Labels "lockstep"}}' "$TAG")" 1 "image label"
expect_eq "$(sql "SELECT status FROM platforms WHERE name='docker'")" ran "platform status"
expect_eq "$(sql "SELECT platform FROM workers WHERE name='docker'")" docker "detected platform"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep FROM results WHERE worker='docker' AND status='ok')")" 7 "results"
ID=$(container_of docker)
[ -n "$ID" ] || fail "no container named in the platforms table"
expect_eq "$(left_behind "$ID")" "" "left behind by the first run"

# 2. the same worker: the image is reused
DB=$TMP/d2.db
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --platforms docker --db "$DB" \
  --timeout 60 >"$TMP/out2" 2>"$TMP/err2"
rc=$?
[ $rc -eq 0 ] || { cat "$TMP/err2"; fail "second run: exit $rc"; }
grep -q "building image" "$TMP/err2" && fail "image rebuilt although the worker did not change"
sql "SELECT what FROM platforms WHERE name='docker'" | grep -qF "$TAG" || fail "image $TAG not reused"
expect_eq "$(left_behind "$(container_of docker)")" "" "left behind by the second run"

# 3. a volume: the disk benchmark writes there; its spool is removed afterwards
DB=$TMP/d3.db
"$LOCKSTEP" run "$TMP/vol.yaml" --db "$DB" --timeout 60 >"$TMP/out3" 2>"$TMP/err3"
rc=$?
[ $rc -eq 0 ] || { cat "$TMP/out3" "$TMP/err3"; fail "volume run: exit $rc"; }
sql "SELECT value FROM result_details WHERE worker='dvol' AND key='file'" | grep -q '^/data/' ||
  fail "disk_seq did not write to the volume"
expect_eq "$(ls -A "$VOL")" "" "files left in the volume"
expect_eq "$(left_behind "$(container_of dvol)")" "" "left behind by the volume run"

# 4. an engine that dies after the image is there, when the container starts
cat >"$TMP/dies" <<'EOF'
#!/bin/sh
[ "$1" = run ] && export DOCKER_HOST=unix:///nonexistent/docker.sock
exec docker "$@"
EOF
chmod +x "$TMP/dies"
DB=$TMP/d4.db
LOCKSTEP_DOCKER=$TMP/dies "$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" \
  --platforms docker --db "$DB" --timeout 60 >"$TMP/out4" 2>"$TMP/err4"
rc=$?
expect_eq "$rc" 1 "exit status when the only platform fails"
expect_eq "$(sql "SELECT status FROM platforms WHERE name='docker'")" failed "platform status"
sql "SELECT detail FROM platforms WHERE name='docker'" | grep -q "^docker run: engine stopped: Cannot connect" ||
  fail "reason: $(sql "SELECT detail FROM platforms WHERE name='docker'")"
KEY=$(printf '%016x' "$(sql "SELECT key FROM runs")")
expect_eq "$(left_behind "lockstep-$KEY-docker")" "" "left behind by the failed start"

# 5. no engine at all: skipped, with the CLI's reason
cat >"$TMP/down" <<'EOF'
#!/bin/sh
DOCKER_HOST=unix:///nonexistent/docker.sock exec docker "$@"
EOF
chmod +x "$TMP/down"
DB=$TMP/d5.db
LOCKSTEP_DOCKER=$TMP/down "$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" \
  --platforms docker,native --db "$DB" --timeout 60 >"$TMP/out5" 2>"$TMP/err5"
rc=$?
expect_eq "$rc" 0 "exit status with docker skipped and native run"
expect_eq "$(sql "SELECT status FROM platforms WHERE name='docker'")" skipped "platform status"
sql "SELECT detail FROM platforms WHERE name='docker'" | grep -q "^docker engine not running (Cannot connect" ||
  fail "reason: $(sql "SELECT detail FROM platforms WHERE name='docker'")"

# 6. `lockstep image docker` writes the context the platform builds from: the
# same content (the same tag as the image of run 1), and docker builds it
# into an image whose entry point runs the worker
"$LOCKSTEP" image docker "$TMP/ctx" >"$TMP/out6" 2>"$TMP/err6" || { cat "$TMP/err6"; fail "lockstep image docker"; }
expect_eq "$(cat "$TMP/ctx/tag")" "$TAG" "tag of lockstep image docker's context"
ITAG=lockstep-it-image:$$
TAGS+=("$ITAG")
docker build --quiet --tag "$ITAG" "$TMP/ctx" >"$TMP/build6" 2>&1 || { cat "$TMP/build6"; fail "docker build of lockstep image docker's context"; }
docker run --rm "$ITAG" --version >"$TMP/run6" 2>&1 || { cat "$TMP/run6"; fail "the worker in lockstep image docker's image"; }
grep -q '^lockstep-worker ' "$TMP/run6" || fail "the image's entry point: $(cat "$TMP/run6")"

pass "docker image built, reused, run on the bridge and on a volume; failures named; nothing left; lockstep image docker writes the same context"
