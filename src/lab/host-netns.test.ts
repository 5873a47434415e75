/**
 * The lab's guarantee: host-netns mode (`beeline agent --host-netns`, the
 * AgentConfig option hostNetns) is for a real node's agent only. Nothing in
 * the lab, the scripts (the demo among them) or the test suites sets it:
 * there a node namespace plays the host's, through the same code path. Unit
 * tests beside the code (src/agent, src/cni, src/common) set it on injected
 * fakes only, and are not scanned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../common/version.js';

/** Where the switch must never appear. */
const SCANNED = ['src/lab', 'scripts', 'test'];
/** This file, which names it to look for it. */
const SELF = 'src/lab/host-netns.test.ts';
/**
 * What sets the mode: the option given a value (`hostNetns: true`, `"hostNetns": true`,
 * `config.hostNetns = true`), the flag (--host-netns) and the call that turns it on
 * (enableHostNetns). Reading the agent's status (`st.hostNetns === false`) is not setting it;
 * nor is "host-netns" alone: the connectivity suite names its clients in a node's own
 * namespace that way, as Cilium's connectivity test does.
 */
const SETS = /hostnetns['"]?\s*(:|=(?!=))|--host-netns|enablehostnetns/i;

/** Whether a line of source sets host-netns mode. */
export function setsHostNetns(line: string): boolean {
  return SETS.test(line);
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : files(p);
    return e.isFile() ? [p] : [];
  });
}

/** `path:line: text` of every line under `dirs` (relative to `root`) that sets the switch. */
export function switchMentions(root: string, dirs: readonly string[] = SCANNED): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    for (const f of files(join(root, d))) {
      const rel = relative(root, f);
      if (rel === SELF) continue;
      const text = readFileSync(f);
      if (text.includes(0)) continue; // binary fixtures
      text
        .toString('utf8')
        .split('\n')
        .forEach((line, i) => {
          if (setsHostNetns(line)) out.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
  }
  return out;
}

test('nothing in src/lab/, scripts/ or test/ sets hostNetns or --host-netns', () => {
  const found = switchMentions(repoRoot);
  assert.deepEqual(found, [], `host-netns mode is for a real node's agent only (the DaemonSet); found:\n${found.join('\n')}`);
});

test('what counts as setting the switch, and what does not', () => {
  const sets = ['hostNetns: true,', '"hostNetns": true', "config.hostNetns = true;", "args: ['agent', '--host-netns']", 'enableHostNetns();', '{ ...config(dir), HOSTNETNS: 1 }'];
  const reads = ['assert.equal(st.hostNetns, false);', 'if (st.hostNetns === true) fail();', "src: { name: `host-netns@${n.name}` }"];
  for (const l of sets) assert.equal(setsHostNetns(l), true, l);
  for (const l of reads) assert.equal(setsHostNetns(l), false, l);
});

test('the scan finds the switch where it is set (the agent\'s CLI, the DaemonSet)', () => {
  // The same scan over the places that must name it: a scan that finds nothing anywhere proves nothing.
  const found = switchMentions(repoRoot, ['src/cli', 'deploy/kubernetes/agent']);
  assert.ok(found.some((l) => l.startsWith('src/cli/agent.ts:') && /--host-netns/.test(l)), found.join('\n'));
  assert.ok(found.some((l) => l.startsWith('deploy/kubernetes/agent/daemonset.yaml:') && /--host-netns/.test(l)), found.join('\n'));
  assert.ok(found.some((l) => l.startsWith('src/cli/agent.ts:') && /enableHostNetns\(\)/.test(l)), found.join('\n'));
});
