import { describe, expect, it } from 'vitest';
import { isolatedResolvConf } from './resolv-conf.js';

const DNS = '10.0.2.3';

describe('isolatedResolvConf', () => {
  it('keeps a resolv.conf whose nameservers are reachable from the namespace, line for line', () => {
    const host = '# from DHCP\nnameserver 10.255.255.53\nnameserver 192.0.2.1\nsearch corp.example\noptions ndots:2 edns0\n';
    expect(isolatedResolvConf(host, DNS)).toBe(host);
  });

  it('puts the forwarder where a loopback resolver stood (systemd-resolved, a local dnsmasq), once', () => {
    expect(isolatedResolvConf('nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n', DNS)).toBe('nameserver 10.0.2.3\noptions edns0 trust-ad\nsearch .\n');
    expect(isolatedResolvConf('nameserver 127.0.0.1\nnameserver ::1\nnameserver 192.0.2.1\n', DNS)).toBe('nameserver 10.0.2.3\nnameserver 192.0.2.1\n');
  });

  it('drops IPv6 nameservers (the namespace has IPv4 only), and uses the forwarder when none is left', () => {
    expect(isolatedResolvConf('nameserver 2001:db8::1\nnameserver fe80::1%eth0\nnameserver 192.0.2.1\n', DNS)).toBe('nameserver 192.0.2.1\n');
    expect(isolatedResolvConf('nameserver 2001:db8::1\nsearch example.test\n', DNS)).toBe('search example.test\nnameserver 10.0.2.3\n');
    expect(isolatedResolvConf('', DNS)).toBe('nameserver 10.0.2.3\n');
  });
});
