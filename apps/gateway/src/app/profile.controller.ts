import { Body, Controller, Get, Param, ParseUUIDPipe, Patch } from '@nestjs/common';
import { Subjects, UpdateProfileDto } from '@baton/contracts';
import type { ProfileView } from '@baton/contracts';
import { BatonClient, Roles } from '@baton/auth';

@Controller()
export class ProfileController {
  constructor(private readonly client: BatonClient) {}

  @Get('profile/me')
  me(): Promise<ProfileView> {
    return this.client.send(Subjects.profile.get, {});
  }

  @Patch('profile/me')
  update(@Body() dto: UpdateProfileDto): Promise<ProfileView> {
    return this.client.send(Subjects.profile.update, dto);
  }

  @Roles('admin')
  @Get('profiles/:userId')
  get(@Param('userId', new ParseUUIDPipe({ version: '4' })) userId: string): Promise<ProfileView> {
    return this.client.send(Subjects.profile.get, { userId });
  }
}
