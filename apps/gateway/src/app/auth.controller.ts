import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { LoginDto, LogoutDto, RefreshDto, RegisterDto, Subjects } from '@baton/contracts';
import type { Jwks, TokenPair, UserView } from '@baton/contracts';
import { BatonClient, Public, RevocationStore } from '@baton/auth';

@Controller()
export class AuthController {
  constructor(
    private readonly client: BatonClient,
    private readonly revocations: RevocationStore,
  ) {}

  @Public()
  @Post('auth/register')
  register(@Body() dto: RegisterDto): Promise<UserView> {
    return this.client.send(Subjects.auth.register, dto);
  }

  @Public()
  @HttpCode(200)
  @Post('auth/login')
  login(@Body() dto: LoginDto): Promise<TokenPair> {
    return this.client.send(Subjects.auth.login, dto);
  }

  @Public()
  @HttpCode(200)
  @Post('auth/refresh')
  refresh(@Body() dto: RefreshDto): Promise<TokenPair> {
    return this.client.send(Subjects.auth.refresh, dto);
  }

  /** 204 only once this gateway's copy of the revocation list holds the logout. */
  @HttpCode(204)
  @Post('auth/logout')
  async logout(@Body() dto: LogoutDto): Promise<void> {
    const { revocationSeq } = await this.client.send<{ revocationSeq: number }>(
      Subjects.auth.logout,
      dto,
    );
    await this.revocations.waitForSequence(revocationSeq);
  }

  @Get('auth/me')
  me(): Promise<UserView> {
    return this.client.send(Subjects.auth.me, {});
  }

  @Public()
  @Get('.well-known/jwks.json')
  jwks(): Promise<Jwks> {
    return this.client.send(Subjects.auth.jwks, {});
  }
}
