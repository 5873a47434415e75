// Container images in the lab. Images cannot be pulled: a pod's container runs under runc with
// a root assembled from the machine's read-only /usr and /etc and this repository (src/lab/oci.ts). A small catalogue of well-known demo images maps
// to built-in implementations (src/lab/images/); any other image runs its command/args, or
// idles when it has neither. See docs/images.md.
import { basename, join } from 'node:path';
import { repoRoot } from '../common/version.js';

/** A catalogue entry: what beeline knows about an image. */
export interface ImageEntry {
  /** Normalised name (see imageName). */
  name: string;
  /** Other normalised names of the same image. */
  aliases: string[];
  description: string;
  /** The image's ENTRYPOINT. */
  entrypoint?: string[];
  /** The image's CMD. */
  defaultCmd?: string[];
  /** The built-in implementation (src/lab/images/registry.ts) that stands for the image's own program. */
  builtin?: string;
  /**
   * A host program that stands for the image's own program instead of a built-in (no Node.js
   * process): the whole argv, the container's own arguments dropped.
   */
  hostArgv?: readonly string[];
  /**
   * Or a program of this repository (a path under repoRoot) that stands for it, run as it is,
   * not by Node.js: for images whose point is a native server (`nginx-native`).
   */
  hostProgram?: string;
  /**
   * Programs of the image that the built-in stands for, matched against the basename of the
   * resolved argv[0] — or of argv[1] when argv[0] is an interpreter (node, bash, sh) — (default:
   * the basename of the image's own program, entrypoint[0] or else defaultCmd[0]). A container
   * whose argv starts with another program (say `sh -c ...`) runs that program from the host.
   */
  binaries?: string[];
  /** Directories the stand-in writes (the root may be read-only): the container gets a tmpfs at each. */
  tmpfs?: string[];
}

const REGISTRY_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'quay.io', 'ghcr.io', 'registry.k8s.io', 'k8s.gcr.io', 'gcr.io', 'public.ecr.aws', 'mcr.microsoft.com']);

/**
 * Normalise an image reference to a catalogue name: drop the registry host (docker.io, quay.io,
 * ghcr.io, registry.k8s.io, ... or any first component with a '.' or ':' or equal to
 * 'localhost'), Docker Hub's 'library/', the tag and the digest; lower-case.
 *   docker.io/cilium/starwars:v1@sha256:… → cilium/starwars
 *   nginx:1.27 → nginx;  registry.k8s.io/e2e-test-images/agnhost:2.52 → e2e-test-images/agnhost
 */
export function imageName(ref: string): string {
  let s = ref.trim();
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const parts = s.split('/');
  const last = parts.length - 1;
  const colon = parts[last]!.indexOf(':');
  if (colon >= 0) parts[last] = parts[last]!.slice(0, colon);
  if (parts.length > 1) {
    const first = parts[0]!.toLowerCase();
    if (REGISTRY_HOSTS.has(first) || first.includes('.') || first.includes(':') || first === 'localhost') parts.shift();
  }
  if (parts.length > 1 && parts[0] === 'library') parts.shift();
  return parts.join('/').toLowerCase();
}

/** The idle command: what a container with nothing to run does (so `kubectl exec` works). */
export const IDLE_ARGV: readonly string[] = ['sleep', 'infinity'];

/**
 * The pause container (registry.k8s.io/pause) as host processes: a shell that sleeps until
 * signalled and, as pause.c does, exits 0 on SIGTERM or SIGINT, taking its `sleep` with it.
 * pause.c also reaps zombies as its pod's pid 1; in the lab every container's pid 1 is tini
 * (src/lab/oci.ts CONTAINER_INIT), which does that. A shell and coreutils'
 * sleep start in about 2 ms and hold about 2 MB, a Node.js process 60+ ms of CPU and 40 MB:
 * this is what most Deployments of the benchmarks run (issue 16).
 */
export const PAUSE_ARGV: readonly string[] = ['/bin/sh', '-c', "trap 'kill $! 2>/dev/null; exit 0' TERM INT; sleep infinity & wait", 'pause'];

/** The catalogue of images beeline knows. */
export const CATALOGUE: ImageEntry[] = [
  // --- built-in implementations ---
  {
    name: 'cilium/starwars',
    aliases: [],
    description: "The Star Wars demo's deathstar (cilium/starwars-docker): HTTP on 80 — GET /v1/, POST /v1/request-landing, PUT /v1/exhaust-port.",
    entrypoint: ['/starwars-docker', '--port', '80', '--host', '0.0.0.0'],
    builtin: 'starwars',
  },
  {
    name: 'cilium/json-mock',
    aliases: [],
    description: 'json-server with a small database and /client-ip, /hostname middleware (tiefighter/xwing in the Star Wars demo); HTTP on $PORT (80).',
    entrypoint: ['bash', '/run.sh'],
    defaultCmd: [],
    builtin: 'json-mock',
    binaries: ['run.sh', 'json-server'],
  },
  {
    name: 'hashicorp/http-echo',
    aliases: [],
    description: 'Answers every request with -text (default $ECHO_TEXT=hello-world) and a newline; -listen (:5678), -status-code.',
    entrypoint: ['/http-echo'],
    builtin: 'http-echo',
  },
  {
    name: 'ealen/echo-server',
    aliases: [],
    description: 'Echoes each request as JSON (host, http, request, environment); $PORT (80).',
    entrypoint: ['node', 'webserver'],
    builtin: 'ealen-echo-server',
    binaries: ['webserver', 'echo-server'],
  },
  {
    name: 'jmalloc/echo-server',
    aliases: [],
    description: 'Echoes each request as plain text (request line, headers, body); $PORT (8080).',
    entrypoint: ['/bin/echo-server'],
    builtin: 'jmalloc-echo-server',
  },
  {
    name: 'e2e-test-images/agnhost',
    aliases: ['kubernetes-e2e-test-images/agnhost', 'agnhost'],
    description: "Kubernetes' e2e test image: subcommands netexec (HTTP 8080, UDP 8081), serve-hostname (9376) and pause.",
    entrypoint: ['/agnhost'],
    defaultCmd: ['pause'],
    builtin: 'agnhost',
    binaries: ['agnhost', 'agnhost-2'],
  },
  {
    name: 'pause',
    aliases: ['google_containers/pause', 'google-containers/pause', 'pause-amd64'],
    description: 'The pause container: sleeps until signalled.',
    entrypoint: ['/pause'],
    hostArgv: PAUSE_ARGV,
  },
  {
    name: 'nginx',
    aliases: ['nginxinc/nginx'],
    description: 'nginx with its default site: "Welcome to nginx!" on 80.',
    entrypoint: ['/docker-entrypoint.sh'],
    defaultCmd: ['nginx', '-g', 'daemon off;'],
    builtin: 'nginx',
    binaries: ['docker-entrypoint.sh', 'nginx'],
  },
  {
    name: 'nginxinc/nginx-unprivileged',
    aliases: [],
    description: 'nginx running as non-root: "Welcome to nginx!" on 8080.',
    entrypoint: ['/docker-entrypoint.sh'],
    defaultCmd: ['nginx', '-g', 'daemon off;'],
    builtin: 'nginx-unprivileged',
    binaries: ['docker-entrypoint.sh', 'nginx'],
  },
  {
    name: 'httpd',
    aliases: [],
    description: 'Apache httpd with its default page: "It works!" on 80.',
    defaultCmd: ['httpd-foreground'],
    builtin: 'httpd',
    binaries: ['httpd-foreground', 'httpd'],
  },
  {
    name: 'kennethreitz/httpbin',
    aliases: [],
    description: 'httpbin (Flask/gunicorn) on 80: /get /post /anything /headers /ip /status/:code /delay/:n ...',
    defaultCmd: ['gunicorn', '-b', '0.0.0.0:80', 'httpbin:app', '-k', 'gevent'],
    builtin: 'httpbin',
    binaries: ['gunicorn'],
  },
  {
    name: 'mccutchen/go-httpbin',
    aliases: [],
    description: 'go-httpbin on $PORT (8080): /get /post /anything /headers /ip /status/:code /delay/:n ...',
    defaultCmd: ['/bin/go-httpbin'],
    builtin: 'go-httpbin',
  },
  {
    name: 'nginx-native',
    aliases: ['beeline/nginx-native'],
    description: "The host's nginx (Debian nginx-light, C) answering every request with 200 and $TEXT (ok) on $PORT (80), no access log: a server that is not the bottleneck, for benchmarks. --port, --text, --workers (1).",
    entrypoint: ['/beeline-nginx'],
    hostProgram: join('bin', 'beeline-nginx'),
    tmpfs: ['/var/lib/nginx'],
  },
  {
    name: 'beeline/cluster-dns',
    aliases: [],
    description: "The lab's cluster DNS (in place of coredns/coredns): the host's dnsmasq, the container's args its arguments (src/lab/dns.ts clusterDnsArgs); the kube-system/coredns Deployment runs it.",
    entrypoint: ['dnsmasq'],
  },
  // --- tool images: no built-in; their programs come from the host ---
  { name: 'busybox', aliases: [], description: 'BusyBox; CMD sh (exits at once without stdin).', defaultCmd: ['sh'] },
  { name: 'alpine', aliases: [], description: 'Alpine Linux; CMD /bin/sh (exits at once without stdin).', defaultCmd: ['/bin/sh'] },
  { name: 'ubuntu', aliases: [], description: 'Ubuntu; CMD /bin/bash (exits at once without stdin).', defaultCmd: ['/bin/bash'] },
  { name: 'debian', aliases: [], description: 'Debian; CMD bash (exits at once without stdin).', defaultCmd: ['bash'] },
  { name: 'curlimages/curl', aliases: [], description: 'curl; the entrypoint is curl, so args alone are curl arguments.', entrypoint: ['curl'] },
  { name: 'nicolaka/netshoot', aliases: [], description: 'Network troubleshooting tools; CMD zsh (exits at once without stdin).', defaultCmd: ['zsh'] },
  { name: 'tgraf/netperf', aliases: [], description: "The original Star Wars demo's spaceship image (netperf tools); no long-running CMD.", defaultCmd: ['/bin/sh'] },
];

const BY_NAME: Map<string, ImageEntry> = new Map(CATALOGUE.flatMap((e) => [e.name, ...e.aliases].map((n) => [n, e] as [string, ImageEntry])));

/** The catalogue entry for an image reference, if beeline knows the image. */
export function lookupImage(ref: string): ImageEntry | undefined {
  return BY_NAME.get(imageName(ref));
}

/** Where the built-in images' entry point is compiled to. */
export const BUILTIN_MAIN: string = join(repoRoot, 'dist', 'src', 'lab', 'images', 'main.js');

/** The argv that runs built-in `builtin` with `args`. */
export function builtinArgv(builtin: string, args: readonly string[]): string[] {
  return [process.execPath, BUILTIN_MAIN, builtin, ...args];
}

/** Programs that run a script named by their first argument. */
const INTERPRETERS = new Set(['node', 'bash', 'sh']);

/** Shells that, as a container's whole argv, only read commands from stdin. */
const INTERACTIVE_SHELLS = new Set(['sh', 'ash', 'bash', 'zsh', 'dash', 'ksh', 'fish']);

export interface ContainerSpec {
  image: string;
  command?: string[];
  args?: string[];
  /** Kubernetes' stdin/tty: a bare shell with stdin kept open keeps running. */
  stdin?: boolean;
  tty?: boolean;
}

/**
 * What a container runs, by Kubernetes' rules with the image's ENTRYPOINT/CMD from the catalogue:
 *   command and args  → command ++ args
 *   command only      → command (the image's CMD is dropped)
 *   args only         → ENTRYPOINT ++ args
 *   neither           → ENTRYPOINT ++ CMD
 * When the result starts with a program the image's built-in stands for, that program is
 * replaced by the built-in (`node dist/src/lab/images/main.js <builtin> ...rest`), or by the
 * entry's host program (`<repo>/bin/beeline-nginx ...rest`).
 * An unknown image is taken to have no ENTRYPOINT and no CMD; with neither command nor args it
 * idles (`sleep infinity`). A bare interactive shell with `stdin` or `tty` set idles too (in
 * Kubernetes it would wait on its open stdin); without them it runs and exits at once, as it does
 * in Kubernetes.
 */
export function resolveContainerCommand(container: ContainerSpec): { argv: string[]; builtin?: string; tmpfs?: string[] } {
  const entry = lookupImage(container.image);
  const command = container.command?.length ? container.command : undefined;
  const args = container.args?.length ? container.args : undefined;
  const entrypoint = entry?.entrypoint ?? [];
  let argv: string[];
  if (command) argv = [...command, ...(args ?? [])];
  else if (args) argv = [...entrypoint, ...args];
  else argv = [...entrypoint, ...(entry?.defaultCmd ?? [])];

  if (argv.length === 0) return { argv: [...IDLE_ARGV] };
  if (entry?.builtin || entry?.hostArgv || entry?.hostProgram) {
    const own = entry.entrypoint?.[0] ?? entry.defaultCmd?.[0];
    const binaries = entry.binaries ?? (own ? [basename(own)] : []);
    const standIn = (rest: string[]) => ({
      ...(entry.builtin
        ? { argv: builtinArgv(entry.builtin, rest), builtin: entry.builtin }
        : entry.hostArgv
          ? { argv: [...entry.hostArgv] }
          : { argv: [join(repoRoot, entry.hostProgram!), ...rest] }),
      ...(entry.tmpfs ? { tmpfs: [...entry.tmpfs] } : {}),
    });
    if (binaries.includes(basename(argv[0]!))) return standIn(argv.slice(1));
    if (argv.length > 1 && INTERPRETERS.has(basename(argv[0]!)) && binaries.includes(basename(argv[1]!))) return standIn(argv.slice(2));
  }
  if (argv.length === 1 && INTERACTIVE_SHELLS.has(basename(argv[0]!)) && (container.stdin || container.tty)) return { argv: [...IDLE_ARGV] };
  return { argv };
}
