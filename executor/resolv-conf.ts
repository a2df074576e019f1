/**
 * /etc/resolv.conf for a step in an isolated network namespace. A nameserver on the host's
 * loopback (systemd-resolved's 127.0.0.53, a local dnsmasq on 127.0.0.1) is not reachable
 * from there: the step's 127.0.0.1 is its own. Such entries give way to the network stack's
 * DNS forwarder, which relays queries to the host's resolver, as rootless builders do. IPv6
 * nameservers go too: the namespace has IPv4 only. Other nameservers, `search` and `options`
 * lines stay as the host has them, as BuildKit keeps them.
 */

function isLoopback(address: string): boolean {
  if (process.getBuiltinModule('node:net').isIP(address) === 4) return address.startsWith('127.');
  return address === '::1' || address === '0:0:0:0:0:0:0:1';
}

/** `host` is the host's resolv.conf text; `forwarder` the stack's DNS address. */
export function isolatedResolvConf(host: string, forwarder: string): string {
  const out: string[] = [];
  let forwarded = false;
  let nameservers = 0;
  for (const line of host.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m === null) {
      out.push(line);
      continue;
    }
    const address = m[1]!.replace(/%.*$/, ''); // an IPv6 zone (fe80::1%eth0)
    if (isLoopback(address)) {
      if (!forwarded) out.push(`nameserver ${forwarder}`);
      forwarded = true;
    } else if (process.getBuiltinModule('node:net').isIP(address) === 4) {
      out.push(line);
    } else {
      continue;
    }
    nameservers++;
  }
  if (nameservers === 0) {
    // No usable nameserver: the forwarder, which asks what the host would ask.
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    out.push(`nameserver ${forwarder}`, '');
  }
  return out.join('\n');
}
