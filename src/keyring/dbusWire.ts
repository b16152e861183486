// The D-Bus wire format (https://dbus.freedesktop.org/doc/dbus-specification.html,
// "Message Protocol"), as much of it as reading the Secret Service needs:
// marshalling of the basic types, arrays, structs, dict entries and
// variants, and the message header. No I/O here (see secretServiceReader.ts).

/** A D-Bus value as this module reads and writes it. */
export type DbusValue =
  | number
  | bigint
  | boolean
  | string
  | Buffer
  | DbusValue[]
  | Map<DbusValue, DbusValue>
  | DbusVariant;

/** A variant: its own signature and value. */
export interface DbusVariant {
  signature: string;
  value: DbusValue;
}

export const MESSAGE_TYPE = { call: 1, return: 2, error: 3, signal: 4 } as const;

/** The byte-order mark of a little-endian message, `l`. */
const LITTLE_ENDIAN = 0x6c;

/** Header field codes. */
const FIELD = {
  path: 1,
  interface: 2,
  member: 3,
  errorName: 4,
  replySerial: 5,
  destination: 6,
  sender: 7,
  signature: 8,
} as const;

/** The bad-input error of this module: a malformed message or signature. */
export class DbusWireError extends Error {
  override name = 'DbusWireError';
}

const FIXED: Record<string, number> = {
  y: 1,
  b: 4,
  n: 2,
  q: 2,
  i: 4,
  u: 4,
  x: 8,
  t: 8,
  d: 8,
  h: 4,
};

const BASIC = 'ybnqiuxtdhsog';

/**
 * The length of the single complete type that starts at `at` in
 * `signature`. A dict entry `{KV}` (K a basic type, V one complete type) is
 * allowed only as an array's element; a struct has at least one field.
 */
function typeLength(signature: string, at: number, inArray = false): number {
  const c = signature[at];
  if (c === undefined) throw new DbusWireError(`signature ${signature}: ends early`);
  if (c === 'a') return 1 + typeLength(signature, at + 1, true);
  if (c === '(' || c === '{') {
    if (c === '{' && !inArray)
      throw new DbusWireError(`signature ${signature}: { outside an array`);
    const close = c === '(' ? ')' : '}';
    let i = at + 1;
    let fields = 0;
    while (signature[i] !== close) {
      if (i >= signature.length) throw new DbusWireError(`signature ${signature}: unclosed ${c}`);
      if (c === '{' && fields === 0 && !BASIC.includes(signature[i] as string)) {
        throw new DbusWireError(`signature ${signature}: a dict key must be a basic type`);
      }
      i += typeLength(signature, i);
      fields++;
    }
    if (c === '{' ? fields !== 2 : fields === 0) {
      throw new DbusWireError(`signature ${signature}: bad ${c === '{' ? 'dict entry' : 'struct'}`);
    }
    return i + 1 - at;
  }
  if (BASIC.includes(c) || c === 'v') return 1;
  throw new DbusWireError(`signature ${signature}: unknown type ${c}`);
}

const splitSignatures = new Map<string, readonly string[]>();

/** The complete types of a signature, in order (remembered: a few signatures recur in every message). */
export function splitSignature(signature: string): readonly string[] {
  let types = splitSignatures.get(signature);
  if (types === undefined) {
    const found: string[] = [];
    for (let i = 0; i < signature.length;) {
      const n = typeLength(signature, i);
      found.push(signature.slice(i, i + n));
      i += n;
    }
    types = Object.freeze(found);
    splitSignatures.set(signature, types);
  }
  return types;
}

function alignmentOf(type: string): number {
  const c = type[0] as string;
  if (c === '(' || c === '{') return 8;
  if (c === 'a' || c === 's' || c === 'o') return 4;
  if (c === 'g' || c === 'v') return 1;
  return FIXED[c] ?? 1;
}

/** A header field of a call: its code, its variant's type and value. */
type HeaderField = readonly [code: number, type: 'o' | 's' | 'g', value: string];

/**
 * What a received message's header says that replies are matched and read
 * by (the other fields are checked and skipped).
 */
interface HeaderSummary {
  replySerial?: number;
  errorName?: string;
  signature: string;
}

/**
 * Builds little-endian messages, one after another in one buffer: padding
 * counts from the start of the current message (`startMessage`). Bytes and
 * UINT32s are stored directly: this runs cold, once per process, where each
 * Buffer method call costs a microsecond.
 */
export class DbusWriter {
  #buf = Buffer.allocUnsafe(1024);
  #len = 0;
  #base = 0;
  /**
   * Each string's bytes, converted once per writer: a round of calls repeats
   * the same names in every message (42 `Properties.Get` calls share five of
   * their six strings), and converting a string costs several of Node's
   * Buffer functions, run cold on every start-up.
   */
  readonly #encoded = { utf8: new Map<string, Buffer>(), latin1: new Map<string, Buffer>() };

  /** Bytes written to the current message. */
  get length(): number {
    return this.#len - this.#base;
  }

  /** Starts a new message at the end of what is written. */
  startMessage(): void {
    this.#base = this.#len;
  }

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(bigger, 0, 0, this.#len);
    this.#buf = bigger;
  }

  align(n: number): void {
    const pad = (n - ((this.#len - this.#base) % n)) % n;
    this.#room(pad);
    for (let i = 0; i < pad; i++) this.#buf[this.#len++] = 0;
  }

  #u8(v: number): void {
    this.#room(1);
    this.#buf[this.#len++] = v & 0xff;
  }

  #u32(v: number): void {
    this.align(4);
    this.#room(4);
    this.#put32(this.#len, v);
    this.#len += 4;
  }

  #put32(at: number, v: number): void {
    const b = this.#buf;
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = (v >>> 24) & 0xff;
  }

  #fixed(type: 'i' | 'n' | 'q' | 'x' | 't' | 'd', value: number | bigint): void {
    const size = FIXED[type] as number;
    this.align(size);
    this.#room(size);
    const at = this.#len;
    if (type === 'i') this.#buf.writeInt32LE(value as number, at);
    else if (type === 'n') this.#buf.writeInt16LE(value as number, at);
    else if (type === 'q') this.#buf.writeUInt16LE(value as number, at);
    else if (type === 'x') this.#buf.writeBigInt64LE(BigInt(value), at);
    else if (type === 't') this.#buf.writeBigUInt64LE(BigInt(value), at);
    else this.#buf.writeDoubleLE(value as number, at);
    this.#len += size;
  }

  #bytes(b: Buffer): void {
    this.#room(b.length);
    b.copy(this.#buf, this.#len);
    this.#len += b.length;
  }

  /** A string's bytes after its length (`lengthBytes` 4: UINT32, 1: BYTE), then NUL. */
  #text(text: string, encoding: 'utf8' | 'latin1', lengthBytes: 1 | 4): void {
    const encoded = this.#encoded[encoding];
    let bytes = encoded.get(text);
    if (bytes === undefined) {
      bytes = Buffer.from(text, encoding);
      encoded.set(text, bytes);
    }
    if (lengthBytes === 4) this.#u32(bytes.length);
    else this.#u8(bytes.length);
    this.#room(bytes.length + 1);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    this.#buf[this.#len++] = 0;
  }

  /**
   * A message header's fields, `a(yv)` whose variants hold a string, an
   * object path or a signature, written by hand: the same bytes as
   * `write('a(yv)', ...)` with a sixth of its calls (it runs for every
   * message of a cold process).
   */
  headerFields(fields: readonly HeaderField[]): void {
    this.#u32(0);
    const lengthAt = this.#len - 4;
    this.align(8);
    const start = this.#len;
    for (const [code, type, value] of fields) {
      this.align(8);
      this.#room(4);
      const b = this.#buf;
      b[this.#len] = code;
      b[this.#len + 1] = 1;
      b[this.#len + 2] = type.charCodeAt(0);
      b[this.#len + 3] = 0;
      this.#len += 4;
      if (type === 'g') this.#text(value, 'latin1', 1);
      else this.#text(value, 'utf8', 4);
    }
    this.#put32(lengthAt, this.#len - start);
  }

  /** Overwrites the UINT32 at `at` of the current message (already written), as a length. */
  setUint32(at: number, value: number): void {
    this.#put32(this.#base + at, value);
  }

  /** Writes `value` as `type` (one complete type). */
  write(type: string, value: DbusValue): void {
    const c = type[0];
    switch (c) {
      case 'y':
        return this.#u8(value as number);
      case 'b':
        return this.#u32(value ? 1 : 0);
      case 'u':
      case 'h':
        return this.#u32(value as number);
      case 'i':
      case 'n':
      case 'q':
      case 'x':
      case 't':
      case 'd':
        return this.#fixed(c, value as number | bigint);
      case 's':
      case 'o':
        return this.#text(value as string, 'utf8', 4);
      case 'g':
        // Signatures are ASCII: one byte a character.
        return this.#text(value as string, 'latin1', 1);
      case 'v': {
        const variant = value as DbusVariant;
        this.write('g', variant.signature);
        return this.write(variant.signature, variant.value);
      }
      case 'a': {
        const element = type.slice(1);
        this.#u32(0);
        const lengthAt = this.#len - 4;
        // The length excludes the padding before the first element.
        this.align(alignmentOf(element));
        const start = this.#len;
        if (element[0] === '{') {
          const [keyType, valueType] = splitSignature(element.slice(1, -1)) as [string, string];
          for (const [k, v] of value as Map<DbusValue, DbusValue>) {
            this.align(8);
            this.write(keyType, k);
            this.write(valueType, v);
          }
        } else if (element === 'y') {
          this.#bytes(value as Buffer);
        } else {
          for (const item of value as DbusValue[]) this.write(element, item);
        }
        this.#put32(lengthAt, this.#len - start);
        return;
      }
      case '(': {
        this.align(8);
        const fields = splitSignature(type.slice(1, -1));
        for (let i = 0; i < fields.length; i++) {
          this.write(fields[i] as string, (value as DbusValue[])[i] as DbusValue);
        }
        return;
      }
      default:
        throw new DbusWireError(`cannot write type ${type}`);
    }
  }

  /** Everything written, all messages. */
  toBuffer(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }
}

/** Reads values from a message body (or header) in either byte order. */
export class DbusReader {
  readonly #buf: Buffer;
  readonly #le: boolean;
  #pos: number;
  readonly #end: number;

  constructor(buf: Buffer, littleEndian: boolean, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#le = littleEndian;
    this.#pos = start;
    this.#end = end;
  }

  get position(): number {
    return this.#pos;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#end) throw new DbusWireError('message ends early');
  }

  align(n: number): void {
    this.#pos += (n - (this.#pos % n)) % n;
    if (this.#pos > this.#end) throw new DbusWireError('message ends early');
  }

  /** The elements of an array end where its length says. */
  #endArray(end: number): void {
    if (this.#pos !== end) throw new DbusWireError('array elements overrun its length');
  }

  #u8(): number {
    this.#need(1);
    return this.#buf.readUInt8(this.#pos++);
  }

  #u32(): number {
    this.align(4);
    this.#need(4);
    const v = this.#le ? this.#buf.readUInt32LE(this.#pos) : this.#buf.readUInt32BE(this.#pos);
    this.#pos += 4;
    return v;
  }

  #text(length: number, encoding: BufferEncoding): string {
    const at = this.#pos;
    this.#skipText(length);
    return this.#buf.toString(encoding, at, at + length);
  }

  /** Past a string of `length` bytes and its NUL, unread. */
  #skipText(length: number): void {
    this.#need(length + 1);
    if (this.#buf[this.#pos + length] !== 0) throw new DbusWireError('string without its NUL');
    this.#pos += length + 1;
  }

  /**
   * A message header's `a(yv)` fields, walked by hand for what replies are
   * matched and read by: the strings of the others are checked (bounds,
   * NUL) and skipped, not decoded. A field of another type is read as
   * `read` would. Each of the three fields is taken whatever its type, as
   * reading `a(yv)` whole did. This runs for every reply of a cold process,
   * where the general reader's calls cost most of the decoding.
   */
  headerSummary(): HeaderSummary {
    const summary: HeaderSummary = { signature: '' };
    const length = this.#u32();
    this.align(8);
    const end = this.#pos + length;
    if (end > this.#end) throw new DbusWireError('array runs past the message');
    const b = this.#buf;
    while (this.#pos < end) {
      this.align(8);
      this.#need(4);
      const at = this.#pos;
      const code = b[at] as number;
      // A one-character signature ("s", "o", "g", "u"), else the general path.
      const type =
        b[at + 1] === 1 && b[at + 3] === 0 ? String.fromCharCode(b[at + 2] as number) : '';
      const wanted =
        code === FIELD.replySerial || code === FIELD.errorName || code === FIELD.signature;
      let value: DbusValue | undefined;
      if (type === 's' || type === 'o') {
        this.#pos = at + 4;
        const size = this.#u32();
        if (wanted) value = this.#text(size, 'utf8');
        else this.#skipText(size);
      } else if (type === 'g') {
        this.#pos = at + 4;
        value = this.#text(this.#u8(), 'ascii');
      } else if (type === 'u') {
        this.#pos = at + 4;
        value = this.#u32();
      } else {
        this.#pos = at + 1;
        value = (this.read('v') as DbusVariant).value;
      }
      if (code === FIELD.replySerial) summary.replySerial = value as number;
      else if (code === FIELD.errorName) summary.errorName = value as string;
      else if (code === FIELD.signature) summary.signature = value as string;
    }
    this.#endArray(end);
    return summary;
  }

  /** Reads one value of `type` (one complete type). */
  read(type: string): DbusValue {
    const c = type[0] as string;
    switch (c) {
      case 'y':
        return this.#u8();
      case 'b':
        return this.#u32() !== 0;
      case 'u':
      case 'h':
        return this.#u32();
      case 'i': {
        this.align(4);
        this.#need(4);
        const v = this.#le ? this.#buf.readInt32LE(this.#pos) : this.#buf.readInt32BE(this.#pos);
        this.#pos += 4;
        return v;
      }
      case 'n':
      case 'q': {
        this.align(2);
        this.#need(2);
        const v = this.#le ? this.#buf.readUInt16LE(this.#pos) : this.#buf.readUInt16BE(this.#pos);
        this.#pos += 2;
        return c === 'n' ? (v << 16) >> 16 : v;
      }
      case 'x':
      case 't':
      case 'd': {
        this.align(8);
        this.#need(8);
        const at = this.#pos;
        this.#pos += 8;
        if (c === 'd') return this.#le ? this.#buf.readDoubleLE(at) : this.#buf.readDoubleBE(at);
        if (c === 'x')
          return this.#le ? this.#buf.readBigInt64LE(at) : this.#buf.readBigInt64BE(at);
        return this.#le ? this.#buf.readBigUInt64LE(at) : this.#buf.readBigUInt64BE(at);
      }
      case 's':
      case 'o':
        return this.#text(this.#u32(), 'utf8');
      case 'g':
        return this.#text(this.#u8(), 'ascii');
      case 'v': {
        const signature = this.read('g') as string;
        if (splitSignature(signature).length !== 1) {
          throw new DbusWireError(`variant signature ${signature} is not one type`);
        }
        return { signature, value: this.read(signature) };
      }
      case 'a': {
        const element = type.slice(1);
        const length = this.#u32();
        this.align(alignmentOf(element));
        const end = this.#pos + length;
        if (end > this.#end) throw new DbusWireError('array runs past the message');
        if (element === 'y') {
          const bytes = Buffer.from(this.#buf.subarray(this.#pos, end));
          this.#pos = end;
          return bytes;
        }
        if (element[0] === '{') {
          const [keyType, valueType] = splitSignature(element.slice(1, -1)) as [string, string];
          const map = new Map<DbusValue, DbusValue>();
          while (this.#pos < end) {
            this.align(8);
            const k = this.read(keyType);
            map.set(k, this.read(valueType));
          }
          this.#endArray(end);
          return map;
        }
        const items: DbusValue[] = [];
        while (this.#pos < end) items.push(this.read(element));
        this.#endArray(end);
        return items;
      }
      case '(': {
        this.align(8);
        return splitSignature(type.slice(1, -1)).map((t) => this.read(t));
      }
      default:
        throw new DbusWireError(`cannot read type ${type}`);
    }
  }
}

/** A method call to send. */
export interface DbusCall {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: DbusValue[];
}

/** A method call as bytes (little-endian), with `serial`. */
export function encodeCall(call: DbusCall, serial: number): Buffer {
  return encodeCalls([call], serial);
}

/**
 * Method calls as bytes (little-endian), back to back for one socket write,
 * numbered from `firstSerial`. Each header is written with a zero body
 * length, filled in once its body is written.
 */
export function encodeCalls(calls: readonly DbusCall[], firstSerial: number): Buffer {
  const w = new DbusWriter();
  for (let index = 0; index < calls.length; index++) {
    const call = calls[index] as DbusCall;
    w.startMessage();
    const fields: HeaderField[] = [
      [FIELD.path, 'o', call.path],
      [FIELD.interface, 's', call.interface],
      [FIELD.member, 's', call.member],
      [FIELD.destination, 's', call.destination],
    ];
    if (call.signature) fields.push([FIELD.signature, 'g', call.signature]);
    w.write('y', LITTLE_ENDIAN);
    w.write('y', MESSAGE_TYPE.call);
    w.write('y', 0);
    w.write('y', 1);
    w.write('u', 0); // the body length, below
    w.write('u', firstSerial + index);
    w.headerFields(fields);
    w.align(8);
    const bodyStart = w.length;
    const types = call.signature ? splitSignature(call.signature) : [];
    for (let i = 0; i < types.length; i++) {
      w.write(types[i] as string, (call.body ?? [])[i] as DbusValue);
    }
    w.setUint32(4, w.length - bodyStart);
  }
  return w.toBuffer();
}

/** A message received: what replies are matched and read by. */
export interface DbusMessage {
  type: number;
  replySerial?: number;
  errorName?: string;
  body: DbusValue[];
}

/**
 * The first complete message in `buf`, and its length; undefined when more
 * bytes are needed.
 */
export function decodeMessage(buf: Buffer): { message: DbusMessage; length: number } | undefined {
  if (buf.length < 16) return undefined;
  const endian = String.fromCharCode(buf[0] as number);
  if (endian !== 'l' && endian !== 'B') throw new DbusWireError('bad byte-order mark');
  const le = endian === 'l';
  if (buf[3] !== 1) throw new DbusWireError(`protocol version ${String(buf[3])}`);
  const bodyLength = le ? buf.readUInt32LE(4) : buf.readUInt32BE(4);
  const fieldsLength = le ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
  const headerEnd = 16 + fieldsLength + ((8 - ((16 + fieldsLength) % 8)) % 8);
  const length = headerEnd + bodyLength;
  if (length > 128 * 1024 * 1024) throw new DbusWireError('message too long');
  if (buf.length < length) return undefined;
  const header = new DbusReader(buf, le, 12, headerEnd);
  const { replySerial, errorName, signature } = header.headerSummary();
  const message: DbusMessage = { type: buf[1] as number, body: [] };
  if (replySerial !== undefined) message.replySerial = replySerial;
  if (errorName !== undefined) message.errorName = errorName;
  const body = new DbusReader(buf, le, headerEnd, length);
  message.body = splitSignature(signature).map((t) => body.read(t));
  return { message, length };
}
