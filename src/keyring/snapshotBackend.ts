import type { Backend, BackendName, SetOptions } from './backend.ts';

/**
 * Every item of a backend, read at once, answering reads from memory; writes
 * go to the real backend, opened on the first one. The start-up fast path
 * reads the Secret Service this way (secretServiceReader.ts): a cached run
 * reads a few items and writes at most the removal of an expired session.
 */
export class SnapshotBackend implements Backend {
  readonly name: BackendName;
  readonly #items: Map<string, string>;
  readonly #open: () => Promise<Backend>;
  #real: Promise<Backend> | undefined;

  constructor(name: BackendName, items: Map<string, string>, open: () => Promise<Backend>) {
    this.name = name;
    this.#items = items;
    this.#open = open;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#items.get(key);
  }

  async has(key: string): Promise<boolean> {
    return this.#items.has(key);
  }

  async keys(): Promise<string[]> {
    return [...this.#items.keys()].sort();
  }

  async set(key: string, value: string, options?: SetOptions): Promise<void> {
    await (await this.#backend()).set(key, value, options);
    this.#items.set(key, value);
  }

  async remove(key: string): Promise<void> {
    await (await this.#backend()).remove(key);
    this.#items.delete(key);
  }

  #backend(): Promise<Backend> {
    this.#real ??= this.#open();
    return this.#real;
  }
}
