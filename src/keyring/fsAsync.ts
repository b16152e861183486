// Promise forms of the few callback `node:fs` calls the stores make. Not
// `node:fs/promises`: loading it also loads the stream and readline modules
// (about 25 of Node's internal modules), a cost every cached `exec` would pay.
import * as fs from 'node:fs';

type Callback<T> = (error: NodeJS.ErrnoException | null, value: T) => void;

function call<T>(start: (done: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((error, value) => (error ? reject(error) : resolve(value)));
  });
}

export const readText = (path: string): Promise<string> =>
  call((done) => fs.readFile(path, 'utf8', done));
export const readDirEntries = (path: string): Promise<fs.Dirent[]> =>
  call((done) => fs.readdir(path, { withFileTypes: true }, done));
export const readDirNames = (path: string): Promise<string[]> =>
  call((done) => fs.readdir(path, done));
export const stat = (path: string): Promise<fs.Stats> => call((done) => fs.stat(path, done));
export const lstat = (path: string): Promise<fs.Stats> => call((done) => fs.lstat(path, done));
export const access = (path: string): Promise<void> =>
  call<void>((done) => fs.access(path, (error) => done(error, undefined)));
export const unlink = (path: string): Promise<void> =>
  call<void>((done) => fs.unlink(path, (error) => done(error, undefined)));
export const rename = (from: string, to: string): Promise<void> =>
  call<void>((done) => fs.rename(from, to, (error) => done(error, undefined)));
export const chmod = (path: string, mode: number): Promise<void> =>
  call<void>((done) => fs.chmod(path, mode, (error) => done(error, undefined)));
export const mkdir = (path: string, mode: number): Promise<void> =>
  call<void>((done) =>
    fs.mkdir(path, { recursive: true, mode }, (error) => done(error, undefined)),
  );
export const open = (path: string, flags: number, mode?: number): Promise<number> =>
  call((done) => fs.open(path, flags, mode, done));
export const close = (fd: number): Promise<void> =>
  call<void>((done) => fs.close(fd, (error) => done(error, undefined)));
export const fsync = (fd: number): Promise<void> =>
  call<void>((done) => fs.fsync(fd, (error) => done(error, undefined)));
/** Writes all of `data` at the file's current position. */
export const writeAll = (fd: number, data: string): Promise<void> =>
  call<void>((done) => fs.writeFile(fd, data, 'utf8', (error) => done(error, undefined)));
export const { constants } = fs;
