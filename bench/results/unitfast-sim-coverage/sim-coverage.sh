#!/bin/bash
# JaCoCo line and branch coverage of the main classes by the simulation: the named scenarios (and the other
# sim.* scenario tests) with no seeds, and seed ranges, each in its own exec file; then unions of them.
# Needs org.jacoco.agent:0.8.12:runtime and org.jacoco.cli:0.8.12:nodeps in ~/.m2 (mvn dependency:get).
# Run from the repository's root: bash bench/results/unitfast-sim-coverage/sim-coverage.sh [OUTDIR]
set -euo pipefail
out=${1:-/tmp/sim-coverage}; mkdir -p "$out"
jc=~/.m2/repository/org/jacoco
agent=$jc/org.jacoco.agent/0.8.12/org.jacoco.agent-0.8.12-runtime.jar
cli=$jc/org.jacoco.cli/0.8.12/org.jacoco.cli-0.8.12-nodeps.jar
run() { # name tests first count
  mvn -B -o -q -pl java test -Dfuzz.skip -Dtest="$2" -Dsim.first="$3" -Dsim.seeds="$4" \
    -Dtest.jvm.flags="--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -javaagent:$agent=destfile=$out/$1.exec,includes=org.epollproxy.*" \
    | grep -o 'simulation: [0-9]* seeds ([0-9.]*)' || true
}
rm -f "$out"/*.exec
run named 'SimulationTest,SimRegressionTest,SpeculativeIoScenarioTest,ProxyHeaderScenarioTest,InjectedFailureTest' 1 0
run s1-500 'SimulationTest#everySeedKeepsEveryInvariant' 1 500
run s501-2000 'SimulationTest#everySeedKeepsEveryInvariant' 501 1500
run s2001-5000 'SimulationTest#everySeedKeepsEveryInvariant' 2001 3000
run s5001-10000 'SimulationTest#everySeedKeepsEveryInvariant' 5001 5000
union() { # name exec...
  local name=$1; shift
  java -jar "$cli" merge "$@" --destfile "$out/u-$name.exec" >/dev/null
  java -jar "$cli" report "$out/u-$name.exec" --classfiles java/target/classes --csv "$out/u-$name.csv" >/dev/null
  awk -F, -v n="$name" 'NR>1{bm+=$6;bc+=$7;lm+=$8;lc+=$9} END{printf "%-22s lines %d of %d, branches %d of %d\n", n, lc, lc+lm, bc, bc+bm}' "$out/u-$name.csv"
}
e() { for x in "$@"; do printf '%s ' "$out/$x.exec"; done; }
union named $(e named)
union seeds-1-500 $(e s1-500)
union seeds-1-5000 $(e s1-500 s501-2000 s2001-5000)
union named+1-500 $(e named s1-500)
union named+1-2000 $(e named s1-500 s501-2000)
union named+1-5000 $(e named s1-500 s501-2000 s2001-5000)
union named+1-10000 $(e named s1-500 s501-2000 s2001-5000 s5001-10000)
