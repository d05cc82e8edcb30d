import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { LoginDto, LogoutDto, RefreshDto, RegisterDto, Subjects } from '@baton/contracts';
import type { Jwks, TokenPair, UserView } from '@baton/contracts';
import { BatonClient, Public, RevocationStore, strictValidationPipe } from '@baton/auth';
import {
  assertCsrfProof,
  clearBrowserSession,
  issueBrowserSession,
  refreshCookie,
} from './browser-session';
import type { BrowserTokens } from './browser-session';
import { GatewayEnv } from './gateway.env';
import { ApiErrors, ApiSignedIn } from './openapi/api-docs.decorators';
import { JwksSchema, TokenPairSchema, UserViewSchema } from './openapi/views.schema';

@ApiTags('auth')
@ApiErrors(503)
@Controller()
export class AuthController {
  constructor(
    private readonly client: BatonClient,
    private readonly revocations: RevocationStore,
    private readonly env: GatewayEnv,
  ) {}

  @ApiOperation({ summary: 'Create an account with the user role' })
  @ApiCreatedResponse({ type: UserViewSchema })
  @ApiErrors(
    400,
    [409, 'The email is taken'],
    [429, 'Too many registrations from this address; see Retry-After'],
  )
  @Public()
  @Post('auth/register')
  register(@Body() dto: RegisterDto): Promise<UserView> {
    return this.client.send(Subjects.auth.register, dto);
  }

  @ApiOperation({
    summary: 'Exchange an email and password for an access and a refresh token',
    description:
      'With `?mode=cookie` (browser apps) the refresh token is set in the HttpOnly cookie ' +
      '`baton_refresh` (Secure, SameSite=Strict, Path=/auth) and is not in the body; a CSRF value ' +
      'comes in the readable cookie `baton_csrf` and the `X-CSRF-Token` response header.',
  })
  @ApiOkResponse({ type: TokenPairSchema })
  @ApiQuery({ name: 'mode', required: false, enum: ['cookie'] })
  @ApiErrors(
    400,
    [401, 'Unknown email or wrong password: the same answer for both'],
    [429, 'Too many failed logins for this account or address; see Retry-After'],
  )
  @Public()
  @HttpCode(200)
  @Post('auth/login')
  async login(
    @Body() dto: LoginDto,
    @Query('mode') mode: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenPair | BrowserTokens> {
    if (mode !== undefined && mode !== 'cookie') {
      throw new BadRequestException('mode must be cookie when given');
    }
    const pair = await this.client.send<TokenPair>(Subjects.auth.login, dto);
    return mode === 'cookie' ? issueBrowserSession(reply, pair, this.env.REFRESH_TOKEN_TTL) : pair;
  }

  @ApiOperation({
    summary: 'Exchange a refresh token for a new pair (the old one is spent)',
    description:
      'When the `baton_refresh` cookie is present the token is taken from it (the body is ' +
      'ignored), the `X-CSRF-Token` header must equal the `baton_csrf` cookie, and both cookies ' +
      'are rotated; the body then has no refresh token.',
  })
  @ApiOkResponse({ type: TokenPairSchema })
  @ApiBody({ type: RefreshDto })
  @ApiErrors(
    400,
    [401, 'The refresh token is expired, revoked or reused'],
    [403, 'Cookie mode without a matching X-CSRF-Token header'],
  )
  @Public()
  @HttpCode(200)
  @Post('auth/refresh')
  async refresh(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenPair | BrowserTokens> {
    const cookie = refreshCookie(request);
    if (cookie !== undefined) {
      assertCsrfProof(request);
      const pair = await this.client.send<TokenPair>(Subjects.auth.refresh, {
        refreshToken: cookie,
      });
      return issueBrowserSession(reply, pair, this.env.REFRESH_TOKEN_TTL);
    }
    // The body is validated here, not by the global pipe, because cookie mode has none.
    const dto = (await strictValidationPipe().transform(request.body, {
      type: 'body',
      metatype: RefreshDto,
    })) as RefreshDto;
    return this.client.send(Subjects.auth.refresh, dto);
  }

  /** 204 only once this gateway's copy of the revocation list holds the logout. */
  @ApiOperation({ summary: 'End the session: its access token is refused everywhere from now on' })
  @ApiNoContentResponse({ description: 'The access token and its session are revoked' })
  @ApiSignedIn()
  @ApiErrors(400, [403, 'Cookie mode without a matching X-CSRF-Token header'])
  @HttpCode(204)
  @Post('auth/logout')
  async logout(
    @Body() dto: LogoutDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    // In cookie mode the refresh token comes from the cookie, behind the CSRF proof.
    const cookie = refreshCookie(request);
    if (cookie !== undefined) {
      assertCsrfProof(request);
    }
    const { revocationSeq } = await this.client.send<{ revocationSeq: number }>(
      Subjects.auth.logout,
      cookie !== undefined ? { refreshToken: cookie } : dto,
    );
    if (cookie !== undefined) {
      clearBrowserSession(reply);
    }
    await this.revocations.waitForSequence(revocationSeq);
  }

  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserViewSchema })
  @ApiSignedIn()
  @Get('auth/me')
  me(): Promise<UserView> {
    return this.client.send(Subjects.auth.me, {});
  }

  @ApiOperation({ summary: 'The public keys that verify access tokens' })
  @ApiOkResponse({ type: JwksSchema })
  @Public()
  @Get('.well-known/jwks.json')
  jwks(): Promise<Jwks> {
    return this.client.send(Subjects.auth.jwks, {});
  }
}
