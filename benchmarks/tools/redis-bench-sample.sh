#!/bin/bash
# Samples a running Redis benchmark each second: for every redis-server child of the benchmark's dotnet process, its CPU
# ticks and the dotnet process's (/proc, 1/100 s), and INFO commandstats (calls/usec per command). Start it before the
# run: benchmarks/tools/redis-bench-sample.sh OUTFILE 'PATTERN' (a pgrep -f pattern for the benchmark's dotnet command line, e.g.
# '^dotnet /tmp/snap-redis-.*/AsyncQueue.Benchmarks.dll'). Used for docs/benchmarks.md (branch redisspeed): script
# calls per job from the counts of INCRBY (one per enqueue call) and EVALSHA, CPU per job from the ticks.
out=$1; pattern=$2; : > "$out"
while true; do
  bp=$(pgrep -f "$pattern" | head -1)
  [ -n "$bp" ] && break; sleep 0.3
done
echo "bench $bp" >> "$out"
while kill -0 "$bp" 2>/dev/null; do
  for rp in $(pgrep -P "$bp" redis-server); do
    # redis-server rewrites its command line to 'redis-server 127.0.0.1:PORT'.
    port=$(tr '\0' ' ' < /proc/$rp/cmdline | grep -o ':[0-9]*' | head -1 | tr -d ':')
    rc=$(awk '{print $14+$15}' /proc/$rp/stat 2>/dev/null)
    dc=$(awk '{print $14+$15}' /proc/$bp/stat 2>/dev/null)
    st=$(redis-cli -p "$port" info commandstats 2>/dev/null | grep -E 'cmdstat_' | sed -E 's/cmdstat_([a-z]+):calls=([0-9]+),usec=([0-9]+).*/\1=\2\/\3/' | tr '\r\n' '  ')
    echo "$(date +%s.%N | cut -c1-14) rp=$rp port=$port redis_ticks=$rc dotnet_ticks=$dc $st" >> "$out"
  done
  sleep 1
done
