// Version strings that schedulers parse from `rkt version`.
export const RKT_VERSION = '1.30.0+ts.0.1.0';
export const APPC_VERSION = '0.8.11';
