import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Headers } from '@baton/contracts';
import { BEARER } from './api-docs.decorators';

/** Where the browsable documentation is served; the document is under it, as `openapi.json`. */
export const DOCS_PATH = 'docs';

/** The gateway's OpenAPI document, from its controllers and the DTOs of `@baton/contracts`. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Baton gateway')
    .setDescription(
      'The HTTP edge of Baton. Errors are `{statusCode, error, message}`; unknown JSON fields are ' +
        'refused with 400. Every answer carries an `X-Request-Id` header: the one the request ' +
        'sent when it is 1-128 letters, digits or `._:-`, otherwise a new one.',
    )
    .setVersion('1')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'An access token from POST /auth/login or /auth/refresh.',
      },
      BEARER,
    )
    .addGlobalParameters({
      name: Headers.requestId,
      in: 'header',
      required: false,
      description: 'Correlates the logs of every service that handles the request.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
    })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Serves the document at `/docs/openapi.json` (and `.yaml`) and Swagger UI at `/docs`. These are
 * plain Fastify routes, outside Nest's guards: public, like the document they describe.
 */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup(DOCS_PATH, app, createOpenApiDocument(app), {
    jsonDocumentUrl: `${DOCS_PATH}/openapi.json`,
    yamlDocumentUrl: `${DOCS_PATH}/openapi.yaml`,
    customSiteTitle: 'Baton API',
  });
}
