/**
 * Runs the test token server as a process of its own, so it outlives the test file that started
 * it. Its settings come from the JSON file named by REGTOOL_TOKEN_SERVER_CONFIG.
 */
import { readFileSync } from 'node:fs';

import { createTokenServer, type KeyHint } from './token-server.js';

interface TokenServerConfig {
  port: number;
  issuer: string;
  service: string;
  username: string;
  password: string;
  keyFile: string;
  certFile: string;
  keyHint: KeyHint;
}

const configFile = process.env.REGTOOL_TOKEN_SERVER_CONFIG;
if (configFile === undefined) {
  throw new Error('REGTOOL_TOKEN_SERVER_CONFIG must name the token server settings file');
}
const config = JSON.parse(readFileSync(configFile, 'utf8')) as TokenServerConfig;

const server = createTokenServer({
  ...config,
  privateKeyPem: readFileSync(config.keyFile, 'utf8'),
  certificatePem: readFileSync(config.certFile, 'utf8'),
});
server.on('request', (request, response) => {
  // The query holds the account name and scopes only; credentials travel in a header.
  response.on('finish', () =>
    console.log(`${request.method} ${request.url} ${response.statusCode}`),
  );
});
server.listen(config.port, '127.0.0.1', () => {
  console.log(`token server listening on 127.0.0.1:${config.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
