#!/bin/bash
# The unit-test phase as `mvn verify` runs it (-Dfuzz.skip), in two trees one after the other, ROUNDS times:
# the whole Maven command's CPU and wall time (/usr/bin/time), the test JVM's CPU by class (CpuTimeReport;
# classes side by side share its counters, so only its "whole JVM" line adds up) and each class's start and
# end (timeline.sh). Both trees built first (mvn -o -pl java test-compile), so no run compiles.
#   bash bench/results/unitfast-testtime/measure-whole.sh BEFORE_TREE AFTER_TREE OUTDIR [ROUNDS]
set -u
before=$(realpath "$1"); after=$(realpath "$2"); out=$(realpath -m "$3"); rounds=${4:-2}
here=$(dirname "$(realpath "$0")")
mkdir -p "$out"
flags="--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
for round in $(seq 1 "$rounds"); do
  for which in before after; do
    tree=$before; [ "$which" = after ] && tree=$after
    cd "$tree" || exit 1
    echo "$which r$round $(uptime)" >> "$out/log"
    /usr/bin/time -f "$which r$round: %U user %S sys %e s" mvn -B -o -q -pl java test -Dfuzz.skip \
      -Dtest.jvm.flags="$flags -Dtest.cpu.report=$out/whole-$which-r$round.tsv" > "$out/$which-r$round.out" 2>&1
    tail -1 "$out/$which-r$round.out" >> "$out/log"
    bash "$here/timeline.sh" "$tree/java/target/surefire-reports" > "$out/timeline-$which-r$round.txt"
  done
done
