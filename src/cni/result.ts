/**
 * What the plugin prints: the ADD result in the configuration's spec version,
 * the VERSION result, and the error object. Pure.
 */
import { BeelineError, CniError } from '../common/errors.js';
import { CNI_CODE_TEXT, CNI_VERSION, CniCode, SUPPORTED_VERSIONS, type CniDNS, type CniErrorObject, type CniResult, type CniVersionResult } from './types.js';

/** What ADD made, in the plugin's own terms. */
export interface AddOutcome {
  cniVersion: string;
  netns: string;
  ifname: string;
  mac: string;
  hostIfname: string;
  hostMac: string;
  /** The pod's address; configured as /32. */
  ip: string;
  gateway: string;
  dns?: CniDNS;
  /** A result of earlier plugins in the chain: ours is appended to it (the spec's "pass it through, or modify it"). */
  prevResult?: CniResult;
}

/**
 * The Success result: the host veth and the pod interface, the address (/32,
 * on the pod interface) with its gateway, and the default route. 0.3.x/0.4.0
 * results carry `version: "4"` on each address; 1.0.0 dropped it (1.1.0 too).
 */
export function renderAddResult(o: AddOutcome): CniResult {
  const legacy = o.cniVersion.startsWith('0.');
  const prev = o.prevResult;
  const base = prev?.interfaces?.length ?? 0;
  return {
    cniVersion: o.cniVersion,
    interfaces: [
      ...(prev?.interfaces ?? []),
      { name: o.hostIfname, mac: o.hostMac },
      { name: o.ifname, mac: o.mac, sandbox: o.netns },
    ],
    ips: [...(prev?.ips ?? []), { ...(legacy ? { version: '4' as const } : {}), address: `${o.ip}/32`, gateway: o.gateway, interface: base + 1 }],
    routes: [...(prev?.routes ?? []), { dst: '0.0.0.0/0', gw: o.gateway }],
    dns: o.dns ?? prev?.dns ?? {},
  };
}

export function versionResult(): CniVersionResult {
  return { cniVersion: CNI_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
}

/**
 * The error object for any failure. `cniVersion` is the configuration's when
 * it is one we speak, else ours. Errors that are not CniErrors get code 100.
 */
export function errorObject(err: unknown, cniVersion?: string): CniErrorObject {
  const version = cniVersion && SUPPORTED_VERSIONS.includes(cniVersion) ? cniVersion : CNI_VERSION;
  if (err instanceof CniError) {
    return { cniVersion: version, code: err.cniCode, msg: err.describe(), details: err.details ?? CNI_CODE_TEXT[err.cniCode] ?? '' };
  }
  const msg = err instanceof BeelineError ? `${err.describe()} [${err.code}]` : err instanceof Error ? err.message : String(err);
  return { cniVersion: version, code: CniCode.Internal, msg, details: err instanceof Error && err.stack ? err.stack.split('\n').slice(0, 4).join(' | ') : CNI_CODE_TEXT[CniCode.Internal]! };
}
