// Benchmark only (never a production switch): replaces the Baton guard (token and roles) with a
// pass-through that trusts the token's claims without verifying anything, to measure what
// authentication costs.
const { join } = require('node:path');
const { JwtAuthGuard, IS_PUBLIC_KEY, bindCallContextOf, callContextOf } = require('@baton/auth');
const { setAuthenticated } = require(
  join(__dirname, '../../dist/libs/auth/src/lib/context/principal-slot.js'),
);

JwtAuthGuard.prototype.canActivate = function canActivate(ctx) {
  const callContext = callContextOf(ctx);
  bindCallContextOf(callContext);
  if (this.reflector.getAllAndOverride(IS_PUBLIC_KEY, [ctx.getHandler(), ctx.getClass()])) {
    return true;
  }
  const authorization =
    ctx.getType() === 'rpc'
      ? ctx.switchToRpc().getContext().getHeaders()?.get('authorization')
      : ctx.switchToHttp().getRequest().headers.authorization;
  const match = /^Bearer (.+)$/.exec(authorization || '');
  if (match) {
    const principal = JSON.parse(Buffer.from(match[1].split('.')[1], 'base64url').toString());
    setAuthenticated(ctx, { principal, token: match[1] });
    callContext.principal = principal;
    callContext.token = match[1];
  }
  return true;
};
