import { IsBoolean, IsInt, IsString, Max, Min } from 'class-validator';
import { Transform, Type } from 'class-transformer';

export class GatewayEnv {
  @Type(() => Number)
  @IsInt({ message: 'GATEWAY_PORT must be a port number' })
  @Min(0)
  @Max(65_535)
  GATEWAY_PORT = 3000;

  @IsString()
  GATEWAY_HOST = '127.0.0.1';

  /** Trust X-Forwarded-For from a proxy in front of the gateway (for client addresses). */
  @Transform(({ value }) => value === true || value === 'true' || value === '1')
  @IsBoolean()
  TRUST_PROXY = false;

  /** The largest request body accepted, in bytes. */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 64 * 1024;
}
