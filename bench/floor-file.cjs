// The least a cached run on the file store must do, whatever aws-vault is
// written like: load node:crypto and open one file of the Go aws-vault's
// format (PBKDF2-SHA256 with its 8192 rounds, an AES key unwrap, AES-GCM).
// bench/exec.mjs times it beside `node -e 0` and `exec`.
'use strict';
const { createDecipheriv, pbkdf2Sync } = require('node:crypto');
const kek = pbkdf2Sync('bench passphrase', Buffer.alloc(27, 1), 8192, 16, 'sha256');
// 32 bytes of 2s wrapped with that key (so the unwrap's integrity check passes).
const wrapped = Buffer.from(
  'edbcdaceaa7f5416700bcba4154edc84f3ee475e8db7edd4a3b33d0ba98e6c54f6c003205ae3382c',
  'hex',
);
const unwrap = createDecipheriv('id-aes128-wrap', kek, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
const cek = Buffer.concat([unwrap.update(wrapped), unwrap.final()]);
const gcm = createDecipheriv('aes-256-gcm', cek, Buffer.alloc(12, 3));
gcm.update(Buffer.alloc(1200, 4));
process.exit(0);
