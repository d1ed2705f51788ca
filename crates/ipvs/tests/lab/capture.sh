#!/bin/bash
# Guest script that produced tests/data/ipvsadm-1.31-strace.txt (golden bytes):
#   tests/lab/lab.sh run crates/ipvs/tests/lab/capture.sh > out.txt
#   grep -E "^### |^sendmsg|^recvmsg" out.txt > crates/ipvs/tests/data/ipvsadm-1.31-strace.txt
# Needs strace on the host root (the guest runs the host userland).
# Capture what ipvsadm 1.31 sends (and the replies it gets) for every IPVS command.
ip link add rkid0 type dummy 2>/dev/null; ip link set rkid0 up; ip addr add 203.0.113.1/24 dev rkid0
t() { echo "### $*"; strace -e trace=sendmsg,recvmsg -xx -s 65536 -o /tmp/st.txt "$@"; echo "rc=$?"; grep -v "^+++" /tmp/st.txt; }
t ipvsadm -A -t 192.0.2.9:80 -s rr
t ipvsadm -E -t 192.0.2.9:80 -s sh -b sh-port -p 600 -M 255.255.255.0
t ipvsadm -A -u 192.0.2.10:53 -s wlc -o --pe sip -p 30
t ipvsadm -A -f 7 -s wrr
t ipvsadm -A -f 8 -6 -s lc -p 300 -M 64
t ipvsadm -A -t [2001:db8::1]:443 -s mh -b mh-fallback,mh-port
t ipvsadm -A --sctp-service 192.0.2.11:5060 -s nq
t ipvsadm -a -t 192.0.2.9:80 -r 198.51.100.9:80 -m -w 2
t ipvsadm -e -t 192.0.2.9:80 -r 198.51.100.9:80 -m -w 5 -x 100 -y 10
t ipvsadm -a -t 192.0.2.9:80 -r 198.51.100.10 -i --tun-type gue --tun-port 6080 --tun-remcsum
t ipvsadm -a -t 192.0.2.9:80 -r 198.51.100.11 -i --tun-type gre
t ipvsadm -a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -m -w 5
t ipvsadm -a -t [2001:db8::1]:443 -r 198.51.100.8 -i
t ipvsadm -a -f 7 -r 198.51.100.6 -g
t ipvsadm -d -t 192.0.2.9:80 -r 198.51.100.9:80
t ipvsadm -Z
t ipvsadm -Z -t 192.0.2.9:80
t ipvsadm --set 100 20 30
t ipvsadm -Ln --timeout
t ipvsadm --start-daemon master --mcast-interface rkid0 --syncid 5
t ipvsadm --start-daemon backup --mcast-interface rkid0 --syncid 6
t ipvsadm -Ln --daemon
t ipvsadm --stop-daemon master
t ipvsadm --stop-daemon backup
t ipvsadm -Sn
t ipvsadm -A -t 192.0.2.12:80 -s rr -p 100 -o -b flag-3 --pe sip
t ipvsadm -a -t 192.0.2.12:80 -r 198.51.100.12 -i --tun-type gre --tun-remcsum
t ipvsadm -a -t 192.0.2.12:80 -r 198.51.100.13 -i --tun-type gue --tun-port 1 --tun-csum
t ipvsadm -A -t 192.0.2.13:80 -s bogus
t ipvsadm -D -t 192.0.2.99:80
t ipvsadm -a -t 192.0.2.9:80 -r 198.51.100.10
t ipvsadm -Sn
t ipvsadm -D -t 192.0.2.9:80
t ipvsadm -C
exit 0
