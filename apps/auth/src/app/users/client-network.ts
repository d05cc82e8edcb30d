import ipaddr from 'ipaddr.js';

/** The IPv6 prefix one subscriber is given, at least (RFC 6177): its addresses count as one. */
const IPV6_SUBSCRIBER_PREFIX = 64;

/**
 * What the throttles count a client address as: an IPv4 address as it is (IPv4-mapped IPv6
 * included), an IPv6 address as its /64, since a single host can take any address of its /64 and
 * would otherwise get a fresh quota with each. Anything else (no gateway sends it) as it was given.
 */
export function clientNetwork(address: string): string {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return address;
  }
  if (parsed.kind() === 'ipv4') {
    return parsed.toString();
  }
  const network = ipaddr.IPv6.networkAddressFromCIDR(
    `${parsed.toString()}/${IPV6_SUBSCRIBER_PREFIX}`,
  );
  return `${network.toString()}/${IPV6_SUBSCRIBER_PREFIX}`;
}
