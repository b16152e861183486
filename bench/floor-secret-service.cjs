// The least a cached run on the Secret Service must do, whatever aws-vault
// is written like: load node:net, connect to the session bus and get one
// reply (the answer to SASL authentication; reading items takes two more
// round trips). bench/exec.mjs times it beside `node -e 0` and `exec`.
'use strict';
const net = require('node:net');
const path = /(?:^|[,:])path=([^,;]+)/.exec(process.env.DBUS_SESSION_BUS_ADDRESS ?? '')?.[1];
if (path === undefined) throw new Error('DBUS_SESSION_BUS_ADDRESS has no unix:path=');
const socket = net.connect(path);
const uid = Buffer.from(String(process.getuid())).toString('hex');
socket.write(`\0AUTH EXTERNAL ${uid}\r\n`);
socket.once('data', (reply) => process.exit(reply.toString('latin1').startsWith('OK ') ? 0 : 1));
