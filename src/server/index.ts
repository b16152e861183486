/**
 * The local credential servers of `exec --ecs-server` and `exec --ec2-server`.
 * `exec` starts one, adds `env` to the child's environment and calls
 * `close()` when the child exits.
 */
export type { Ec2ServerOptions, RunningServer, ServerOptions } from './types.ts';
export { startEcsServer } from './ecsServer.ts';
export { startEc2Server, parseLoopbackAddress } from './ec2Server.ts';
