/**
 * Child process of datapath-tc.test.ts, started inside the test's network
 * namespace with `ip netns exec`. It owns the datapath for the test: loads the
 * object, attaches to the veth's ingress, and answers line commands on stdin
 * with one JSON line each on stdout:
 *   (start)   → {"event":"attached","progId":N}
 *   metrics   → {"event":"metrics","packets":N,"bytes":N}
 *   replace   → {"event":"replaced","progId":N,"queried":N,"filters":N}
 *   detach    → {"event":"detached","removed":bool,"queried":null}
 *   vanish    → {"event":"vanished","removed":false}: a device deleted under its attachment, then detached
 *   exit      → closes everything and exits 0
 * Usage: node datapath-tc-child.js OBJECT IFNAME
 */
import { run } from '../../src/common/exec.js';
import { BL_METRICS_KEY_CODEC, BL_METRICS_VALUE_CODEC } from '../../src/datapath/generated/abi.js';
import { Datapath, inRootNetns, type TcAttachment } from '../../src/datapath/loader.js';
import { say, serveLines } from './datapath-child-support.js';

const [objectPath, ifname] = process.argv.slice(2);

function main(): void {
  if (!objectPath || !ifname) throw new Error('usage: datapath-tc-child OBJECT IFNAME');
  // Belt and braces: the loader refuses the root namespace too.
  if (inRootNetns()) throw new Error('refusing to run in the root network namespace');

  const datapaths: Datapath[] = [];
  const load = () => {
    const dp = Datapath.open(objectPath).load();
    datapaths.push(dp);
    return dp;
  };
  const first = load();
  let att: TcAttachment = first.attachTc(ifname, 'ingress', 'bl_from_netdev');
  say({ event: 'attached', progId: att.progId });

  /** Filters on the hook as tc(8) sees them: one line per filter with a bpf program. */
  const tcFilters = () =>
    run('tc', ['filter', 'show', 'dev', ifname, 'ingress']).stdout.split('\n').filter((l) => / bpf /.test(l) && /direct-action/.test(l)).length;

  serveLines((line, rl) => {
    switch (line.trim()) {
      case 'metrics': {
        const metrics = first.perCpuMap('bl_metrics', BL_METRICS_KEY_CODEC, BL_METRICS_VALUE_CODEC);
        let packets = 0n;
        let bytesTotal = 0n;
        for (const [, v] of metrics.snapshot()) {
          packets += v.count;
          bytesTotal += v.bytes;
        }
        say({ event: 'metrics', packets: Number(packets), bytes: Number(bytesTotal) });
        break;
      }
      case 'replace': {
        // An "upgraded" datapath: a fresh load gets a new program id; attaching
        // replaces the filter at the same handle/priority instead of adding one.
        const next = load();
        att = next.attachTc(ifname, 'ingress', 'bl_from_netdev');
        say({ event: 'replaced', progId: att.progId, queried: att.currentProgId() ?? null, filters: tcFilters() });
        break;
      }
      case 'detach': {
        const removed = att.detach();
        say({ event: 'detached', removed, queried: att.currentProgId() ?? null, filters: tcFilters() });
        break;
      }
      case 'vanish': {
        // A device that disappears under its attachment (a pod's veth once its namespace is gone):
        // detaching then finds nothing to remove and does not throw.
        run('ip', ['link', 'add', 'bl-vanish', 'type', 'veth', 'peer', 'name', 'bl-vanish-p']);
        const doomed = first.attachTc('bl-vanish', 'ingress', 'bl_from_netdev');
        run('ip', ['link', 'del', 'bl-vanish']);
        say({ event: 'vanished', removed: doomed.detach() });
        break;
      }
      case 'exit':
        for (const dp of datapaths) dp.close();
        rl.close();
        process.exit(0);
        break;
      default:
        return false;
    }
    return true;
  });
}

try {
  main();
} catch (err) {
  say({ event: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
