#!/usr/bin/env bash
# What relaying through TURN costs, beside what parleyd's forwarding costs
# (bench/sfu_load): a real coturn on 127.0.0.1 with parleyd's credential scheme
# (use-auth-secret), coturn's own load client (turnutils_uclient) allocating relays over
# UDP and then over TCP, and an echo peer (turnutils_peer) behind the relays. Every
# message goes client → relay → peer → relay → client: two relayed packets. Prints
# coturn's CPU-seconds per million relayed packets for each client leg.
#
#   bench/turn_cost.sh [clients] [messages-per-client] [interval-ms]   (default 100 1000 10)
set -euo pipefail
clients=${1:-100}
messages=${2:-1000}
interval=${3:-10}
command -v turnserver >/dev/null || { echo "coturn is not installed (scripts/setup)"; exit 1; }
dir=$(mktemp -d)
secret=turn-cost-secret-0123456789
turnserver -n --listening-ip 127.0.0.1 --listening-port 34790 --relay-ip 127.0.0.1 --min-port 49300 \
  --max-port 49900 --use-auth-secret --static-auth-secret "$secret" --realm parley.bench --no-tls --no-dtls \
  --no-cli --allow-loopback-peers --log-file stdout --simple-log --pidfile "$dir/t.pid" --userdb "$dir/db" \
  >"$dir/turn.log" 2>&1 &
turn=$!
turnutils_peer -L 127.0.0.1 -p 34791 >"$dir/peer.log" 2>&1 &
peer=$!
trap 'kill $turn $peer 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
ticks() { awk '{print $14 + $15}' "/proc/$turn/stat"; }
hz=$(getconf CLK_TCK)
echo "coturn $(turnserver --version 2>/dev/null | head -1), $clients clients x $messages messages of 1,180 bytes, one every $interval ms"
printf '%-10s %12s %10s %14s %8s\n' "client leg" "relayed pkts" "coturn cpu-s" "cpu-s per Mpkt" "lost %"
for leg in udp tcp; do
  flag=""
  [ "$leg" = tcp ] && flag="-t"
  t0=$(ticks)
  out=$(turnutils_uclient $flag -W "$secret" -p 34790 -m "$clients" -n "$messages" -l 1180 -z "$interval" -c \
    -e 127.0.0.1 -r 34791 127.0.0.1 2>&1)
  t1=$(ticks)
  recv=$(echo "$out" | sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\1 \2/p' | tail -1)
  sent=${recv% *}
  got=${recv#* }
  relayed=$((sent + got))
  awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$relayed" -v s="$sent" -v g="$got" -v leg="$leg" \
    'BEGIN { c = t / hz; printf "%-10s %12d %10.2f %14.2f %8.2f\n", leg, n, c, c / (n / 1e6), 100 * (s - g) / s }'
done
