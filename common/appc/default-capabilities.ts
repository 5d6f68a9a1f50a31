// appc's (and rkt's) default capability set for apps without a capability isolator. A contract fact both
// sides need: stage1s grant it, and stage0's CRI endpoint computes Kubernetes' add/drop against it.
export const DEFAULT_APP_CAPABILITIES: readonly string[] = [
  'CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_KILL', 'CAP_MKNOD',
  'CAP_NET_RAW', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETFCAP', 'CAP_SYS_CHROOT',
];
