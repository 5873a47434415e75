/**
 * A kubeconfig for a local plain-HTTP test API server (test/lib/kube-api.ts,
 * test/lib/fake-apiserver.ts), written to a new temp directory.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes it; returns its path. `namespace`: the context's default namespace. */
export function writeTestKubeconfig(url: string, name: string, token: string, namespace?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), `bl-${name}-`)), 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain HTTP unless TLS verification is off (there is no TLS to verify).
      clusters: [{ name, cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: name, user: name, ...(namespace ? { namespace } : {}) } }],
      'current-context': name,
    }),
  );
  return file;
}
