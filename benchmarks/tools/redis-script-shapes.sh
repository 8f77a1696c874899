#!/bin/bash
# Redis CPU per call of a few Lua script shapes (the per-job reads and writes of the Redis store's lease), on a throwaway
# redis-server (appendonly yes, appendfsync everysec) on a random loopback port: 128 plain job hashes as the enqueue
# writes them, then 300 EVALSHA calls of each shape, usec per call from INFO commandstats (EMPTY: the loop alone).
# Used for docs/benchmarks.md (branch redisspeed). Run it through /tmp/quiet.sh on a shared machine.
port=$((40000 + RANDOM % 2000)); dir=$(mktemp -d)
redis-server --port $port --bind 127.0.0.1 --dir $dir --save "" --appendonly yes --appendfsync everysec --daemonize yes --pidfile $dir/pid > /dev/null
sleep 0.5
r() { redis-cli -p $port "$@"; }
N=128
# 128 plain job hashes, as the enqueue writes them (7 fields)
r EVAL "for i=1,$N do redis.call('HSET','{q}:job:'..i,'id',string.format('%032d',i),'kind','bench-job','payload','{\"Id\":12345}','enq','639000000000000000','runat','639000000000000000','state','waiting','rdy','1796408026724') end return 1" 0 > /dev/null
HM="local n=0 for i=1,$N do local f=redis.call('HMGET','{q}:job:'..i,'id','kind','payload','attempt','max','enq','runat','key','errors','tp','ts','prio','iso','started','cancel','parents','onpf','pfail') n=n+#f end return n"
HG="local n=0 for i=1,$N do local f=redis.call('HGETALL','{q}:job:'..i) n=n+#f end return n"
HMOUT="local out={} for i=1,$N do local f=redis.call('HMGET','{q}:job:'..i,'id','kind','payload','attempt','max','enq','runat','key','errors','tp','ts','prio','iso','started','cancel','parents','onpf','pfail') for j=1,#f do out[#out+1]=f[j] or '' end end return out"
HGOUT="local out={} for i=1,$N do local f=redis.call('HGETALL','{q}:job:'..i) out[#out+1]=#f for j=1,#f do out[#out+1]=f[j] end end return out"
HS10="for i=1,$N do redis.call('HSET','{q}:job:'..i,'attempt','1','state','leased','token','7','lease','1796408026724','startedat','1796408026724') end return 1"
HS8="for i=1,$N do redis.call('HSET','{q}:job:'..i,'attempt','1','state','leased','token','7','startedat','1796408026724') end return 1"
EMPTY="for i=1,$N do local k='{q}:job:'..i end return 1"
for name in EMPTY HM HG HMOUT HGOUT HS10 HS8; do
  r CONFIG RESETSTAT > /dev/null
  sha=$(r SCRIPT LOAD "${!name}")
  for k in $(seq 300); do echo "EVALSHA $sha 0"; done | r > /dev/null
  echo "$name $(r INFO commandstats | grep evalsha | tr -d '\r')"
done
r SHUTDOWN NOSAVE > /dev/null 2>&1; rm -rf $dir
