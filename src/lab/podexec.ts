/**
 * Running commands in a lab pod: in the foreground (`lab pod exec`), or as a
 * background process of the pod (`lab pod exec -d`) that lives in the pod's
 * cgroup under the lab's subtree, so deleting the pod or the lab ends it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LabStepError } from '../common/errors.js';
import { ensureCgroup } from './cgroup.js';
import { startDaemon, type OwnedProcess } from './process.js';
import { podsDir, requirePod } from './pods.js';

/** Runs CMD in the pod's network namespace, attached to this terminal; resolves with its exit status. */
export function podExec(lab: string, name: string, cmd: string[]): Promise<number> {
  const rec = requirePod(lab, name, `lab ${lab}: no pod ${name}`);
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', rec.netns, ...cmd], { stdio: 'inherit', env: { ...process.env, BEELINE_POD: rec.name } });
    child.on('error', (e) => reject(new LabStepError(`lab pod exec ${name}: ${e.message}`)));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
  });
}

/** Starts CMD in the background inside the pod (its netns and its cgroup); output goes to the pod's log. */
export function podRun(lab: string, name: string, cmd: string[]): OwnedProcess {
  const rec = requirePod(lab, name, `lab ${lab}: no pod ${name}`);
  return startDaemon({
    role: `pod ${name}`,
    netns: rec.netns,
    cgroupDir: ensureCgroup(lab, 'pods', name),
    log: join(podsDir(lab), `${name}.log`),
    cmd,
    env: { ...process.env, BEELINE_POD: rec.name },
  });
}
