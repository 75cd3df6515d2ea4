#!/bin/bash
# Start, end and duration (s from the first start) of each test class of a surefire run: its end is the
# time its report was written, its start that minus the time the report gives it.
#   bash timeline.sh java/target/surefire-reports
d=${1:-java/target/surefire-reports}
for x in "$d"/TEST-*.xml; do
  n=$(basename "$x" .xml); n=${n#TEST-org.epollproxy.}
  t=$(grep -o -m1 '<testsuite [^>]*' "$x" | sed -E 's/.* time="([^"]*)".*/\1/')
  m=$(stat -c %.3Y "$d/org.epollproxy.$n.txt" 2>/dev/null || stat -c %.3Y "$x")
  echo "$m $t $n"
done | awk '{printf "%.3f %.3f %s %s\n", $1-$2, $1, $2, $3}' | sort -n \
  | awk 'NR==1{b=$1} {printf "%6.1f %6.1f %6.1f %s\n", $1-b, $2-b, $3, $4}'
