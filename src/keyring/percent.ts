/**
 * File names of the file backend: the item key with only `%` and `/`
 * percent-encoded, as the Go aws-vault (99designs/keyring with
 * mtibben/percent) names them, e.g. `team/dev prod` -> `team%2Fdev prod`.
 */
export function encodeFileName(key: string): string {
  return key.replace(/[%/]/g, (c) => (c === '%' ? '%25' : '%2F'));
}

/** Reverses {@link encodeFileName}; decodes any `%XX` as Go's percent.Decode does. */
export function decodeFileName(name: string): string {
  if (!name.includes('%')) return name;
  const bytes: number[] = [];
  const raw = Buffer.from(name, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i] as number;
    if (byte === 0x25 && i + 2 < raw.length && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
      bytes.push(parseInt(String.fromCharCode(raw[i + 1] as number, raw[i + 2] as number), 16));
      i += 2;
    } else {
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function isHex(byte: number | undefined): boolean {
  return (
    byte !== undefined &&
    ((byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x46) ||
      (byte >= 0x61 && byte <= 0x66))
  );
}
