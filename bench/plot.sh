#!/usr/bin/env bash
# Bar chart of ratios to direct: bench/plot.sh RATIOS.dat OUT.png "title"
# RATIOS.dat: a header line (scenario, then one column per forwarder), then one line per scenario,
# tab-separated. Needs gnuplot (apt-get install gnuplot-nox); without it, says so and draws nothing.
set -euo pipefail
dat="$1" png="$2" title="${3:-performance relative to direct}"
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "gnuplot not found (apt-get install -y gnuplot-nox): no chart drawn" >&2
  exit 0
fi
columns="$(head -1 "$dat" | awk -F'\t' '{ print NF }')"
gnuplot <<GNUPLOT
set terminal pngcairo size 1000,520 font "sans,11"
set output "$png"
set title "$title"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set ylabel "ratio to direct (higher is better)"
set grid ytics
set key outside right top vertical
set datafile separator "\t"
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb "black"
plot for [i=2:$columns] "$dat" using i:xtic(1) title columnheader(i)
GNUPLOT
echo "chart: $png" >&2
