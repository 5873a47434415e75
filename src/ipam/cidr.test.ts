import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpamInvalidError } from '../common/errors.js';
import { cidrInside, cidrOf, parseCidr, parseHostOrCidr, tryParseMaskedCidr, tryParsePrefix4 } from './cidr.js';
import { parseCIDR } from '../k8s/names.js';

test('one IPv4 prefix parser: strict (IPAM), masked (policy), and the validator agree on what is IPv4', () => {
  assert.deepEqual(tryParsePrefix4('10.0.1.5/24'), { addr: 0x0a000105, prefix: 24 });
  assert.equal(tryParsePrefix4('10.0.1.5'), undefined);
  assert.deepEqual(tryParsePrefix4('10.0.1.5', true), { addr: 0x0a000105, prefix: 32 });
  for (const bad of ['10.0.1.0/33', '10.0.1.0/', '/8', '10.0.1.0/8/1', '010.0.1.0/8', '10.0.1/8', '10.0.1.0/032']) {
    assert.equal(tryParsePrefix4(bad, true), undefined, bad);
    assert.equal(tryParseMaskedCidr(bad), undefined, bad);
    assert.equal(parseCIDR(bad, true), undefined, bad);
    assert.throws(() => parseCidr(bad), IpamInvalidError, bad);
  }
  // IPAM refuses host bits, naming the network; policy clears them as Cilium does.
  assert.throws(() => parseCidr('10.0.1.5/24', 'pod CIDR'), (e: IpamInvalidError) => /pod CIDR '10\.0\.1\.5\/24' has host bits set/.test(e.message) && e.hint === 'did you mean 10.0.1.0/24?');
  assert.deepEqual(parseCidr('10.0.1.0/24'), { text: '10.0.1.0/24', base: 0x0a000100, prefix: 24, size: 256 });
  assert.deepEqual(tryParseMaskedCidr('10.0.1.5/24'), parseCidr('10.0.1.0/24'));
  assert.deepEqual(tryParseMaskedCidr('10.0.1.5'), cidrOf(0x0a000105, 32));
  assert.deepEqual(tryParseMaskedCidr('0.0.0.0/0'), { text: '0.0.0.0/0', base: 0, prefix: 0, size: 2 ** 32 });
  assert.deepEqual(parseCIDR('10.0.1.5', true), { family: 4, bytes: Uint8Array.of(10, 0, 1, 5), bits: 32 });
  assert.equal(parseCIDR('2001:db8::/64')?.bits, 64);
  // ipcache entries and CIDR identities: a bare address is a /32, host bits are still refused.
  assert.equal(parseHostOrCidr('10.0.1.5').text, '10.0.1.5/32');
  assert.equal(parseHostOrCidr('10.0.1.0/24').text, '10.0.1.0/24');
  assert.throws(() => parseHostOrCidr('10.0.1.5/24', 'ipcache prefix'), /ipcache prefix '10\.0\.1\.5\/24' has host bits set/);
});

test('cidrInside: same or longer prefix within the outer range', () => {
  const c = (t: string) => parseCidr(t);
  assert.equal(cidrInside(c('10.1.0.0/16'), c('10.0.0.0/8')), true);
  assert.equal(cidrInside(c('10.0.0.0/8'), c('10.0.0.0/8')), true);
  assert.equal(cidrInside(c('10.0.0.0/8'), c('10.0.0.0/16')), false);
  assert.equal(cidrInside(c('11.0.0.0/16'), c('10.0.0.0/8')), false);
  assert.equal(cidrInside(c('255.255.255.255/32'), c('0.0.0.0/0')), true);
});
