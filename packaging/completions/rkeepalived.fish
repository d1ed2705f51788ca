complete -c rkeepalived -s f -l use-file -d 'Use the specified configuration file' -r -F
complete -c rkeepalived -s S -l log-facility -d 'Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)' -r
complete -c rkeepalived -s g -l log-file -d 'Also log to the specified file' -r -F
complete -c rkeepalived -s u -l umask -d 'umask for file creation (in numeric form)' -r
complete -c rkeepalived -s p -l pid -d 'Use specified pidfile for parent process [default: /run/keepalived.pid; with -s NS: /run/keepalived/NS/keepalived.pid]' -r -F
complete -c rkeepalived -s r -l vrrp_pid -d 'Use specified pidfile for VRRP child process [default: /run/vrrp.pid; with -s NS: /run/keepalived/NS/vrrp.pid]' -r -F
complete -c rkeepalived -s c -l checkers_pid -d 'Use specified pidfile for checkers child process [default: /run/checkers.pid; with -s NS: /run/keepalived/NS/checkers.pid]' -r -F
complete -c rkeepalived -s b -l bfd_pid -d 'Use specified pidfile for BFD child process [default: /run/bfd.pid; with -s NS: /run/keepalived/NS/bfd.pid]' -r -F
complete -c rkeepalived -s A -l snmp-agent-socket -d 'Use the specified socket for master agent (default unix:/var/agentx/master)' -r -F
complete -c rkeepalived -s s -l namespace -d 'Run in network namespace NAME (/run/netns/NAME)' -r
complete -c rkeepalived -s M -l core-dump-pattern -d 'Also set /proc/sys/kernel/core_pattern to PATN (accepted; not changed)' -r
complete -c rkeepalived -s i -l config-id -d 'Skip any configuration lines beginning \'@\' that don\'t match id' -r
complete -c rkeepalived -l signum -d 'Print the signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON (DRAIN, UNDRAIN: rkeepalived)' -r -f -a "STOP\t''
RELOAD\t''
DATA\t''
STATS\t''
STATS_CLEAR\t''
JSON\t''
DRAIN\t''
UNDRAIN\t''"
complete -c rkeepalived -s t -l config-test -d 'Check the configuration for obvious errors, output to stderr by default' -r -F
complete -c rkeepalived -l status-socket -d 'Status socket path (overrides global_defs status_socket)' -r -F
complete -c rkeepalived -l metrics-listen -d 'Serve Prometheus metrics on ADDR:PORT (overrides global_defs metrics_listen)' -r
complete -c rkeepalived -l dump-dir -d 'Directory for the SIGUSR1/SIGUSR2/SIGJSON dump files (else $TMPDIR if absolute, as keepalived)' -r -F
complete -c rkeepalived -l stop-timeout -d 'Seconds to wait for children to stop cleanly on SIGTERM' -r
complete -c rkeepalived -l liveness-interval -d 'Seconds between liveness probes of the children (3 misses = restart)' -r
complete -c rkeepalived -l syslog-socket -d 'Syslog socket (tests point it at a private socket)' -r -F
complete -c rkeepalived -l role -d 'Internal: run as a role child (used by the supervisor\'s re-exec)' -r -f -a "vrrp\t''
checker\t''
bfd\t'keepalived\'s bfd process (bfd/bfd_daemon.c): runs the `bfd_instance` sessions and sends their states to the other two'"
complete -c rkeepalived -l ipc-fd -d 'Internal: the IPC descriptor of a role child' -r
complete -c rkeepalived -l process-name -d 'Internal: the process name (comm) a role child takes' -r
complete -c rkeepalived -l instance-name -d 'Internal: the configuration\'s `instance NAME` (a role child\'s syslog identity)' -r
complete -c rkeepalived -s P -l vrrp -d 'Only run with VRRP subsystem'
complete -c rkeepalived -s C -l check -d 'Only run with Health-checker subsystem'
complete -c rkeepalived -s B -l no_bfd -d 'Don\'t run BFD subsystem (accepted; rkeepalived has no BFD)'
complete -c rkeepalived -l all -d 'Force all child processes to run, even if have no configuration'
complete -c rkeepalived -s l -l log-console -d 'Log messages to local console'
complete -c rkeepalived -s D -l log-detail -d 'Detailed log messages'
complete -c rkeepalived -s G -l no-syslog -d 'Don\'t log via syslog'
complete -c rkeepalived -s X -l release-vips -d 'Drop VIP on transition from signal'
complete -c rkeepalived -s V -l dont-release-vrrp -d 'Don\'t remove VRRP VIPs and VROUTEs on daemon stop'
complete -c rkeepalived -s I -l dont-release-ipvs -d 'Don\'t remove IPVS topology on daemon stop'
complete -c rkeepalived -s T -l genhash -d 'genhash mode (keepalived\'s genhash): print a url\'s MD5 digest for a `digest` line, `-T -s IP -p PORT -u URL` (see `rkeepalived -T -h`); must be the first option'
complete -c rkeepalived -s R -l dont-respawn -d 'Don\'t respawn child processes'
complete -c rkeepalived -s n -l dont-fork -d 'Don\'t fork the daemon process'
complete -c rkeepalived -s d -l dump-conf -d 'Dump the configuration data'
complete -c rkeepalived -s a -l address-monitoring -d 'Report all address additions/deletions notified via netlink'
complete -c rkeepalived -s x -l snmp -d 'Enable SNMP subsystem (AgentX subagent serving KEEPALIVED-MIB)'
complete -c rkeepalived -s m -l core-dump -d 'Produce core dump if terminate abnormally'
complete -c rkeepalived -s e -l all-config -d 'Error if any configuration file missing (same as includet)'
complete -c rkeepalived -l config-test-strict -d 'Like -t, and also fail (exit 7) if the configuration uses keywords rkeepalived parses but does not act on (keepalived would)'
complete -c rkeepalived -s v -l version -d 'Display the version number'
complete -c rkeepalived -l status -d 'Print the JSON status of the running daemon (from its status socket)'
complete -c rkeepalived -s h -l help -d 'Print help'
