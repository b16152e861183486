// Promise forms of the few callback `node:fs` calls the stores make. Not
// `node:fs/promises`: loading it also loads the stream and readline modules
// (about 25 of Node's internal modules), a cost every cached `exec` would pay.
// Named imports: `import * as` would copy all of node:fs into a namespace
// object in the CommonJS fast bundle, on every run.
import {
  access as fsAccess,
  chmod as fsChmod,
  close as fsClose,
  constants as fsConstants,
  fsync as fsFsync,
  mkdir as fsMkdir,
  open as fsOpen,
  readFile,
  rename as fsRename,
  unlink as fsUnlink,
  writeFile,
} from 'node:fs';

type Callback<T> = (error: NodeJS.ErrnoException | null, value: T) => void;

function call<T>(start: (done: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((error, value) => (error ? reject(error) : resolve(value)));
  });
}

export const readText = (path: string): Promise<string> =>
  call((done) => readFile(path, 'utf8', done));
export const access = (path: string): Promise<void> =>
  call<void>((done) => fsAccess(path, (error) => done(error, undefined)));
export const unlink = (path: string): Promise<void> =>
  call<void>((done) => fsUnlink(path, (error) => done(error, undefined)));
export const rename = (from: string, to: string): Promise<void> =>
  call<void>((done) => fsRename(from, to, (error) => done(error, undefined)));
export const chmod = (path: string, mode: number): Promise<void> =>
  call<void>((done) => fsChmod(path, mode, (error) => done(error, undefined)));
export const mkdir = (path: string, mode: number): Promise<void> =>
  call<void>((done) => fsMkdir(path, { recursive: true, mode }, (error) => done(error, undefined)));
export const open = (path: string, flags: number, mode?: number): Promise<number> =>
  call((done) => fsOpen(path, flags, mode, done));
export const close = (fd: number): Promise<void> =>
  call<void>((done) => fsClose(fd, (error) => done(error, undefined)));
export const fsync = (fd: number): Promise<void> =>
  call<void>((done) => fsFsync(fd, (error) => done(error, undefined)));
/** Writes all of `data` at the file's current position. */
export const writeAll = (fd: number, data: string): Promise<void> =>
  call<void>((done) => writeFile(fd, data, 'utf8', (error) => done(error, undefined)));
export const constants = fsConstants;
