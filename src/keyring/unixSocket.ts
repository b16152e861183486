// A client connection to a unix socket, for the Secret Service reader
// (secretServiceReader.ts), without node:net when it can be helped.
//
// Loading node:net and making its first Socket cost a cached `exec` on the
// Secret Service about 2.5 ms (node:net loads node:stream, and the first
// Socket compiles the stream machinery), a tenth of the whole run. The
// socket underneath is libuv's pipe handle, the one node:net itself uses:
// when Node lets us have it (process.binding's 'pipe_wrap' and
// 'stream_wrap', without a warning, with the shape Node 22 to 24 give it),
// the reader talks to it directly; otherwise, and on any surprise, it uses
// node:net. Both give the same events: data, then one error or one close.
import type { Socket } from 'node:net';

/** What a connection reports: bytes as they arrive, then an error or the end. */
export interface SocketHandlers {
  data(chunk: Buffer): void;
  error(error: Error): void;
  close(): void;
}

/** A connected (or connecting) client socket; writes made before it connects wait for it. */
export interface UnixSocket {
  write(data: Buffer): void;
  /** Lets the process exit while this socket is open. */
  unref(): void;
  /** Closes it; no handler runs after this. */
  destroy(): void;
  /** Which transport this is: `pipe` (libuv's handle) or `net` (node:net). */
  readonly kind: 'pipe' | 'net';
}

/** Whether connections use node:net even where the pipe handle is there (tests). */
let forceNet = false;

/** Makes later connections use node:net (`true`) or the pipe handle where possible. */
export function useNodeNet(value: boolean): void {
  forceNet = value;
}

/** Connects to the unix socket at `path` (a leading NUL: Linux's abstract namespace). */
export function connectUnixSocket(path: string, handlers: SocketHandlers): UnixSocket {
  const bindings = forceNet ? undefined : pipeBindings();
  return bindings === undefined ? netSocket(path, handlers) : pipeSocket(bindings, path, handlers);
}

interface PipeHandle {
  connect(req: object, path: string): number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: object, data: Buffer): number;
  close(callback?: () => void): void;
  unref(): void;
  onread: ((arrayBuffer: ArrayBuffer | undefined) => void) | undefined;
}

interface PipeBindings {
  Pipe: new (type: number) => PipeHandle;
  PipeConnectWrap: new () => { oncomplete?: (status: number) => void };
  WriteWrap: new () => { oncomplete?: (status: number) => void; buffer?: Buffer };
  socketType: number;
  state: Int32Array;
  readBytes: number;
  bufferOffset: number;
  lastWriteAsync: number;
}

let cachedBindings: PipeBindings | null | undefined;

/**
 * The pipe handle's bindings, or undefined when Node does not give them
 * quietly in the shape this file knows. process.binding is deprecated in
 * the documentation only; under --pending-deprecation (or a Node that
 * warns at run time) asking for it warns: node:net is used then, and a
 * warning given while asking is held back, as aws-vault must not print one
 * about itself. Asked once per process.
 */
function pipeBindings(): PipeBindings | undefined {
  if (cachedBindings !== undefined) return cachedBindings ?? undefined;
  cachedBindings = null;
  const binding = (process as { binding?: (name: string) => unknown }).binding;
  // Node wraps it in a deprecation (named `deprecated`) under --pending-deprecation.
  if (typeof binding !== 'function' || binding.name !== 'binding') return undefined;
  const emitWarning = process.emitWarning;
  let warned = false;
  let pipe: Record<string, unknown>;
  let stream: Record<string, unknown>;
  try {
    process.emitWarning = () => {
      warned = true;
    };
    pipe = binding.call(process, 'pipe_wrap') as Record<string, unknown>;
    stream = binding.call(process, 'stream_wrap') as Record<string, unknown>;
  } catch {
    return undefined; // gone, or refused (the permission model)
  } finally {
    process.emitWarning = emitWarning;
  }
  if (warned) return undefined;
  const constants = pipe.constants as Record<string, unknown> | undefined;
  const { Pipe, PipeConnectWrap } = pipe;
  const { WriteWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync } =
    stream;
  const indexes = [kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync];
  if (
    typeof Pipe !== 'function' ||
    typeof PipeConnectWrap !== 'function' ||
    typeof WriteWrap !== 'function' ||
    typeof constants?.SOCKET !== 'number' ||
    !(streamBaseState instanceof Int32Array) ||
    !indexes.every((at) => Number.isInteger(at) && (at as number) < streamBaseState.length)
  ) {
    return undefined;
  }
  const proto = Pipe.prototype as Record<string, unknown>;
  for (const method of ['connect', 'readStart', 'readStop', 'writeBuffer', 'close', 'unref']) {
    if (typeof proto[method] !== 'function') return undefined;
  }
  cachedBindings = {
    Pipe: Pipe as PipeBindings['Pipe'],
    PipeConnectWrap: PipeConnectWrap as PipeBindings['PipeConnectWrap'],
    WriteWrap: WriteWrap as PipeBindings['WriteWrap'],
    socketType: constants.SOCKET,
    state: streamBaseState,
    readBytes: kReadBytesOrError as number,
    bufferOffset: kArrayBufferOffset as number,
    lastWriteAsync: kLastWriteWasAsync as number,
  };
  return cachedBindings;
}

/** libuv's error numbers are negative errnos; its end of file is -4095 everywhere. */
const UV_EOF = -4095;

function pipeSocket(b: PipeBindings, path: string, handlers: SocketHandlers): UnixSocket {
  const handle = new b.Pipe(b.socketType);
  let state: 'connecting' | 'open' | 'done' = 'connecting';
  let queued: Buffer[] = [];
  // Writes in flight: each request and its buffer stay referenced until done.
  const inFlight = new Set<object>();

  const finish = (error?: Error): void => {
    if (state === 'done') return;
    state = 'done';
    queued = [];
    handle.readStop();
    handle.close();
    if (error === undefined) handlers.close();
    else handlers.error(error);
  };
  const failed = (what: string, status: number) =>
    finish(new Error(`${what} ${JSON.stringify(path)} failed (libuv error ${status})`));

  const send = (data: Buffer): void => {
    const req = new b.WriteWrap();
    req.buffer = data;
    req.oncomplete = (status) => {
      inFlight.delete(req);
      if (status < 0) failed('writing to', status);
    };
    const status = handle.writeBuffer(req, data);
    if (status < 0) failed('writing to', status);
    else if (b.state[b.lastWriteAsync] !== 0) inFlight.add(req);
  };

  handle.onread = (arrayBuffer) => {
    const n = b.state[b.readBytes] as number;
    if (n > 0 && arrayBuffer !== undefined) {
      handlers.data(Buffer.from(arrayBuffer, b.state[b.bufferOffset], n));
    } else if (n === UV_EOF) finish();
    else if (n < 0) failed('reading from', n);
  };

  const req = new b.PipeConnectWrap();
  req.oncomplete = (status) => {
    if (state !== 'connecting') return;
    if (status < 0) {
      failed('connecting to', status);
      return;
    }
    state = 'open';
    const started = handle.readStart();
    if (started < 0) {
      failed('reading from', started);
      return;
    }
    for (const data of queued.splice(0)) if (state === 'open') send(data);
  };
  const status = handle.connect(req, path);
  // Reported as an error would be by node:net: after this call returns.
  if (status < 0) queueMicrotask(() => failed('connecting to', status));

  return {
    kind: 'pipe',
    write(data) {
      if (state === 'open') send(data);
      else if (state === 'connecting') queued.push(data);
    },
    unref() {
      handle.unref();
    },
    destroy() {
      if (state === 'done') return;
      state = 'done';
      queued = [];
      handle.readStop();
      handle.close();
    },
  };
}

function netSocket(path: string, handlers: SocketHandlers): UnixSocket {
  const { connect } = process.getBuiltinModule('node:net');
  let done = false;
  // Each read lands in a buffer of its own (decoded messages keep slices of
  // it) and goes straight to the handler, past node:stream's Readable.
  const socket: Socket = connect({
    path,
    onread: {
      buffer: () => Buffer.allocUnsafe(64 * 1024),
      callback: (bytes: number, buffer: Uint8Array) => {
        if (!done) handlers.data(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
        return true; // keep reading
      },
    },
  });
  socket.on('error', (error) => {
    if (done) return;
    done = true;
    handlers.error(error);
  });
  socket.on('close', () => {
    if (done) return;
    done = true;
    handlers.close();
  });
  return {
    kind: 'net',
    write(data) {
      if (!done) socket.write(data);
    },
    unref() {
      socket.unref();
    },
    destroy() {
      done = true;
      socket.destroy();
    },
  };
}
