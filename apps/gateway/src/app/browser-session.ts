import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ForbiddenException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenPair } from '@baton/contracts';

/**
 * Cookie mode for browser apps. The refresh token lives in an HttpOnly cookie scoped to /auth
 * (script cannot read it, and it only travels to /auth/*); the access token stays in the page's
 * memory. Refresh and logout then take the refresh token from the cookie, and because a browser
 * attaches cookies to cross-site requests too, they also demand a double-submit proof: the
 * `X-CSRF-Token` header must equal the `baton_csrf` cookie. A cross-site page can neither read that
 * cookie nor send a custom header without a CORS preflight that the allowlist refuses.
 */
export const REFRESH_COOKIE = 'baton_refresh';
export const CSRF_COOKIE = 'baton_csrf';
export const CSRF_HEADER = 'x-csrf-token';
/** The refresh cookie travels only to the auth routes. */
export const REFRESH_COOKIE_PATH = '/auth';
/** The CSRF cookie must be readable by the page, wherever it is. */
export const CSRF_COOKIE_PATH = '/';

/** What a cookie-mode login or refresh answers: the refresh token is in the cookie only. */
export type BrowserTokens = Omit<TokenPair, 'refreshToken'>;

const cookieOptions = (path: string, httpOnly: boolean, maxAge?: number) =>
  ({ path, httpOnly, secure: true, sameSite: 'strict', ...(maxAge ? { maxAge } : {}) }) as const;

/** The refresh token from the cookie, when the request carries one. */
export function refreshCookie(request: FastifyRequest): string | undefined {
  const value = request.cookies?.[REFRESH_COOKIE];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** 403 unless the X-CSRF-Token header equals the baton_csrf cookie (compared in constant time). */
export function assertCsrfProof(request: FastifyRequest): void {
  const cookie = request.cookies?.[CSRF_COOKIE];
  const header = request.headers[CSRF_HEADER];
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const valid =
    typeof cookie === 'string' &&
    cookie !== '' &&
    typeof header === 'string' &&
    timingSafeEqual(digest(cookie), digest(header));
  if (!valid) {
    throw new ForbiddenException(
      `Cookie-mode requests need the ${CSRF_COOKIE} cookie's value in the X-CSRF-Token header`,
    );
  }
}

/**
 * Puts the pair's refresh token in the refresh cookie, with a fresh CSRF value in the readable
 * cookie and in the X-CSRF-Token response header (for pages on another origin of the same site,
 * which cannot read the API's cookies), and returns the body without the refresh token.
 */
export function issueBrowserSession(
  reply: FastifyReply,
  pair: TokenPair,
  maxAgeSeconds: number,
): BrowserTokens {
  const csrf = randomBytes(32).toString('base64url');
  void reply.setCookie(
    REFRESH_COOKIE,
    pair.refreshToken,
    cookieOptions(REFRESH_COOKIE_PATH, true, maxAgeSeconds),
  );
  void reply.setCookie(CSRF_COOKIE, csrf, cookieOptions(CSRF_COOKIE_PATH, false, maxAgeSeconds));
  void reply.header(CSRF_HEADER, csrf);
  return { accessToken: pair.accessToken, tokenType: pair.tokenType, expiresIn: pair.expiresIn };
}

/** Expires both cookies (Max-Age=0, on the paths they were set with). */
export function clearBrowserSession(reply: FastifyReply): void {
  void reply.clearCookie(REFRESH_COOKIE, cookieOptions(REFRESH_COOKIE_PATH, true));
  void reply.clearCookie(CSRF_COOKIE, cookieOptions(CSRF_COOKIE_PATH, false));
}
