import { ConfigError } from './errors.ts';

/** What a section header says it is. */
export type SectionKind = 'profile' | 'sso-session' | 'services' | 'other';

/** One `[header]` of the config file and its keys, with line numbers for errors. */
export interface ParsedSection {
  kind: SectionKind;
  /**
   * The header normalised: `KIND NAME` with one space and the name unquoted
   * (`[profile  "team dev"]` -> `profile team dev`), else as written, trimmed.
   */
  header: string;
  /** The name after the kind (`prod`, `default`, the sso-session's or services' name). */
  name: string;
  /** 1-based line of the (first) header. */
  line: number;
  /** Keys (lower-cased) to values; a key that opens a nested block (`s3 =`) has the value ''. */
  values: Record<string, string>;
  /** Line of each key in `values`. */
  lines: Record<string, number>;
  /** Nested blocks: `sts =` followed by indented `endpoint_url = ...` lines. */
  nested: Record<string, Record<string, string>>;
}

export interface ParsedConfig {
  /** Sections in file order; a repeated header is merged into its first occurrence. */
  sections: ParsedSection[];
}

/**
 * Parses the text of an AWS config file the way the AWS CLI reads it, keeping
 * line numbers so that errors can point at `FILE:LINE`:
 * - `[default]`, `[profile NAME]`, `[sso-session NAME]`, `[services NAME]`
 *   (a comment may follow the closing bracket); a NAME with quotes is read
 *   the way the AWS CLI reads it, as a shell word (`[profile "team dev"]` is
 *   profile `team dev`), and one that is not a single shell word (an
 *   unbalanced quote, `"a" "b"`) makes the section no profile, which the
 *   AWS CLI ignores too; a NAME without quotes is taken as written, spaces
 *   included (`[profile team dev]`, as the Go aws-vault reads it);
 * - `key = value` or `key: value`, keys case-insensitive;
 * - full-line comments starting with `#` or `;` (also indented), and inline
 *   comments: ` #` or ` ;` after a value, preceded by whitespace (so
 *   `https://x.awsapps.com/start#/` keeps its `#`); a value in quotes keeps
 *   whatever is inside the quotes, quotes included;
 * - a line indented deeper than its key continues it: under a key with an
 *   empty value (`s3 =`, `sts =`) it is a nested `sub_key = value`;
 *   under a key with a value, an indented `key = value` is an ordinary key
 *   (as the Go aws-vault reads it) and other text is appended to the value
 *   on a new line (as Python's configparser does).
 * Anything else is a malformed line, reported as `FILE:LINE: ...`.
 * A repeated section or key is merged, the later value winning (as the Go
 * aws-vault reads it).
 *
 * Not the `ini` package: it keeps no line numbers, cuts values at any `#` or
 * `;` (breaking SSO start URLs such as `https://x.awsapps.com/start#/`),
 * unquotes values the AWS CLI keeps as written, and has no nested values.
 */
export function parseConfigText(text: string, file: string): ParsedConfig {
  const sections: ParsedSection[] = [];
  const byHeader = new Map<string, ParsedSection>();
  let current: ParsedSection | undefined;
  // The key the next deeper-indented line belongs to.
  let openKey: { name: string; indent: number; nestedBlock: boolean } | undefined;

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const content = raw.trim();
    if (content === '' || content.startsWith('#') || content.startsWith(';')) return;
    const indent = raw.length - raw.trimStart().length;
    // The line itself is never quoted: it could be a pasted secret key.
    const malformed = (why: string): ConfigError =>
      new ConfigError(`malformed line: ${why}`, { file, line: lineNo });

    if (content.startsWith('[')) {
      const close = content.indexOf(']');
      if (close < 0) throw malformed('section header without "]"');
      const after = content.slice(close + 1).trim();
      if (after !== '' && !after.startsWith('#') && !after.startsWith(';')) {
        throw malformed('unexpected text after section header');
      }
      const header = content.slice(1, close).trim();
      if (header === '') throw malformed('empty section header');
      const { kind, name, key } = classify(header);
      let section = byHeader.get(key);
      if (!section) {
        section = {
          kind,
          name,
          header: key,
          line: lineNo,
          values: Object.create(null) as Record<string, string>,
          lines: Object.create(null) as Record<string, number>,
          nested: Object.create(null) as Record<string, Record<string, string>>,
        };
        byHeader.set(key, section);
        sections.push(section);
      }
      current = section;
      openKey = undefined;
      return;
    }

    // Under a key with a value, an indented `key = value` is a key of its own
    // (as the Go aws-vault and the AWS SDKs read it); other text continues the value.
    const continues = openKey?.nestedBlock === true || !content.includes('=');
    if (openKey && current && indent > openKey.indent && continues) {
      if (openKey.nestedBlock) {
        const pair = splitKeyValue(content);
        if (!pair) throw malformed(`expected "key = value" inside "${openKey.name} ="`);
        const block = (current.nested[openKey.name] ??= Object.create(null) as Record<
          string,
          string
        >);
        block[pair.key] = stripInlineComment(pair.value);
      } else {
        current.values[openKey.name] += '\n' + stripInlineComment(content);
      }
      return;
    }

    const pair = splitKeyValue(content);
    if (!pair) throw malformed('expected "[section]" or "key = value"');
    if (!current) throw malformed('key outside of any [section]');
    const value = stripInlineComment(pair.value);
    current.values[pair.key] = value;
    current.lines[pair.key] = lineNo;
    if (value === '') delete current.nested[pair.key];
    openKey = { name: pair.key, indent, nestedBlock: value === '' };
  });
  return { sections };
}

/**
 * What a header names: `default`; `profile NAME`, `sso-session NAME`,
 * `services NAME` (NAME unquoted when it has quotes, see `parseConfigText`);
 * anything else is `other`. `key` identifies the section (repeated headers
 * with the same key are merged).
 */
function classify(header: string): { kind: SectionKind; name: string; key: string } {
  if (header === 'default') return { kind: 'profile', name: 'default', key: header };
  const match = /^(profile|sso-session|services)\s+(.+)$/.exec(header);
  if (!match) return { kind: 'other', name: header, key: header };
  const kind = match[1] as SectionKind;
  let name = (match[2] as string).trim();
  if (/["']/.test(name)) {
    const words = shellWords(name);
    if (words?.length !== 1 || words[0] === '') return { kind: 'other', name: header, key: header };
    name = words[0] as string;
  }
  return { kind, name, key: `${kind} ${name}` };
}

/**
 * Splits `text` into words as a POSIX shell (and Python's `shlex.split`,
 * which the AWS CLI uses on section names) does: whitespace separates words;
 * `'...'` is literal; inside `"..."` a backslash escapes only `"` and `\`;
 * outside quotes a backslash escapes any character. Undefined for an
 * unbalanced quote or a trailing backslash.
 */
export function shellWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return undefined;
      word = (word ?? '') + text.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      word ??= '';
      for (i++; ; i++) {
        if (i >= text.length) return undefined;
        const d = text[i] as string;
        if (d === '"') break;
        if (d === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
        else word += d;
      }
    } else if (c === '\\') {
      if (i + 1 >= text.length) return undefined;
      word = (word ?? '') + text[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Splits at the first `=` or `:` (as configparser does); undefined without a key. */
function splitKeyValue(content: string): { key: string; value: string } | undefined {
  const at = content.search(/[=:]/);
  if (at <= 0) return undefined;
  const key = content.slice(0, at).trim().toLowerCase();
  if (key === '') return undefined;
  return { key, value: content.slice(at + 1).trim() };
}

/** Drops a ` #...` or ` ;...` comment; keeps a quoted value's inside intact. */
function stripInlineComment(value: string): string {
  const quote = value[0];
  if ((quote === '"' || quote === "'") && value.length > 1) {
    const close = value.indexOf(quote, 1);
    if (close > 0) return value.slice(0, close + 1) + stripInlineComment(value.slice(close + 1));
  }
  const match = /(^|\s)[#;]/.exec(value);
  return (match ? value.slice(0, match.index) : value).trimEnd();
}
