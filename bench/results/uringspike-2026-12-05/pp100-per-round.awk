# compare.tsv -> per round: each forwarder's CPU per round trip in scenario s (-v s=pp100 by default; or pp1), user+sys, user, sys, and ratios.
BEGIN { FS = "\t"; if (s == "") s = "pp100" }
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{
  r = $col["round"]; f = $1
  cpu[r, f] = $col[s "_cpu_us"]; usr[r, f] = $col[s "_user_us"]; sys[r, f] = $col[s "_sys_us"]; rt[r, f] = $col[s "_rtps"]
  if (!(f in seenf)) { seenf[f] = 1; fs[++nf] = f }
  if (!(r in seenr)) { seenr[r] = 1; rs[++nr] = r }
}
END {
  printf "%-6s", "round"; for (j = 1; j <= nf; j++) printf "  %-30s", fs[j] " us (user+sys) rt/s"; printf "\n"
  for (i = 1; i <= nr; i++) {
    r = rs[i]; printf "%-6s", r
    for (j = 1; j <= nf; j++) printf "  %-30s", sprintf("%.2f (%.2f+%.2f) %s", cpu[r, fs[j]], usr[r, fs[j]], sys[r, fs[j]], rt[r, fs[j]])
    printf "\n"
  }
  np = split("c-uring/c-epoll c-uring-unlinked/c-epoll epoll-proxy/haproxy c-epoll/haproxy c-uring/haproxy c-epoll/epoll-proxy", pairs, " ")
  printf "\nratios of CPU per round trip within each round (and the difference c-epoll - c-uring, us)\n"
  for (p = 1; p <= np; p++) {
    split(pairs[p], ab, "/"); line = sprintf("%-26s", pairs[p]); n = 0
    for (i = 1; i <= nr; i++) { r = rs[i]; if (cpu[r, ab[1]] == "" || cpu[r, ab[2]] == "") continue; v = cpu[r, ab[1]] / cpu[r, ab[2]]; line = line sprintf(" %.2f", v); vals[++n] = v }
    if (n == 0) continue
    for (a = 2; a <= n; a++) { x = vals[a]; for (b = a - 1; b >= 1 && vals[b] > x; b--) vals[b + 1] = vals[b]; vals[b + 1] = x }
    med = n % 2 ? vals[(n + 1) / 2] : (vals[n / 2] + vals[n / 2 + 1]) / 2
    printf "%s   median %.2f\n", line, med; split("", vals)
  }
  line = sprintf("%-26s", "c-epoll - c-uring (us)")
  for (i = 1; i <= nr; i++) { r = rs[i]; if (cpu[r, "c-epoll"] != "" && cpu[r, "c-uring"] != "") line = line sprintf(" %.2f", cpu[r, "c-epoll"] - cpu[r, "c-uring"]) }
  print line
}
