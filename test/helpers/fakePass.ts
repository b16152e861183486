/**
 * A stand-in for the `pass` password manager (not installed here) with the
 * same command line (`insert -m -f NAME`, `show NAME`, `rm -f NAME`): it keeps
 * entries as `$PASSWORD_STORE_DIR/NAME.gpg` and appends its argv to
 * `$PASS_ARGV_LOG`, so tests can check that no secret reaches argv.
 */
export const FAKE_PASS = `#!/bin/sh
echo "$@" >> "$PASS_ARGV_LOG"
cmd=$1; shift
case "$cmd" in
  insert) name=$3; mkdir -p "$(dirname "$PASSWORD_STORE_DIR/$name")"; cat > "$PASSWORD_STORE_DIR/$name.gpg" ;;
  show) cat "$PASSWORD_STORE_DIR/$1.gpg" ;;
  rm) rm "$PASSWORD_STORE_DIR/$2.gpg" ;;
  *) exit 2 ;;
esac
`;
