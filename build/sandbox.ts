/**
 * The executor of a build's exec ops: what every process of the build shares is set here,
 * not by the op: the hostname and hosts file BuildKit gives its sandboxes (byte for byte),
 * the host's resolv.conf, and for the default network the build's isolated one and its DNS.
 */
import { readFile } from 'node:fs/promises';
import { isolatedResolvConf, runProcess, RUNNER_SPEC_VERSION, type BuildNetworks, type NetworkLease, type NetworkMode } from '../executor/index.js';
import type { Executor } from '../solver/ops/index.js';

const HOSTNAME = 'buildkitsandbox';
const HOSTS = '127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n';

let resolvConf: Promise<string> | undefined;
const hostResolvConf = () => (resolvConf ??= readFile('/etc/resolv.conf', 'utf8').catch(() => ''));

/** Runs exec ops in the native runner; `networks` holds the build's isolated networks (made on first use). */
export function sandboxExecutor(networks: BuildNetworks | undefined): Executor {
  return {
    async run(spec, io, signal) {
      let lease: NetworkLease | undefined;
      try {
        // 'default' is the build's isolated network (executor/network.ts); host needed network.host.
        let network: NetworkMode = spec.network === 'none' ? 'none' : 'host';
        let resolv = await hostResolvConf();
        if (spec.network === 'default') {
          if (networks === undefined) throw new Error('internal: a RUN on the default network in a build without networks');
          lease = await networks.acquire(signal);
          network = { join: lease.netns };
          resolv = isolatedResolvConf(resolv, lease.dns);
        }
        return await runProcess(
          {
            version: RUNNER_SPEC_VERSION,
            args: spec.args,
            env: spec.env,
            cwd: spec.cwd,
            user: spec.user,
            hostname: HOSTNAME,
            network,
            hosts: HOSTS,
            resolvConf: resolv,
            security: spec.security,
            rootfs: spec.rootfs,
            mounts: spec.mounts,
          },
          { stdout: io.stdout, stderr: io.stderr, signal },
        );
      } finally {
        lease?.release();
      }
    },
  };
}
