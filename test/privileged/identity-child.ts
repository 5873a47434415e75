/**
 * A node agent's identity allocator in its own process, for
 * identity.test.ts to kill with SIGKILL: acquires one identity for the label
 * set given on the command line, prints its number, and waits.
 *   node identity-child.js <etcd endpoint> <node> <leaseTtlSeconds> <label>…
 */
import { Etcd3 } from 'etcd3';
import { IdentityAllocator } from '../../src/identity/allocator.js';

const [endpoint, node, ttl, ...labels] = process.argv.slice(2);
const allocator = new IdentityAllocator(new Etcd3({ hosts: endpoint!, dialTimeout: 2000 }), { node: node!, leaseTtlSeconds: Number(ttl) });
await allocator.start();
const identity = await allocator.acquire(labels);
process.stdout.write(`${identity.id}\n`);
setInterval(() => undefined, 1 << 30);
