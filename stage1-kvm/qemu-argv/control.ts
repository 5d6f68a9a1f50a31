// Control channels: the QMP socket (stop, status) and the guest agent's virtio-serial port (enter).
import type { VmSpec } from '../vm-config/spec.js';
import { opts } from './escape.js';

/** The virtio-serial port name the guest agent opens (/sys/class/virtio-ports/*\/name). */
export const AGENT_PORT_NAME = 'rkt.agent';

export function controlArgv(spec: Pick<VmSpec, 'qmpSocket' | 'agentSocket'>): string[] {
  return [
    '-chardev', opts('socket', [['id', 'qmp'], ['path', spec.qmpSocket], ['server', 'on'], ['wait', 'off']]),
    '-mon', 'chardev=qmp,mode=control',
    '-device', 'virtio-serial-device,max_ports=2',
    '-chardev', opts('socket', [['id', 'agent'], ['path', spec.agentSocket], ['server', 'on'], ['wait', 'off']]),
    '-device', opts('virtserialport', [['chardev', 'agent'], ['name', AGENT_PORT_NAME]]),
  ];
}
