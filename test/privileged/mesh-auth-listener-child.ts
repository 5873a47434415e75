/**
 * Child of mesh-auth-datapath.test.ts, started in a lab node's namespace
 * with `ip netns exec`: it stands in for the node proxy's mTLS-out listener
 * (issue 15, piece E2 builds the real one in HAProxy). A transparent TCP
 * listener (IP_TRANSPARENT, 0.0.0.0:<port>, the agent's own
 * transparentTcpListenFd) that, per accepted connection, prints one JSON line
 * {"event":"conn","local":…,"localPort":…,"remote":…,"remotePort":…}
 * (local = the connection's original destination) and answers
 * "mtls-out\n" before closing. First line: {"event":"listening"}.
 * Usage: node mesh-auth-listener-child.js <port>
 */
import net from 'node:net';
import { transparentTcpListenFd } from '../../src/datapath/native/sockets.js';

const port = Number(process.argv[2]);
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const server = net.createServer((s) => {
  say({ event: 'conn', local: s.localAddress, localPort: s.localPort, remote: s.remoteAddress, remotePort: s.remotePort });
  s.on('error', () => undefined);
  s.end('mtls-out\n');
});
server.listen({ fd: transparentTcpListenFd({ port }) }, () => say({ event: 'listening' }));
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
