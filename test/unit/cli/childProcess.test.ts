import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whyNotDirectlyExecutable } from '../../../src/cli/childProcess.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aws-vault-child-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer, mode = 0o755): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

describe.runIf(process.platform === 'linux')('whyNotDirectlyExecutable', () => {
  it('passes programs and #! scripts the kernel runs, interpreters of interpreters included', () => {
    expect(whyNotDirectlyExecutable('/bin/sh')).toBeUndefined();
    expect(whyNotDirectlyExecutable(file('a.sh', '#!/bin/sh\necho\n'))).toBeUndefined();
    expect(whyNotDirectlyExecutable(file('b.sh', '#!  /bin/sh -e\n'))).toBeUndefined();
    const inner = file('inner', '#!/bin/sh\n');
    expect(whyNotDirectlyExecutable(file('outer', `#!${inner}\n`))).toBeUndefined();
  });

  it('says why anything else would make execve fail', () => {
    expect(whyNotDirectlyExecutable(file('plain.sh', 'echo hi\n'))).toBe(
      'it is neither an ELF binary nor a #! script',
    );
    expect(whyNotDirectlyExecutable(file('crlf.sh', '#!/bin/sh\r\n'))).toBe(
      'its #! line ends in a carriage return (Windows line ends)',
    );
    expect(whyNotDirectlyExecutable(file('none.sh', '#!\n'))).toBe(
      'its #! line names no interpreter',
    );
    expect(whyNotDirectlyExecutable(file('gone.sh', '#!/no/such/sh\n'))).toBe(
      'its interpreter /no/such/sh does not exist',
    );
    const notExecutable = file('sh-copy', '#!/bin/sh\n', 0o644);
    expect(whyNotDirectlyExecutable(file('x.sh', `#!${notExecutable}\n`))).toBe(
      `its interpreter ${notExecutable} is not executable`,
    );
    const viaPlain = file('plain-interp', 'echo\n');
    expect(whyNotDirectlyExecutable(file('y.sh', `#!${viaPlain}\n`))).toBe(
      `its interpreter ${viaPlain}: it is neither an ELF binary nor a #! script`,
    );
    let chain = file('level0', '#!/bin/sh\n');
    for (let i = 1; i <= 5; i++) chain = file(`level${i}`, `#!${chain}\n`);
    expect(whyNotDirectlyExecutable(chain)).toMatch(/more than 4 deep$/);
    expect(whyNotDirectlyExecutable(file('long.sh', `#!/bin/sh ${'x'.repeat(300)}`))).toBe(
      'its #! line is too long',
    );
    expect(whyNotDirectlyExecutable(join(dir, 'missing'))).toBe('it cannot be read');
  });

  it('checks an ELF binary is for this machine and has its loader', () => {
    const elf = readFileSync('/bin/true');
    const other = Buffer.from(elf);
    // e_machine of another architecture than this one.
    other.writeUInt16LE(elf.readUInt16LE(18) === 40 ? 62 : 40, 18);
    expect(whyNotDirectlyExecutable(file('other', other))).toBe(
      `it is a binary for another kind of machine than this ${process.arch}`,
    );
    const at = elf.indexOf('ld-linux');
    if (at > 0) {
      const noLoader = Buffer.from(elf);
      noLoader.write('ld-nolin', at, 'latin1');
      expect(whyNotDirectlyExecutable(file('noloader', noLoader))).toMatch(
        /^its program interpreter \/.*ld-nolin.* does not exist$/,
      );
    }
    expect(whyNotDirectlyExecutable(file('stub', Buffer.from('\x7fELF\x02\x01\x01junk')))).toBe(
      'it is a truncated ELF file',
    );
    expect(whyNotDirectlyExecutable(file('trunc', elf.subarray(0, 56)))).toBe(
      'it is a truncated ELF file',
    );
  });

  it('reads a loader name kept past the first 4 KB (patchelf), as the kernel does', () => {
    const elf = readFileSync('/bin/true');
    const at = elf.indexOf('ld-linux');
    if (at < 0 || elf[4] !== 2 || elf[5] !== 1) return; // a 64-bit little-endian glibc program
    const start = elf.lastIndexOf(0, at) + 1;
    const loader = elf.toString('latin1', start, elf.indexOf(0, at));
    // Append the name at the end and point PT_INTERP at it (64-bit little-endian).
    const moved = Buffer.concat([elf, Buffer.from(`${loader}\0`, 'latin1')]);
    const phoff = Number(moved.readBigUInt64LE(32));
    for (let i = 0; i < moved.readUInt16LE(56); i++) {
      const ph = phoff + i * moved.readUInt16LE(54);
      if (moved.readUInt32LE(ph) === 3) moved.writeBigUInt64LE(BigInt(elf.length), ph + 8);
    }
    moved.fill(0, start, start + loader.length); // the old copy is gone
    expect(elf.length).toBeGreaterThan(4096);
    expect(whyNotDirectlyExecutable(file('patched', moved))).toBeUndefined();
  });
});
