// Pod networking shared by the stage1s (stage0's flag checks use common/networking/ directly). See docs/networking.md.
export { parseNetList, formatNetList, isContained, validateCniArgs, NET_NAME_RE, type NetRequest, type NetSelection } from '../../common/networking/net-list.js';
export { loadNetworks, findNetwork, validateNetConf, parseNetConfText, netConfDir, DEFAULT_CNI_VERSION, type NetConf } from './config.js';
export { DEFAULT_CNI_PLUGIN_DIRS } from './cni-exec.js';
export type { CniDns, CniResult, CniRoute } from './cni-result.js';
export { mergeCniDns } from './cni-result.js';
export {
  planPodEtc, writePodEtc, appEtcBinds, readHostEtcFile, POD_RESOLV_CONF, POD_HOSTS, POD_HOSTS_FALLBACK,
  type PodEtcPlan, type PodEtcInput, type PodEtcFile, type PodEtcBind, type PodEtcBinds,
} from './pod-etc.js';
export { setupPodNetworks, type SetupOptions, type PodNetworks } from './setup.js';
export { teardownPodNetworks } from './teardown.js';
export { readNetInfo, netnsFilePath, netStateDir, readNetnsFile, type NetInfo } from './state.js';
export { podNetnsName, netnsPathOf } from './netns.js';
export { parsePortFlag, resolvePortForwards, checkPortsAllowed, type PortFlag, type PortForward } from '../../common/networking/port-forward.js';
export { buildPortForwardRuleset, portForwardTable } from './port-forward-rules.js';
export {
  resolvMode, planResolvConf, renderResolvConf, parseHostsEntries, hostsMode, renderHosts,
  type DnsFlags, type ResolvPlan, type HostsEntry, type HostsFlags,
} from './dns.js';
