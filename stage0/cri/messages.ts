// The subset of CRI runtime.v1 messages this runtime reads and writes, as proto-loader decodes them
// (keepCase, defaults: every scalar present, unset messages null, int64 as decimal strings, enums as names).
// grpc-js has already checked each request against the proto; these types name what the code relies on.

export type Int64 = string | number;
export type StringMap = Record<string, string>;

/** `value` is `bytes` in runtime.v1 (same wire type as string): a Buffer when decoded. */
export interface KeyValue { key: string; value: Buffer | string }
export interface Int64Value { value: Int64 }

export interface PodSandboxMetadata { name: string; uid: string; namespace: string; attempt: number }
export interface DNSConfig { servers: string[]; searches: string[]; options: string[] }
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export interface PortMapping { protocol: Protocol; container_port: number; host_port: number; host_ip: string }
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export interface NamespaceOption { network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode; target_id: string }
export interface LinuxSandboxSecurityContext { namespace_options: NamespaceOption | null; privileged: boolean }
export interface LinuxPodSandboxConfig { cgroup_parent: string; security_context: LinuxSandboxSecurityContext | null; sysctls: StringMap }
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata | null;
  hostname: string;
  log_directory: string;
  dns_config: DNSConfig | null;
  port_mappings: PortMapping[];
  labels: StringMap;
  annotations: StringMap;
  linux: LinuxPodSandboxConfig | null;
}

export interface ContainerMetadata { name: string; attempt: number }
export interface ImageSpec { image: string; annotations: StringMap; user_specified_image: string; runtime_handler: string }
export interface Mount { container_path: string; host_path: string; readonly: boolean; propagation: string }
export interface Capability { add_capabilities: string[]; drop_capabilities: string[] }
export interface SecurityProfile { profile_type: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhost_ref: string }
export interface LinuxContainerSecurityContext {
  capabilities: Capability | null;
  privileged: boolean;
  run_as_user: Int64Value | null;
  run_as_group: Int64Value | null;
  run_as_username: string;
  readonly_rootfs: boolean;
  supplemental_groups: Int64[];
  no_new_privs: boolean;
  seccomp: SecurityProfile | null;
}
export interface LinuxContainerResources { cpu_period: Int64; cpu_quota: Int64; cpu_shares: Int64; memory_limit_in_bytes: Int64; oom_score_adj: Int64 }
export interface LinuxContainerConfig { resources: LinuxContainerResources | null; security_context: LinuxContainerSecurityContext | null }
export interface ContainerConfig {
  metadata: ContainerMetadata | null;
  image: ImageSpec | null;
  command: string[];
  args: string[];
  working_dir: string;
  envs: KeyValue[];
  mounts: Mount[];
  labels: StringMap;
  annotations: StringMap;
  log_path: string;
  stdin: boolean;
  stdin_once: boolean;
  tty: boolean;
  linux: LinuxContainerConfig | null;
}

export type PodSandboxStateName = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerStateName = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface AuthConfig { username: string; password: string; auth: string; server_address: string; identity_token: string; registry_token: string }
