#!/usr/bin/env bash
# batch.sh ROUNDS SETTLE OUT name=cmd ...
rounds=$1 settle=$2 out=$3; shift 3
for r in $(seq $rounds); do
  for spec in "$@"; do
    name="${spec%%=*}"; cmd="${spec#*=}"
    res=$(eval "${W:-/tmp/rss}/m.sh $settle $cmd")
    echo -e "$name\t$r\t$res" | tee -a $out
  done
done
