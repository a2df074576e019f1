/** executor/: runs a process spec on mounts through the native runner. */
export { RUNNER_SPEC_VERSION } from './spec.js';
export type { MountSpec, NetworkMode, OverlaySpec, RunnerOutcome, RunnerSpec, SecurityMode } from './spec.js';
export { runProcess } from './run.js';
export type { RunIO, RunResult } from './run.js';
export { runnerBinaryPath } from './runner-binary.js';
export { serveAgentProxy, type AgentProxy, type AgentSocketOwner } from './ssh-agent.js';
export { binfmtEntries, emulatorFor, parseBinfmtEntry, type BinfmtEntry } from './emulation.js';
export { NetworkPool, STACK_DNS, type BuildNetworks, type NetworkLease } from './network.js';
export { isolatedResolvConf } from './resolv-conf.js';
