/**
 * What a build may be granted beyond the sandbox (`--allow`), as BuildKit names it:
 * `security.insecure` lets `RUN --security=insecure` run with every capability; `network.host`
 * lets RUN use the host's network (`--network host`, `RUN --network=host`).
 */
export type Entitlement = 'security.insecure' | 'network.host';
