/**
 * The little of ELF the ABI generator needs from a BPF object: its byte
 * order, section names and sizes, and the symbol table. BTF alone is not
 * enough: in an unlinked .o clang leaves the offsets of global variables in
 * each DATASEC at 0 (libbpf fills them in from the symbol table at open),
 * and which section a program lives in ("tc", "xdp", …) is ELF's to say.
 */
import { readFileSync } from 'node:fs';
import { AbiMismatchError } from '../../common/errors.js';

/** EM_BPF, e_machine of BPF objects. */
export const EM_BPF = 247;
export const SHT_SYMTAB = 2;
export const SHF_EXECINSTR = 0x4;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly size: number;
}

export interface ElfSymbol {
  readonly name: string;
  /** Name of the section the symbol is defined in; undefined for undefined/absolute symbols. */
  readonly section: string | undefined;
  /** For a relocatable object: the offset in its section. */
  readonly value: number;
  readonly size: number;
  /** STT_* */
  readonly type: number;
  /** STB_* */
  readonly bind: number;
}

export interface ElfObject {
  readonly littleEndian: boolean;
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  /** The bytes of a section (empty for NOBITS sections such as .bss). */
  sectionData(name: string): Buffer | undefined;
}

function cstr(buf: Buffer, off: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('latin1', off, end < 0 ? buf.length : end);
}

/** Parses a 64-bit ELF file (BPF objects always are). */
export function parseElf(bytes: Uint8Array, what = 'object'): ElfObject {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): never => {
    throw new AbiMismatchError(`read ELF of ${what}: ${why}`, 'is it a BPF object built by clang -target bpf?');
  };
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) bad('not an ELF file');
  if (buf[4] !== 2) bad('not a 64-bit ELF file');
  const le = buf[5] === 1;
  if (!le && buf[5] !== 2) bad(`unknown byte order ${buf[5]}`);
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));

  const machine = u16(18);
  const shoff = u64(40);
  const shentsize = u16(58);
  const shnum = u16(60);
  const shstrndx = u16(62);
  if (shnum === 0 || shoff + shnum * shentsize > buf.length) bad('section headers missing or truncated');

  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    return {
      nameOff: u32(o),
      type: u32(o + 4),
      flags: u64(o + 8),
      offset: u64(o + 24),
      size: u64(o + 32),
      link: u32(o + 40),
      entsize: u64(o + 56),
    };
  });
  const shstr = raw[shstrndx] ?? bad('no section name table');
  const sections: ElfSection[] = raw.map((s, index) => ({
    index,
    name: cstr(buf, shstr.offset + s.nameOff),
    type: s.type,
    flags: s.flags,
    offset: s.offset,
    size: s.size,
  }));

  const symbols: ElfSymbol[] = [];
  const symtab = raw.find((s) => s.type === SHT_SYMTAB);
  if (symtab) {
    const strtab = raw[symtab.link] ?? bad('symbol table without string table');
    const entsize = symtab.entsize || 24;
    for (let o = symtab.offset + entsize; o + entsize <= symtab.offset + symtab.size; o += entsize) {
      const info = buf[o + 4]!;
      const shndx = u16(o + 6);
      symbols.push({
        name: cstr(buf, strtab.offset + u32(o)),
        // 0 is SHN_UNDEF; 0xff00 and up are reserved (SHN_ABS, SHN_COMMON, …).
        section: shndx > 0 && shndx < 0xff00 ? sections[shndx]?.name : undefined,
        value: u64(o + 8),
        size: u64(o + 16),
        type: info & 0xf,
        bind: info >> 4,
      });
    }
  }

  return {
    littleEndian: le,
    machine,
    sections,
    symbols,
    sectionData(name: string): Buffer | undefined {
      const s = sections.find((x) => x.name === name);
      if (!s) return undefined;
      if (s.type === 8 /* SHT_NOBITS */) return Buffer.alloc(0);
      return buf.subarray(s.offset, s.offset + s.size);
    },
  };
}

/** Reads and parses an ELF file. */
export function readElfFile(path: string): ElfObject {
  return parseElf(readFileSync(path), path);
}
