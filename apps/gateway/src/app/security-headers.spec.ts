import { isDocsUrl } from './security-headers';

describe(isDocsUrl.name, () => {
  it.each(['/docs', '/docs/', '/docs?x=1', '/docs/openapi.json', '/docs/swagger-ui-bundle.js'])(
    'should take %s for a documentation page',
    (url) => expect(isDocsUrl(url)).toBe(true),
  );

  it.each(['/', '/docsx', '/docs.json', '/api/docs', '/health', '/orders?docs'])(
    'should take %s for an API answer',
    (url) => expect(isDocsUrl(url)).toBe(false),
  );
});
