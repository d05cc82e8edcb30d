import { clientNetwork } from './client-network';

describe(clientNetwork.name, () => {
  it('should count an IPv4 address as itself', () => {
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
  });

  it('should count an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(clientNetwork('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('should count every address of one IPv6 /64 as that /64, however it is written', () => {
    const network = clientNetwork('2001:db8:1:2::1');

    expect(network).toBe('2001:db8:1:2::/64');
    for (const address of [
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:0000:0000:0000:abcd',
      '2001:db8:1:2:a:b:c:d',
    ]) {
      expect(clientNetwork(address)).toBe(network);
    }
    expect(clientNetwork('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
  });

  it('should keep what is not an address as it was given', () => {
    expect(clientNetwork('not-an-address')).toBe('not-an-address');
    expect(clientNetwork('')).toBe('');
  });
});
