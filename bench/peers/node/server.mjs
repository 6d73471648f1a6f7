// node-oidc-provider 9.x peer for Trustframe's benchmark: client credentials only, RS256 JWT access
// tokens (resource indicators, accessTokenFormat 'jwt'), in-memory adapter, one process.
//
//   node server.mjs PORT SECRET
//
// Two confidential clients with the same secret: `bench-basic` (client_secret_basic) and `bench-post`
// (client_secret_post); node-oidc-provider allows one token_endpoint_auth_method per client.
// Resource https://api.bench.test with scopes app.read app.write (the roles Trustframe's daemon gets).
import { generateKeyPairSync } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.argv[2] || 8200);
const secret = process.argv[3] || 'bench-secret-please-change-0123456789abcdef';
export const RESOURCE = 'https://api.bench.test';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', use: 'sig', alg: 'RS256' };

const client = (id, method) => ({
  client_id: id,
  client_secret: secret,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: method,
});

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [client('bench-basic', 'client_secret_basic'), client('bench-post', 'client_secret_post')],
  jwks: { keys: [jwk] },
  cookies: { keys: ['bench-cookie-key-0123456789'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: 'app.read app.write',
          audience: RESOURCE,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});
provider.proxy = false;

provider.listen(port, '127.0.0.1', () => {
  console.log(`node-oidc-provider ${provider.issuer} ready`);
});
