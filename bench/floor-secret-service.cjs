// The least a cached run on the Secret Service must do, whatever aws-vault
// is written like: connect to the session bus over libuv's pipe handle (as
// src/keyring/unixSocket.ts does; node:net would add its own load) and get
// one reply (the answer to SASL authentication; reading items takes two
// more round trips). bench/exec.mjs times it beside `node -e 0` and `exec`.
'use strict';
const path = /(?:^|[,:])path=([^,;]+)/.exec(process.env.DBUS_SESSION_BUS_ADDRESS ?? '')?.[1];
if (path === undefined) throw new Error('DBUS_SESSION_BUS_ADDRESS has no unix:path=');
const { Pipe, PipeConnectWrap, constants } = process.binding('pipe_wrap');
const { WriteWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset } =
  process.binding('stream_wrap');
const handle = new Pipe(constants.SOCKET);
const connecting = new PipeConnectWrap();
connecting.oncomplete = (status) => {
  if (status < 0) process.exit(1);
  handle.onread = (arrayBuffer) => {
    const n = streamBaseState[kReadBytesOrError];
    const reply =
      n > 0
        ? Buffer.from(arrayBuffer, streamBaseState[kArrayBufferOffset], n).toString('latin1')
        : '';
    process.exit(reply.startsWith('OK ') ? 0 : 1);
  };
  handle.readStart();
  const writing = new WriteWrap();
  writing.oncomplete = () => {};
  const uid = Buffer.from(String(process.getuid())).toString('hex');
  if (handle.writeBuffer(writing, Buffer.from(`\0AUTH EXTERNAL ${uid}\r\n`, 'latin1')) < 0) {
    process.exit(1);
  }
};
if (handle.connect(connecting, path) < 0) process.exit(1);
