import type { Backend } from './backend.ts';

/** Keeps keys in a Map: for unit tests, and never persisted. */
export class MemoryBackend implements Backend {
  readonly name = 'memory' as const;
  readonly #items = new Map<string, string>();

  constructor(initial?: Record<string, string>) {
    for (const [key, value] of Object.entries(initial ?? {})) this.#items.set(key, value);
  }

  async get(key: string): Promise<string | undefined> {
    return this.#items.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    this.#items.set(key, value);
  }

  async remove(key: string): Promise<void> {
    this.#items.delete(key);
  }

  async keys(): Promise<string[]> {
    return [...this.#items.keys()].sort();
  }
}
