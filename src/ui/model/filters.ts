/**
 * The server-side filters both streams (flows and the map) get: the text
 * filter's lists (ParseFilter's reply) plus the hide-noise toggles and hidden
 * workloads as blacklist FlowFilters, as Hubble UI hides them.
 */
import type { FlowFilter } from '../../api/generated/flow/FlowFilter.js';

/** A workload hidden from the map and the table. */
export interface HiddenWorkload {
  namespace: string;
  name: string;
}

/** What the user hides. */
export interface NoiseOptions {
  /** The node itself (reserved:host). */
  host: boolean;
  /** The cluster DNS (k8s:k8s-app=kube-dns). */
  kubeDns: boolean;
  /** Cilium's health endpoints (reserved:health). */
  health: boolean;
  workloads: HiddenWorkload[];
}

export const NO_NOISE_HIDDEN: NoiseOptions = { host: false, kubeDns: false, health: false, workloads: [] };

/** Flows from or to anything with this label, as two blacklist filters. */
function eitherLabel(label: string): FlowFilter[] {
  return [{ source_label: [label] }, { destination_label: [label] }];
}

/** The blacklist FlowFilters that hide what the options say. */
export function noiseBlacklist(o: NoiseOptions): FlowFilter[] {
  const out: FlowFilter[] = [];
  if (o.host) out.push(...eitherLabel('reserved:host'));
  if (o.kubeDns) out.push(...eitherLabel('k8s:k8s-app=kube-dns'));
  if (o.health) out.push(...eitherLabel('reserved:health'));
  for (const w of o.workloads) {
    // The workload's name alone could be another namespace's: pods of the namespace only (`ns/` prefix).
    out.push({ source_workload: [{ name: w.name }], source_pod: [`${w.namespace}/`] });
    out.push({ destination_workload: [{ name: w.name }], destination_pod: [`${w.namespace}/`] });
  }
  return out;
}

/** The text filter's lists and the noise blacklist, as a GetFlows / WatchServiceMap request takes them. */
export function requestFilters(text: { whitelist: FlowFilter[]; blacklist: FlowFilter[] }, noise: NoiseOptions): { whitelist: FlowFilter[]; blacklist: FlowFilter[] } {
  return { whitelist: text.whitelist, blacklist: [...text.blacklist, ...noiseBlacklist(noise)] };
}

/** Adds a workload to the hidden list (once). */
export function hideWorkload(o: NoiseOptions, w: HiddenWorkload): NoiseOptions {
  if (o.workloads.some((x) => x.namespace === w.namespace && x.name === w.name)) return o;
  return { ...o, workloads: [...o.workloads, w] };
}

/** Removes a workload from the hidden list. */
export function showWorkload(o: NoiseOptions, w: HiddenWorkload): NoiseOptions {
  return { ...o, workloads: o.workloads.filter((x) => !(x.namespace === w.namespace && x.name === w.name)) };
}
