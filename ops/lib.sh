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
  local preload=()
  [[ -r "$FERRY_JEMALLOC" ]] && preload=(env "LD_PRELOAD=$FERRY_JEMALLOC")
  "${preload[@]}" java ${FERRY_JAVA_OPTS:-} -Dai.djl.offline=true -cp "$(ferry_classpath)" "$@"
}
