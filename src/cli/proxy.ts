import { Option, type Command } from 'commander';
import type { RegisterCommand } from './host.ts';
import { UsageError } from '../errors.ts';

/**
 * `aws-vault proxy` (hidden, internal): the privileged helper of
 * `exec --ec2-server`, started as root by the EC2 server. It aliases
 * 169.254.169.254 on loopback, listens on port 80 and forwards to the
 * unprivileged server given by `--target`, until its stdin closes. Where
 * it listens is fixed, not an option: sudoers rules allow `aws-vault proxy *`,
 * and an address or port of the caller's choosing would let them alias any
 * address as root (8.8.8.8) and take any privileged port. `--stop`, as in the
 * Go aws-vault, stops a Go aws-vault's proxy left running there.
 */
export const registerProxy: RegisterCommand = (program: Command, host) => {
  const cmd = program
    .command('proxy', { hidden: true })
    .alias('server')
    .description('Internal: forward 169.254.169.254:80 to the EC2 credential server (run as root)')
    .option('--target <host:port>', 'loopback address of the EC2 credential server')
    .option('--stop', "stop the Go aws-vault's proxy running on 169.254.169.254:80")
    .addOption(new Option('--parent-pid <pid>', 'stop when this process exits').hideHelp());
  cmd.action(async () => {
    await host.run(cmd, async (ctx) => {
      const opts = cmd.opts<{ target?: string; parentPid?: string; stop?: boolean }>();
      if (opts.stop === true) {
        if (opts.target !== undefined || opts.parentPid !== undefined) {
          throw new UsageError('--stop takes no --target or --parent-pid');
        }
        const { stopProxy, PROXY_WHERE } = await import('../server/stopProxy.ts');
        const result = await stopProxy({ debug: ctx.debug });
        ctx.io.stderr.write(
          result === 'stopped'
            ? `Stopped the proxy on ${PROXY_WHERE}.\n`
            : `No proxy is running on ${PROXY_WHERE}; nothing to stop.\n`,
        );
        return;
      }
      if (opts.target === undefined) {
        // The Go aws-vault told its users to run `sudo aws-vault proxy &`.
        throw new UsageError(
          'needs --target: `aws-vault exec --ec2-server` starts this proxy itself (as root, with ' +
            "sudo -n if needed), so there is no need to run it; to stop a Go aws-vault's proxy, " +
            'run `aws-vault proxy --stop`',
        );
      }
      const parentPid = opts.parentPid === undefined ? undefined : Number(opts.parentPid);
      if (parentPid !== undefined && !Number.isInteger(parentPid)) {
        throw new UsageError(`--parent-pid must be a process id, got "${opts.parentPid}"`);
      }
      const [{ runProxy }, { METADATA_ADDRESS }] = await Promise.all([
        import('../server/proxy.ts'),
        import('../server/privilegedProxy.ts'),
      ]);
      await runProxy({
        target: opts.target,
        listenAddress: METADATA_ADDRESS,
        listenPort: 80,
        parentPid,
        stdin: ctx.io.stdin,
        ready: () => ctx.io.stdout.write('ready\n'),
        debug: ctx.debug,
      });
    });
  });
};
