# Shared by the ops/ scripts: paths, the build, and the JVM command line. Source it; do not run it.
FERRY_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FERRY_JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

# Builds every module (tests skipped) quietly; the runtime class path lands in actors/target/lib.
ferry_build() {
  echo "ferry: building (mvn package, tests skipped)..." >&2
  (cd "$FERRY_HOME" && mvn -B -q -DskipTests package) || { echo "ferry: build failed" >&2; exit 1; }
}

ferry_classpath() {
  local jar
  jar=$(ls "$FERRY_HOME"/actors/target/ferry-actors-*.jar 2>/dev/null | head -n 1)
  [[ -n "$jar" ]] || { echo "ferry: not built yet (run ops/run or mvn package)" >&2; exit 1; }
  echo "$jar:$FERRY_HOME/actors/target/lib/*"
}

# Runs a Ferry JVM. DJL must never download at run time: natives come from the jars on the class path.
# jemalloc keeps many small native models from fragmenting glibc's arenas (measured: ~38 MB vs ~1.2 MB each).
ferry_java() {
  ferry_java_cmd "$@"
  "${FERRY_JAVA_CMD[@]}"
}

# The same command line, left in the array FERRY_JAVA_CMD instead of run, for callers that must exec it or
# start it in the background and know the JVM's own pid (ferry_node_spawn, ops/node-from-env).
ferry_java_cmd() {
  local cp
  cp="$(ferry_classpath)"
  FERRY_JAVA_CMD=()
  [[ -r "$FERRY_JEMALLOC" ]] && FERRY_JAVA_CMD=(env "LD_PRELOAD=$FERRY_JEMALLOC")
  # shellcheck disable=SC2206  # FERRY_JAVA_OPTS is a list of JVM options, split on blanks on purpose
  FERRY_JAVA_CMD+=(java ${FERRY_JAVA_OPTS:-} -Dai.djl.offline=true -cp "$cp" "$@")
}

# ---- Background nodes (ops/cluster, ops/node-from-env): a pid file and a log file per node. ----

# Whether PID is a live `ferry node` JVM: a recycled pid runs something else, a zombie has no command line.
ferry_is_node() {
  local cmd
  [[ "$1" =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ "$cmd" == *"ferry.Main node"* ]]
}

# The pid in PIDFILE if it is a live Ferry node; else fails, and a stale pid file is removed.
ferry_node_pid() {
  local pidfile=$1 pid
  [[ -s "$pidfile" ]] || return 1
  pid=$(<"$pidfile")
  if ferry_is_node "$pid"; then
    echo "$pid"
  else
    rm -f "$pidfile"
    return 1
  fi
}

# ferry_node_spawn LOG PIDFILE [node options...]: starts `ferry node` detached (its own session, so a Ctrl-C or
# a closed terminal does not reach it), output appended to LOG, its JVM's pid in PIDFILE.
ferry_node_spawn() {
  local log=$1 pidfile=$2
  shift 2
  ferry_java_cmd ferry.Main node "$@"
  # Not a process-group leader here, so setsid execs in place (no fork) and $! is the JVM itself (env execs too).
  (cd "$FERRY_HOME" && exec setsid "${FERRY_JAVA_CMD[@]}" </dev/null >>"$log" 2>&1) &
  local pid=$! tries=0
  echo "$pid" >"$pidfile"
  # Until the subshell has exec'd, its command line is this script's: wait so callers see a node, not a stranger.
  while ! ferry_is_node "$pid" && kill -0 "$pid" 2>/dev/null && ((tries < 100)); do
    sleep 0.05
    tries=$((tries + 1))
  done
}

# ferry_node_await LABEL LOG OFFSET PIDFILE TIMEOUT: waits for the ready line written to LOG after byte OFFSET.
# Fails with the log's tail if the node dies or is not up within TIMEOUT seconds.
ferry_node_await() {
  local label=$1 log=$2 offset=$3 pidfile=$4 timeout=$5 waited=0 line
  # (grep reads a process substitution, not a pipe: with pipefail, grep -m 1 quitting early would fail tail.)
  while ! line=$(grep -m 1 '^ferry node up at ' < <(tail -c "+$((offset + 1))" "$log" 2>/dev/null)); do
    if ! ferry_node_pid "$pidfile" >/dev/null; then
      echo "ferry: $label died before it was up; last lines of $log:" >&2
      tail -n 30 "$log" | sed 's/^/  | /' >&2
      return 1
    fi
    if ((waited >= timeout)); then
      echo "ferry: $label not up after ${timeout}s (still running, pid $(<"$pidfile")); last lines of $log:" >&2
      tail -n 30 "$log" | sed 's/^/  | /' >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "ferry: $label ${line#ferry node }"
}

# ferry_node_stop LABEL PIDFILE [TIMEOUT]: SIGTERM (the node leaves the cluster and closes its pools), then
# SIGKILL if it is still there after TIMEOUT seconds (default 30); removes the pid file.
ferry_node_stop() {
  local label=$1 pidfile=$2 timeout=${3:-30} pid waited=0
  pid=$(ferry_node_pid "$pidfile") || { rm -f "$pidfile"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  while ferry_is_node "$pid" && ((waited < timeout * 10)); do sleep 0.1; waited=$((waited + 1)); done
  if ferry_is_node "$pid"; then
    echo "ferry: $label (pid $pid) still running after ${timeout}s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  echo "ferry: $label stopped (pid $pid)"
}
