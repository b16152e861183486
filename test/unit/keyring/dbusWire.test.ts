// The D-Bus wire format against the specification's "Message Protocol"
// (https://dbus.freedesktop.org/doc/dbus-specification.html): marshalling
// and alignment of every type the reader needs, the message header, both
// byte orders, and malformed input.
import { describe, expect, it } from 'vitest';
import {
  DbusReader,
  DbusWireError,
  DbusWriter,
  MESSAGE_TYPE,
  decodeMessage,
  encodeCall,
  encodeCalls,
  splitSignature,
  type DbusCall,
  type DbusValue,
} from '../../../src/keyring/dbusWire.ts';

/** Bytes from hex, spaces and `|` allowed for readability. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/[\s|]/g, ''), 'hex');
}

/** Writes `[type, value]` pairs in order; returns the bytes. */
function written(...pairs: [string, DbusValue][]): Buffer {
  const w = new DbusWriter();
  for (const [type, value] of pairs) w.write(type, value);
  return w.toBuffer();
}

/** Writes the pairs, reads them back with their types; checks all bytes were read. */
function roundTrip(...pairs: [string, DbusValue][]): DbusValue[] {
  const buf = written(...pairs);
  const r = new DbusReader(buf, true);
  const values = pairs.map(([type]) => r.read(type));
  expect(r.position).toBe(buf.length);
  return values;
}

describe('DbusWriter and DbusReader', () => {
  it('lays out a byte then a string exactly as the specification says', () => {
    // y at 0, padding to 4, the u32 length 2, "ab", the NUL.
    expect(written(['y', 1], ['s', 'ab'])).toEqual(hex('01 000000 | 02000000 | 6162 00'));
  });

  it('lays out a{sv}: the array length excludes the padding before the first entry', () => {
    const buf = written(['a{sv}', new Map([['k', { signature: 'u', value: 5 }]])]);
    expect(buf).toEqual(
      hex(
        // length 16 | pad to 8 | "k" | g "u" | pad to 4 | 5
        '10000000 | 00000000 | 01000000 6b00 | 01 75 00 | 000000 | 05000000',
      ),
    );
  });

  it('pads an empty array of 8-aligned elements to its element boundary', () => {
    // Length 0, then the padding to 8 is still there; the next byte follows it.
    const buf = written(['a(s)', []], ['y', 7]);
    expect(buf).toEqual(hex('00000000 | 00000000 | 07'));
    expect(roundTrip(['a(s)', []], ['y', 7])).toEqual([[], 7]);
  });

  it('round-trips every basic type the writer supports', () => {
    const pairs: [string, DbusValue][] = [
      ['y', 0],
      ['y', 255],
      ['b', true],
      ['b', false],
      ['u', 0],
      ['u', 0xffffffff],
      ['s', ''],
      ['s', 'plain'],
      ['s', 'ünïcødé ☃ 🔑'],
      ['o', '/org/freedesktop/secrets/collection/login/1'],
      ['g', ''],
      ['g', 'a{o(oayays)}'],
    ];
    expect(roundTrip(...pairs)).toEqual(pairs.map(([, v]) => v));
  });

  it('round-trips variants of several types, nested ones included', () => {
    const variants: DbusValue[] = [
      { signature: 'y', value: 9 },
      { signature: 's', value: 'text' },
      { signature: 'o', value: '/a/b' },
      { signature: 'b', value: true },
      { signature: 'as', value: ['x', 'yy'] },
      { signature: 'a{ss}', value: new Map([['k', 'v']]) },
      { signature: '(us)', value: [3, 'three'] },
      { signature: 'v', value: { signature: 'u', value: 42 } },
    ];
    const pairs = variants.flatMap((v): [string, DbusValue][] => [
      ['y', 1], // an odd offset before each variant
      ['v', v],
    ]);
    expect(roundTrip(...pairs)).toEqual(pairs.map(([, v]) => v));
  });

  it('round-trips arrays: ay, as, ao, empty ones, arrays of arrays', () => {
    const pairs: [string, DbusValue][] = [
      ['ay', Buffer.from([0, 1, 2, 255])],
      ['ay', Buffer.alloc(0)],
      ['as', ['one', 'two', '', 'ü']],
      ['as', []],
      ['ao', ['/a', '/a/b/c']],
      ['ao', []],
      ['aas', [['a'], [], ['b', 'c']]],
      ['au', [1, 2, 3]],
    ];
    const values = roundTrip(...pairs);
    expect(values).toEqual(pairs.map(([, v]) => v));
    expect(Buffer.isBuffer(values[0])).toBe(true);
  });

  it('round-trips dictionaries: a{ss}, a{sv}, a{o(oayays)} (GetSecrets), empty ones', () => {
    const secrets = new Map<DbusValue, DbusValue>([
      [
        '/org/freedesktop/secrets/collection/login/1',
        [
          '/org/freedesktop/secrets/session/1',
          Buffer.alloc(0),
          Buffer.from('s3cr3t'),
          'text/plain',
        ],
      ],
      [
        '/org/freedesktop/secrets/collection/login/2',
        ['/org/freedesktop/secrets/session/1', Buffer.from([1]), Buffer.from('ü☃'), ''],
      ],
    ]);
    const pairs: [string, DbusValue][] = [
      [
        'a{ss}',
        new Map([
          ['service', 'aws-vault'],
          ['username', 'dev'],
        ]),
      ],
      ['a{ss}', new Map()],
      [
        'a{sv}',
        new Map<DbusValue, DbusValue>([
          ['Label', { signature: 's', value: 'x' }],
          ['Locked', { signature: 'b', value: false }],
          ['Attributes', { signature: 'a{ss}', value: new Map([['a', 'b']]) }],
        ]),
      ],
      ['a{o(oayays)}', secrets],
      ['a{o(oayays)}', new Map()],
    ];
    expect(roundTrip(...pairs)).toEqual(pairs.map(([, v]) => v));
  });

  it('round-trips structs: (yv), structs inside arrays, structs inside structs', () => {
    const pairs: [string, DbusValue][] = [
      ['(yv)', [8, { signature: 'g', value: 'ss' }]],
      ['y', 3],
      [
        'a(yv)',
        [
          [1, { signature: 'o', value: '/p' }],
          [5, { signature: 'u', value: 7 }],
        ],
      ],
      ['(s(ub)as)', ['outer', [2, true], ['a', 'b']]],
      [
        'a(ss)',
        [
          ['a', 'b'],
          ['', 'c'],
        ],
      ],
    ];
    expect(roundTrip(...pairs)).toEqual(pairs.map(([, v]) => v));
  });

  it('keeps alignment after odd-sized items', () => {
    // Each container follows a lone byte, a string of odd length, or a signature.
    const cases: [string, DbusValue][][] = [
      [
        ['y', 1],
        ['as', ['a', 'bcd']],
      ],
      [
        ['y', 1],
        ['u', 2],
      ],
      [
        ['y', 1],
        ['b', true],
      ],
      [
        ['y', 1],
        ['(yv)', [2, { signature: 's', value: 'z' }]],
      ],
      [
        ['s', 'odd'],
        ['a{sv}', new Map([['k', { signature: 'u', value: 1 }]])],
      ],
      [
        ['g', 'ss'],
        ['ao', ['/x']],
      ],
      [
        ['y', 1],
        ['ay', Buffer.from('xyz')],
        ['y', 2],
        ['a(yv)', [[3, { signature: 'y', value: 4 }]]],
      ],
    ];
    for (const pairs of cases) expect(roundTrip(...pairs)).toEqual(pairs.map(([, v]) => v));
  });
});

describe('DbusWriter: the other fixed-size types', () => {
  it('round-trips i n q x t d h, each after a lone byte (alignment)', () => {
    const values: [string, DbusValue][] = [
      ['i', -123456],
      ['n', -1234],
      ['q', 65535],
      ['x', -(2n ** 62n)],
      ['t', 2n ** 64n - 1n],
      ['d', 3.25],
      ['h', 7],
    ];
    for (const pair of values) {
      const [, value] = roundTrip(['y', 1], pair);
      expect(value).toEqual(pair[1]);
    }
    expect(written(['y', 1], ['x', 1n])).toEqual(hex('01 000000 00000000 | 01000000 00000000'));
  });
});

describe('DbusReader: the types only read, in both byte orders', () => {
  // The writer writes only what method calls need (y b u s o g v, arrays,
  // structs); replies can hold any type, so these are hand-built.
  const cases: { type: string; le: string; be: string; value: DbusValue }[] = [
    { type: 'i', le: 'feffffff', be: 'fffffffe', value: -2 },
    { type: 'i', le: 'ffffff7f', be: '7fffffff', value: 0x7fffffff },
    { type: 'u', le: '04030201', be: '01020304', value: 0x01020304 },
    { type: 'h', le: '03000000', be: '00000003', value: 3 },
    { type: 'n', le: 'fdff', be: 'fffd', value: -3 },
    { type: 'q', le: 'fdff', be: 'fffd', value: 0xfffd },
    { type: 'x', le: 'feffffffffffffff', be: 'fffffffffffffffe', value: -2n },
    { type: 't', le: 'feffffffffffffff', be: 'fffffffffffffffe', value: 0xfffffffffffffffen },
    { type: 'd', le: '000000000000f83f', be: '3ff8000000000000', value: 1.5 },
    { type: 'b', le: '01000000', be: '00000001', value: true },
    { type: 's', le: '02000000 6869 00', be: '00000002 6869 00', value: 'hi' },
    { type: 'as', le: '06000000 01000000 6100', be: '00000006 00000001 6100', value: ['a'] },
  ];

  it.each(cases)('reads $type after a byte, padded to its alignment', ({ type, le, be, value }) => {
    const align = { i: 4, u: 4, h: 4, n: 2, q: 2, x: 8, t: 8, d: 8, b: 4, s: 4, as: 4 }[type] ?? 1;
    const pad = '00'.repeat(align - 1);
    for (const [bytes, littleEndian] of [
      [le, true],
      [be, false],
    ] as const) {
      const buf = hex(`07 ${pad} ${bytes}`);
      const r = new DbusReader(buf, littleEndian);
      expect(r.read('y')).toBe(7);
      expect(r.read(type)).toEqual(value);
      expect(r.position).toBe(buf.length);
    }
  });

  it('reads a big-endian a{sv} with a uint32 variant', () => {
    const buf = hex('00000010 | 00000000 | 00000001 6b00 | 01 75 00 | 000000 | 01020304');
    expect(new DbusReader(buf, false).read('a{sv}')).toEqual(
      new Map([['k', { signature: 'u', value: 0x01020304 }]]),
    );
  });

  it('reads from a start offset, aligning relative to the buffer start', () => {
    const buf = hex('ff | 000000 | 05000000');
    expect(new DbusReader(buf, true, 1).read('u')).toBe(5);
  });
});

describe('splitSignature', () => {
  it('splits a signature into its complete types', () => {
    expect(splitSignature('')).toEqual([]);
    expect(splitSignature('s')).toEqual(['s']);
    expect(splitSignature('sv')).toEqual(['s', 'v']);
    expect(splitSignature('aoo')).toEqual(['ao', 'o']);
    expect(splitSignature('a{sv}as(ii)y')).toEqual(['a{sv}', 'as', '(ii)', 'y']);
    expect(splitSignature('a{o(oayays)}')).toEqual(['a{o(oayays)}']);
    expect(splitSignature('aa{sa(yv)}(a(s)v)t')).toEqual(['aa{sa(yv)}', '(a(s)v)', 't']);
    expect(splitSignature('ybnqiuxtdhsogv')).toEqual('ybnqiuxtdhsogv'.split(''));
  });

  it.each([
    'a',
    'aa',
    '(s',
    '((s)',
    'a{s',
    'a{sv',
    'z',
    's)',
    '(s}',
    'sz',
    // Dict entries: only inside an array, a basic key, exactly two types.
    '{ss}',
    'a{s}',
    'a{}',
    'a{sss}',
    'a{(s)s}',
    'a{vs}',
    // A struct has at least one field.
    '()',
  ])('rejects %j with a DbusWireError', (signature) => {
    expect(() => splitSignature(signature)).toThrow(DbusWireError);
  });
});

describe('encodeCall and decodeMessage', () => {
  const call: DbusCall = {
    destination: 'org.freedesktop.secrets',
    path: '/org/freedesktop/secrets',
    interface: 'org.freedesktop.Secret.Service',
    member: 'GetSecrets',
    signature: 'aoo',
    body: [['/org/freedesktop/secrets/collection/login/1', '/c/2'], '/s/1'],
  };

  it('encodes a little-endian method call with the fixed header, the fields and the body', () => {
    const buf = encodeCall(call, 0x1234);
    expect(buf.subarray(0, 4)).toEqual(hex('6c 01 00 01')); // 'l', method call, no flags, v1
    expect(buf.readUInt32LE(8)).toBe(0x1234);
    const fieldsLength = buf.readUInt32LE(12);
    const bodyStart = 16 + fieldsLength + ((8 - (fieldsLength % 8)) % 8);
    expect(bodyStart % 8).toBe(0);
    expect(buf.readUInt32LE(4)).toBe(buf.length - bodyStart);
    const fields = new DbusReader(buf, true, 12, bodyStart).read('a(yv)') as [number, DbusValue][];
    expect(new Map(fields)).toEqual(
      new Map([
        [1, { signature: 'o', value: call.path }],
        [2, { signature: 's', value: call.interface }],
        [3, { signature: 's', value: call.member }],
        [6, { signature: 's', value: call.destination }],
        [8, { signature: 'g', value: 'aoo' }],
      ]),
    );
    const body = new DbusReader(buf, true, bodyStart);
    expect([body.read('ao'), body.read('o')]).toEqual(call.body);
    expect(body.position).toBe(buf.length);
  });

  it('round-trips a call through decodeMessage', () => {
    const buf = encodeCall(call, 1);
    expect(decodeMessage(buf)).toEqual({
      message: { type: MESSAGE_TYPE.call, body: call.body },
      length: buf.length,
    });
  });

  it('round-trips a call with a richer body, and one without a body', () => {
    const rich: DbusCall = {
      ...call,
      member: 'Mixed',
      signature: 'ysa{sv}ayb',
      body: [
        3,
        'ü',
        new Map([['k', { signature: 'as', value: ['a'] }]]),
        Buffer.from([0, 1, 2]),
        true,
      ],
    };
    expect(decodeMessage(encodeCall(rich, 2))?.message.body).toEqual(rich.body);
    const hello: DbusCall = {
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'Hello',
    };
    const buf = encodeCall(hello, 3);
    expect(buf.readUInt32LE(4)).toBe(0);
    expect(decodeMessage(buf)).toEqual({
      message: { type: MESSAGE_TYPE.call, body: [] },
      length: buf.length,
    });
  });

  it('encodes calls back to back, each padded from its own start (a first body of odd length)', () => {
    const odd: DbusCall = { ...call, member: 'Odd', signature: 's', body: ['ab'] };
    const next: DbusCall = { ...call, member: 'Next', signature: 'ay', body: [Buffer.from([7])] };
    const both = encodeCalls([odd, next, call], 40);
    const one = encodeCall(odd, 40);
    expect(one.length % 8).not.toBe(0);
    expect(both).toEqual(Buffer.concat([one, encodeCall(next, 41), encodeCall(call, 42)]));
    let rest = both;
    const members: DbusValue[][] = [];
    for (;;) {
      const decoded = decodeMessage(rest);
      if (decoded === undefined) break;
      members.push(decoded.message.body);
      rest = rest.subarray(decoded.length);
    }
    expect(rest.length).toBe(0);
    expect(members).toEqual([odd.body, next.body, call.body]);
  });

  it('needs more bytes for every truncated prefix of a message', () => {
    const buf = encodeCall(call, 1);
    for (let n = 0; n < buf.length; n++) {
      expect(decodeMessage(buf.subarray(0, n)), `prefix of ${n} bytes`).toBeUndefined();
    }
  });

  it('decodes the first message and says its length when more bytes follow', () => {
    const first = encodeCall(call, 1);
    const second = encodeCall({ ...call, body: [[], '/s/2'] }, 2);
    const both = Buffer.concat([first, second]);
    const a = decodeMessage(both);
    expect(a?.length).toBe(first.length);
    expect(a?.message.body).toEqual(call.body);
    const b = decodeMessage(both.subarray(a?.length));
    expect(b).toEqual({
      message: { type: MESSAGE_TYPE.call, body: [[], '/s/2'] },
      length: second.length,
    });
    expect(decodeMessage(Buffer.concat([first, hex('6c 02')]))?.length).toBe(first.length);
  });

  it('decodes a big-endian error reply built by hand', () => {
    const buf = hex(
      [
        '42 03 00 01', // 'B', error, no flags, version 1
        '0000000c', // body length 12
        '00000007', // serial 7
        '00000020', // header fields: 32 bytes
        '05 01 75 00 | 0000002a', // REPLY_SERIAL: variant u 42
        '04 01 73 00 | 00000007 6f72672e782e45 00', // ERROR_NAME: variant s "org.x.E"
        '08 01 67 00 | 02 7573 00', // SIGNATURE: variant g "us"
        // body at 48, already 8-aligned
        '01020304', // u
        '00000003 68c3a9 00', // s "hé"
      ].join(''),
    );
    expect(buf.length).toBe(60);
    expect(decodeMessage(buf)).toEqual({
      message: {
        type: MESSAGE_TYPE.error,
        replySerial: 42,
        errorName: 'org.x.E',
        body: [0x01020304, 'hé'],
      },
      length: 60,
    });
    expect(decodeMessage(buf.subarray(0, 59))).toBeUndefined();
  });

  // A reply's header as a bus daemon may send it: a SENDER string and a
  // UNIX_FDS count the reader skips, and a field of a code and type it does
  // not know, read the long way; only REPLY_SERIAL and SIGNATURE matter.
  const richHeader = () =>
    hex(
      [
        '6c 02 00 01', // 'l', method return, no flags, version 1
        '04000000', // body length 4
        '05000000', // serial 5
        '3f000000', // header fields: 63 bytes
        '07 01 73 00 | 05000000 3a312e3432 00 | 0000', // SENDER: s ":1.42", padding to 32
        '09 01 75 00 | 01000000', // UNIX_FDS: u 1
        '2a 02 6173 00 | 000000', // field 42: variant g "as", padding to 48
        '06000000 | 01000000 78 00 | 000000000000', // as ["x"], padding to 64
        '05 01 75 00 | 07000000', // REPLY_SERIAL: u 7
        '08 01 67 00 | 01 75 00 | 00', // SIGNATURE: g "u", padding to 80
        '2a000000', // body: u 42
      ].join(''),
    );

  it('reads the fields replies are matched by among others it skips or reads the long way', () => {
    const buf = richHeader();
    expect(buf.length).toBe(84);
    expect(decodeMessage(buf)).toEqual({
      message: { type: MESSAGE_TYPE.return, replySerial: 7, body: [42] },
      length: 84,
    });
  });

  it('still checks the strings it skips: their NUL, and their length', () => {
    const noNul = richHeader();
    expect(noNul[29]).toBe(0); // the NUL after ":1.42"
    noNul[29] = 0x21;
    expect(() => decodeMessage(noNul)).toThrow(/without its NUL/);
    const tooLong = richHeader();
    tooLong.writeUInt32LE(100, 20); // SENDER's length, past the header
    expect(() => decodeMessage(tooLong)).toThrow(DbusWireError);
  });

  it('decodes a little-endian method return with header padding before the body', () => {
    const buf = hex(
      [
        '6c 02 00 01', // 'l', method return, no flags, version 1
        '08000000', // body length 8
        '09000000', // serial 9
        '0f000000', // header fields: 15 bytes
        '05 01 75 00 | 03000000', // REPLY_SERIAL: variant u 3
        '08 01 67 00 | 01 6f 00', // SIGNATURE: variant g "o"
        '00', // padding to 32
        '03000000 2f 61 62 00', // o "/ab"
      ].join(''),
    );
    expect(buf.length).toBe(40);
    expect(decodeMessage(buf)).toEqual({
      message: { type: MESSAGE_TYPE.return, replySerial: 3, body: ['/ab'] },
      length: 40,
    });
  });
});

describe('malformed input throws DbusWireError', () => {
  const call: DbusCall = {
    destination: 'd.e',
    path: '/p',
    interface: 'i.f',
    member: 'M',
    signature: 'ays',
    body: [Buffer.from('abc'), 'xyz'],
  };

  it('a bad byte-order mark', () => {
    const buf = encodeCall(call, 1);
    buf[0] = 'X'.charCodeAt(0);
    expect(() => decodeMessage(buf)).toThrow(DbusWireError);
    expect(() => decodeMessage(buf)).toThrow(/byte-order/);
  });

  it('a string without its NUL terminator', () => {
    expect(() => new DbusReader(hex('02000000 6162 63'), true).read('s')).toThrow(DbusWireError);
    const buf = encodeCall(call, 1);
    expect(buf[buf.length - 1]).toBe(0);
    buf[buf.length - 1] = 0x21;
    expect(() => decodeMessage(buf)).toThrow(DbusWireError);
  });

  it('a string or signature that runs past the end', () => {
    expect(() => new DbusReader(hex('05000000 6162 00'), true).read('s')).toThrow(DbusWireError);
    expect(() => new DbusReader(hex('05 6162 00'), true).read('g')).toThrow(DbusWireError);
    expect(() => new DbusReader(hex('0100'), true).read('u')).toThrow(DbusWireError);
    expect(() => new DbusReader(hex('01020304 0506'), true).read('t')).toThrow(DbusWireError);
  });

  it('an array length past the end', () => {
    expect(() => new DbusReader(hex('ff000000 01'), true).read('ay')).toThrow(DbusWireError);
    expect(() => new DbusReader(hex('00000010 01'), false).read('ay')).toThrow(DbusWireError);
    // In a message: the body's ay claims 200 bytes of a 16-byte body.
    const buf = encodeCall(call, 1);
    const bodyStart = buf.length - buf.readUInt32LE(4);
    expect(buf.readUInt32LE(bodyStart)).toBe(3);
    buf.writeUInt32LE(200, bodyStart);
    expect(() => decodeMessage(buf)).toThrow(DbusWireError);
  });

  it('a variant whose signature is not exactly one type', () => {
    // g "ss", then two strings: a valid signature, but of two types.
    const twoTypes = hex('02 7373 00 | 01000000 6100 0000 | 01000000 6200');
    expect(() => new DbusReader(twoTypes, true).read('v')).toThrow(DbusWireError);
    expect(() => new DbusReader(hex('00 00'), true).read('v')).toThrow(DbusWireError);
    expect(() => new DbusReader(hex('01 7a 00 00'), true).read('v')).toThrow(DbusWireError);
  });

  it('a header field whose variant has an unknown type', () => {
    const buf = encodeCall({ ...call, signature: 's', body: ['x'] }, 1);
    // The first field is PATH, variant "o": make its signature "z".
    expect(buf.subarray(16, 20)).toEqual(hex('01 01 6f 00'));
    buf[18] = 'z'.charCodeAt(0);
    expect(() => decodeMessage(buf)).toThrow(DbusWireError);
  });

  it('array elements that overrun the array length', () => {
    // `as` of length 2 holding a 5-byte string.
    expect(() => new DbusReader(hex('02000000 | 05000000 6162636465 00'), true).read('as')).toThrow(
      /overrun/,
    );
  });

  it('a protocol version other than 1', () => {
    const buf = encodeCall(call, 1);
    buf[3] = 2;
    expect(() => decodeMessage(buf)).toThrow(/protocol version/);
  });

  it('a message longer than the specification allows', () => {
    const buf = encodeCall(call, 1);
    buf.writeUInt32LE(0x10000000, 4); // 256 MiB body
    expect(() => decodeMessage(buf)).toThrow(DbusWireError);
  });
});
