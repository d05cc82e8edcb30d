import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { DOCS_PATH } from './openapi/openapi.setup';

type SetHeaders = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

const HSTS = { maxAge: 31_536_000, includeSubDomains: true };

/**
 * The headers of an API answer (JSON, or no body), as OWASP's REST Security Cheat Sheet gives
 * them: nothing in it may be cached, framed, sniffed as another type, or run as a page. The
 * headers that only a browser rendering HTML reads (`Cross-Origin-Opener-Policy`,
 * `Origin-Agent-Cluster`, `X-DNS-Prefetch-Control`, `X-Download-Options`,
 * `X-Permitted-Cross-Domain-Policies`, `X-XSS-Protection`) are left to the documentation's pages.
 */
function apiHeaders(https: boolean): SetHeaders {
  const helmetHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    strictTransportSecurity: https ? HSTS : false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: { action: 'deny' },
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  return (req, res, next) => {
    // Tokens travel in answers (login, refresh): no cache keeps them. A handler may say otherwise.
    res.setHeader('Cache-Control', 'no-store');
    helmetHeaders(req, res, next);
  };
}

/**
 * The headers of the documentation's pages (Swagger UI at `/docs`): helmet's defaults, whose
 * Content-Security-Policy allows what Swagger UI needs (its own scripts, inline styles, data:
 * images) and nothing from other origins.
 */
function pageHeaders(https: boolean): SetHeaders {
  return helmet({
    // Over plain HTTP, upgrading the page's requests to https would break Swagger UI.
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: https ? [] : null } },
    strictTransportSecurity: https ? HSTS : false,
  });
}

const DOCS = `/${DOCS_PATH}`;

/** Whether a request URL (path and query) is under the documentation. */
export function isDocsUrl(url: string): boolean {
  return (
    url.startsWith(DOCS) &&
    (url.length === DOCS.length || url[DOCS.length] === '/' || url[DOCS.length] === '?')
  );
}

/**
 * Sets the security headers of every answer: the API's set, or the documentation pages' set under
 * `/docs`. HSTS only when this process serves HTTPS. Both are built once: `@fastify/helmet` built
 * helmet again, parsing the policy, for every request.
 */
export function securityHeaders(https: boolean): SetHeaders {
  const api = apiHeaders(https);
  const pages = pageHeaders(https);
  return (req, res, next) => (isDocsUrl(req.url ?? '') ? pages : api)(req, res, next);
}
