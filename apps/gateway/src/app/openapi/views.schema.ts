import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { AUDIT_EVENT_TYPES, OrderItemDto, ROLES } from '@baton/contracts';
import type {
  AuditEventType,
  AuditEventView,
  ErrorBody,
  Jwks,
  OrderStatus,
  OrderView,
  ProfileView,
  PublicJwk,
  Role,
  TokenPair,
  UserView,
} from '@baton/contracts';

// The answers of the gateway, for the OpenAPI document only: the contracts declare them as
// interfaces, which leave nothing at run time to describe. `implements` keeps the two in step.

@ApiSchema({ name: 'ErrorBody' })
export class ErrorBodySchema implements ErrorBody {
  @ApiProperty({ type: 'integer', example: 400 })
  statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  error: string;

  @ApiProperty({ example: 'email must be a valid email address' })
  message: string;
}

@ApiSchema({ name: 'UserView' })
export class UserViewSchema implements UserView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'email' })
  email: string;

  @ApiProperty({ enum: [...ROLES], isArray: true })
  roles: Role[];
}

@ApiSchema({ name: 'TokenPair' })
export class TokenPairSchema implements TokenPair {
  @ApiProperty({ description: 'A JWS (`typ: at+jwt`); send it as `Authorization: Bearer …`.' })
  accessToken: string;

  @ApiProperty({
    description: 'Opaque; every use rotates it, and reusing a rotated one ends the session.',
  })
  refreshToken: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';

  @ApiProperty({ description: 'Seconds until the access token expires.', example: 900 })
  expiresIn: number;
}

@ApiSchema({ name: 'PublicJwk' })
export class PublicJwkSchema implements PublicJwk {
  @ApiProperty({ example: 'RSA' })
  kty: string;

  @ApiProperty()
  kid: string;

  @ApiProperty({ example: 'RS256' })
  alg: string;

  @ApiProperty({ enum: ['sig'] })
  use: 'sig';

  @ApiPropertyOptional()
  n?: string;

  @ApiPropertyOptional()
  e?: string;

  @ApiPropertyOptional()
  crv?: string;

  @ApiPropertyOptional()
  x?: string;

  @ApiPropertyOptional()
  y?: string;
}

@ApiSchema({ name: 'Jwks' })
export class JwksSchema implements Jwks {
  @ApiProperty({ type: [PublicJwkSchema], description: 'Public keys only.' })
  keys: PublicJwk[];
}

@ApiSchema({ name: 'ProfileView' })
export class ProfileViewSchema implements ProfileView {
  @ApiProperty({ format: 'uuid' })
  userId: string;

  @ApiProperty({ type: String, nullable: true })
  displayName: string | null;

  @ApiProperty({ type: String, nullable: true })
  shippingAddress: string | null;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

@ApiSchema({ name: 'OrderView' })
export class OrderViewSchema implements OrderView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid', description: 'The owner, taken from the access token.' })
  userId: string;

  @ApiProperty({ type: [OrderItemDto] })
  items: OrderItemDto[];

  @ApiProperty({ example: 25 })
  total: number;

  @ApiProperty({ enum: ['placed'] })
  status: OrderStatus;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "Copied from the owner's profile when the order was placed.",
  })
  shippingAddress: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

@ApiSchema({ name: 'AuditEventView' })
export class AuditEventViewSchema implements AuditEventView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: [...AUDIT_EVENT_TYPES] })
  type: AuditEventType;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Whom the event is about: a user id, or `svc:<name>` for a service token.',
  })
  userId: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Who caused the event: the verified caller (the acting admin for admin actions, the user ' +
      'for their own login, refresh and logout, the service for its own token); null when no ' +
      'one was authenticated, as for registration or a failed login.',
  })
  actorId: string | null;

  @ApiProperty({ type: String, nullable: true })
  sessionId: string | null;

  @ApiProperty({ type: String, nullable: true })
  requestId: string | null;

  @ApiProperty({ type: String, nullable: true })
  clientIp: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  detail: Record<string, unknown> | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

@ApiSchema({ name: 'RotatedKey' })
export class RotatedKeySchema {
  @ApiProperty({ description: 'The id of the new signing key.' })
  kid: string;
}

@ApiSchema({ name: 'HealthReport' })
export class HealthReportSchema {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'] })
  status: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', enum: ['up', 'down'] },
    example: { nats: 'up', auth: 'up', orders: 'up', profile: 'up' },
    description: 'NATS and each service, `up` when the service answered with its database up.',
  })
  checks: Record<string, 'up' | 'down'>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: true },
    example: {
      nats: { status: 'up' },
      auth: { status: 'up', database: 'up' },
      orders: { status: 'down', message: 'The orders service is unavailable' },
    },
    description: "Each dependency's own report: for a service, its database.",
  })
  details: Record<string, Record<string, unknown>>;

  @ApiPropertyOptional({
    type: 'integer',
    example: 503,
    description: 'Only on 503, as on every error.',
  })
  statusCode?: number;

  @ApiPropertyOptional({ example: 'Service Unavailable' })
  error?: string;

  @ApiPropertyOptional({ example: 'Some dependencies are down' })
  message?: string;
}
