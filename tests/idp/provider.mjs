// A real OpenID Provider (oidc-provider, certified) for the identity tests.
//
// Started on loopback by tests/idp/fixture.py with its configuration in IDP_CONFIG (JSON):
//   { "port": 0, "audience": "...", "other_audience": "...", "keys": [<private JWKs>],
//     "accounts": { "<login>": { "email": ..., "name": ..., "groups": [...] } },
//     "clients": [<oidc-provider client metadata>], "short_lived_clients": ["..."] }
// It prints one line, "listening <issuer>", once it accepts requests. Access tokens are
// JWTs (RFC 9068) for the registry's audience, carrying the account's email, name and
// groups; a client-credentials token's sub is its client id, so the registry can tell a
// machine from a person. Device flow and client credentials are on; logins go through
// the provider's development interactions, which the tests drive like a browser would.
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.IDP_CONFIG);
const shortLived = new Set(config.short_lived_clients ?? []);
const resources = new Set([config.audience, config.other_audience].filter(Boolean));

const server = http.createServer();
await new Promise((resolve) => server.listen(config.port ?? 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: config.keys },
  findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, name: account.name, groups: account.groups };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups', 'registry'],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.audience,
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, indicator) {
        if (!resources.has(indicator)) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'registry',
          audience: indicator,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  async extraTokenClaims(ctx, token) {
    const account = token.accountId && config.accounts[token.accountId];
    if (!account) return undefined;
    return { email: account.email, name: account.name, groups: account.groups };
  },
  issueRefreshToken: (ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    // The test users consent once for everything the registry's client asks.
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid offline_access email profile groups');
    grant.addResourceScope(config.audience, 'registry');
    await grant.save();
    return grant;
  },
  ttl: {
    ClientCredentials: (ctx, token, client) => (shortLived.has(client.clientId) ? 1 : 600),
    AccessToken: (ctx, token, client) => (shortLived.has(client.clientId) ? 1 : 600),
    DeviceCode: 600,
    RefreshToken: 3600,
    Grant: 3600,
    Interaction: 600,
    Session: 3600,
  },
  pkce: { required: () => false },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

server.on('request', provider.callback());
console.log(`listening ${issuer}`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
