/**
 * Prints a token the local runtime's HTTP API accepts, for trying the agent API with curl.
 *
 *   node --import tsx scripts/local-token.ts --role supervisor --department billing [--agent-id sup_1]
 *   node --import tsx scripts/local-token.ts --role admin --json        # token and claims as JSON
 *
 * Why a script: the agent API is behind a JWT authorizer, and locally the issuer is
 * infra/local/jwt.ts with its key in `.local/jwt-key.json` — the same file `npm start` uses, so a
 * token printed here is valid against a running local runtime (and after restarts). `--key-dir`
 * (or $COMPLAINTS_LOCAL_JWT_DIR) points at another key directory, e.g. a test's temporary one.
 */
import { parseArgs } from 'node:util';
import { createLocalIssuer, LOCAL_ROLES, type LocalRole } from '../infra/local/jwt';

const USAGE = `Usage: node --import tsx scripts/local-token.ts --role <${LOCAL_ROLES.join('|')}> [--department <dept>]
       [--agent-id <id>] [--sub <sub>] [--expires-in <seconds>] [--key-dir <dir>] [--json]`;

function main(): void {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', short: 'r' },
      department: { type: 'string', short: 'd' },
      'agent-id': { type: 'string' },
      sub: { type: 'string' },
      'expires-in': { type: 'string' },
      'key-dir': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const role = values.role;
  if (role === undefined || !(LOCAL_ROLES as readonly string[]).includes(role)) {
    throw new Error(`--role must be one of ${LOCAL_ROLES.join(', ')}\n${USAGE}`);
  }
  if (role !== 'admin' && values.department === undefined) {
    // The agent API answers 403 to an agent or supervisor without a department; say so now.
    console.error(`warning: a ${role} token without --department is refused by the agent API (403)`);
  }
  let expiresInSeconds: number | undefined;
  if (values['expires-in'] !== undefined) {
    expiresInSeconds = Number(values['expires-in']);
    if (!Number.isInteger(expiresInSeconds)) throw new Error('--expires-in must be an integer (seconds)');
  }

  const issuer = createLocalIssuer(values['key-dir'] === undefined ? {} : { dir: values['key-dir'] });
  const token = issuer.tokenFor({
    role: role as LocalRole,
    ...(values.department === undefined ? {} : { department: values.department }),
    ...(values['agent-id'] === undefined ? {} : { agentId: values['agent-id'] }),
    ...(values.sub === undefined ? {} : { sub: values.sub }),
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
  });
  if (values.json) {
    console.log(JSON.stringify({ token, claims: issuer.verify(token), keyFile: issuer.keyFile }, null, 2));
  } else {
    console.log(token);
  }
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
