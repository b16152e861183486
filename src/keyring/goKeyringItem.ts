import type { SetOptions } from './backend.ts';

/**
 * The JSON of a 99designs/keyring `Item`: what the Go aws-vault keeps in
 * each file of its file backend and each entry of its pass backend.
 */
export interface GoKeyringItem {
  Key: string;
  /** base64 of the value (Go's []byte). */
  Data: string;
  Label: string;
  Description: string;
  KeychainNotTrustApplication: boolean;
  KeychainNotSynchronizable: boolean;
}

/** The item the Go aws-vault writes for `key` holding `value`. */
export function toGoKeyringItem(key: string, value: string, options?: SetOptions): GoKeyringItem {
  return {
    Key: key,
    Data: Buffer.from(value, 'utf8').toString('base64'),
    Label: options?.label ?? `aws-vault (${key})`,
    Description: options?.description ?? '',
    KeychainNotTrustApplication: true,
    KeychainNotSynchronizable: false,
  };
}

/** Whether parsed JSON is a keyring item (it has its base64 `Data`). */
export function isGoKeyringItem(item: unknown): item is GoKeyringItem {
  return (
    typeof item === 'object' && item !== null && typeof (item as GoKeyringItem).Data === 'string'
  );
}

/** The value an item holds. */
export function goKeyringValue(item: GoKeyringItem): string {
  return Buffer.from(item.Data, 'base64').toString('utf8');
}
